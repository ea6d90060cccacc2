"""Run `python -m anaplan_tasks.emulator` as a real process for tests (start, kill -9, restart)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import anaplan_tasks

SOURCE_ROOT = Path(anaplan_tasks.__file__).resolve().parent.parent
ANNOUNCEMENT = re.compile(r"listening on (http://\S+)")


class EmulatorProcess:
    """One emulator process; `base_url` is known once it announced itself."""

    def __init__(self, arguments: Sequence[str]):
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(SOURCE_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
        )
        # The access log goes to stderr: a file, so a full pipe never blocks the server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "anaplan_tasks.emulator", "--port", "0", *arguments],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=environment,
        )
        self.base_url = self._wait_for_announcement()

    def _wait_for_announcement(self) -> str:
        assert self.process.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self.process.stdout is not None
            line = self.process.stdout.readline().decode()
            match = ANNOUNCEMENT.search(line)
            if match:
                found.append(match.group(1))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=60)
        if not found:
            self.process.kill()
            self.process.wait(timeout=30)
            raise RuntimeError(f"the emulator did not start:\n{self.log_text()}")
        return found[0]

    def log_text(self) -> str:
        """What the server wrote to stderr so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        """`kill -9`: no chance to clean up."""
        self.process.kill()
        self.process.wait(timeout=30)
        self._close_pipes()

    def terminate(self) -> int:
        """SIGTERM, then the exit status."""
        self.process.terminate()
        status = self.process.wait(timeout=30)
        self._close_pipes()
        return status

    def _close_pipes(self) -> None:
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()
