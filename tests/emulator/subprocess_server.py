"""Run `python -m anaplan_tasks.emulator` as a real process for tests (start, kill -9, restart)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import anaplan_tasks

SOURCE_ROOT = Path(anaplan_tasks.__file__).resolve().parent.parent
ANNOUNCEMENT = re.compile(r"listening on (http://\S+)")
STARTUP_TIMEOUT = 60.0


class EmulatorProcess:
    """One emulator process; `base_url` is known once it announced itself."""

    def __init__(self, arguments: Sequence[str], *, env: Mapping[str, str] | None = None):
        environment = {**os.environ, **(env or {})}
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(SOURCE_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
        )
        # Everything the server prints (the announcement, the access log on stdout, errors on
        # stderr) goes to a file: a pipe nobody reads would fill up and block the server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "anaplan_tasks.emulator", "--port", "0", *arguments],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        self.base_url = self._wait_for_announcement()

    def _wait_for_announcement(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            match = ANNOUNCEMENT.search(self.log_text())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.02)  # waiting for another process to start, not for our own code
        self.process.kill()
        self.process.wait(timeout=30)
        raise RuntimeError(f"the emulator did not start:\n{self.log_text()}")

    def log_text(self) -> str:
        """What the server printed so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        """`kill -9`: no chance to clean up."""
        self.process.kill()
        self.process.wait(timeout=30)
        self.log.close()

    def terminate(self) -> int:
        """SIGTERM, then the exit status."""
        self.process.terminate()
        status = self.process.wait(timeout=30)
        self.log.close()
        return status
