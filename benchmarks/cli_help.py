"""Benchmark: how long `anaplan-tasks --help` and `anaplan-tasks run --help` take (wall time).

Each is run N times as a fresh process (the way a person types it); prints the median and the
slowest. The goal for `--help` is 0.3 s on a loaded machine: the group lists its commands
without importing them, so neither the client (pydantic, httpx2) nor rich is loaded.

    python benchmarks/cli_help.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(arguments: list[str], runs: int) -> list[float]:
    """Seconds of each of `runs` fresh `python -m anaplan_tasks.cli ARGUMENTS` processes."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "anaplan_tasks.cli", *arguments],
            stdout=subprocess.DEVNULL,
            check=True,
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    for arguments in (["--help"], ["run", "--help"]):
        seconds = timed(arguments, runs)
        print(
            f"anaplan-tasks {' '.join(arguments)}: median {statistics.median(seconds):.3f} s, "
            f"slowest {max(seconds):.3f} s over {runs} runs"
        )


if __name__ == "__main__":
    main()
