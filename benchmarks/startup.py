"""Start-up costs every user pays: importing the package, the CLI's help, and a pytest run of an
unrelated suite with the plugin installed (against the same run with the plugin off).

Each command runs `--runs` times in a fresh process; the best and the median wall time are shown.
The pytest fixture's own cost (the emulator's start once per session, a reset per test) is
measured in-process.

    PYTHONPATH=src .venv/bin/python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], runs: int, cwd: Path | None = None) -> tuple[float, float]:
    """Best and median wall seconds of `runs` runs of `command`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return min(times), statistics.median(times)


def fixture_costs(resets: int = 50) -> tuple[float, float, float]:
    """Seconds to import the emulator, to start it, and per test (a reset), in-process."""
    began = time.perf_counter()
    from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle
    from anaplan_tasks.emulator.server import run_emulator

    imported = time.perf_counter()
    with run_emulator(demo=True) as running:
        started = time.perf_counter()
        handle = EmulatorHandle(running)
        times = []
        for _ in range(resets):
            before = time.perf_counter()
            handle.reset()
            times.append(time.perf_counter() - before)
    return imported - began, started - imported, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    python = sys.executable
    cli = str(Path(python).with_name("anaplan-tasks"))
    with tempfile.TemporaryDirectory() as scratch:
        suite = Path(scratch)
        (suite / "test_unrelated.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        pytest = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        rows = [
            ("python -c pass", [python, "-c", "pass"], None),
            ("import anaplan_tasks", [python, "-c", "import anaplan_tasks"], None),
            (
                "from anaplan_tasks import Client",
                [python, "-c", "from anaplan_tasks import Client"],
                None,
            ),
            ("anaplan-tasks --help", [cli, "--help"], None),
            ("pytest, plugin off", [*pytest, "-p", "no:anaplan_tasks_emulator"], suite),
            ("pytest, plugin installed", pytest, suite),
        ]
        print(f"{'command':<34} | {'best':>7} | {'median':>7}")
        for name, command, cwd in rows:
            best, median = timed(command, options.runs, cwd)
            print(f"{name:<34} | {best:>6.3f}s | {median:>6.3f}s", flush=True)
    imported, started, reset = fixture_costs()
    print(
        f"fixture: import {imported:.3f}s and start {started:.3f}s once per session, "
        f"then {reset * 1000:.1f} ms per test (median reset)"
    )


if __name__ == "__main__":
    main()
