"""A client under a rate limit: wall time against the floor the limit sets, and every call's fate.

The emulator (its own process) limits requests with a token bucket of `--per-minute` requests,
refilled at `--per-minute`/60 per second, and answers 429 with `Retry-After` when it is empty.
Two cases, each on a fresh bucket:

* `sequential`: `--imports` imports one after the other on one `Client` (upload, start, wait);
* `coroutines`: `--coroutines` coroutines x `--calls` calls (`files.list()`, one GET each) on one
  `AsyncClient`.

The floor is the time the bucket needs to let the accepted requests through:
max(0, accepted - bucket) / rate, where accepted counts every request the emulator answered
(all of them, 429s excepted). The client's retry policy is the default one.

Run (from the repository root):

    .venv/bin/python benchmarks/client_rate_limit.py [--imports 200] [--coroutines 20]
        [--calls 10] [--per-minute 60]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from _client_common import DEMO_PASSWORD, DEMO_USER, Emulator, arguments, emulator, our_client

from anaplan_tasks import AnaplanError, AsyncClient


def csv_of(number: int) -> bytes:
    return (
        '"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\n'
        f"E{number:07d},Person {number},NA,2020-01-01,true,1,1\n"
    ).encode()


def counts(emu: Emulator) -> tuple[int, int]:
    """(requests answered other than 429, 429s) since the counters were cleared."""
    answered = sum(emu.control("GET", "requests")["requests"].values())
    refused = int(emu.control("GET", "rate-limit")["refused"])
    return answered - refused, refused


def fresh_limit(emu: Emulator, per_minute: int) -> None:
    emu.control("DELETE", "requests")
    emu.control("PUT", "rate-limit", {"perMinute": per_minute, "retryAfter": True})


def report(case: str, calls: int, failed: int, wall: float, emu: Emulator, per_minute: int) -> None:
    accepted, refused = counts(emu)
    floor = max(0.0, accepted - per_minute) / (per_minute / 60.0)
    print(
        f"{case:<11} | {calls:>5} | {calls - failed:>9} | {accepted:>8} | {refused:>5} | "
        f"{floor:>8.1f} | {wall:>8.1f} | {wall - floor:>+7.1f}"
    )


def sequential(emu: Emulator, imports: int, per_minute: int) -> None:
    with our_client(emu, emu.dev_model_id) as client:
        client.imports.get("Load Employees")  # signed in before the clock starts
        fresh_limit(emu, per_minute)
        failed = 0
        began = time.monotonic()
        for number in range(imports):
            try:
                client.imports.run("Load Employees", csv_of(number))
            except AnaplanError as error:
                failed += 1
                print(f"  import {number}: {type(error).__name__}: {error}")
        wall = time.monotonic() - began
    report("sequential", imports, failed, wall, emu, per_minute)


async def coroutines(emu: Emulator, workers: int, calls: int, per_minute: int) -> None:
    settings: dict[str, Any] = {
        "base_url": emu.base_url,
        "email": DEMO_USER,
        "password": DEMO_PASSWORD,
        "workspace_id": emu.workspace_id,
        "model_id": emu.dev_model_id,
        "env": {},
    }
    async with AsyncClient(**settings) as client:
        await client.files.list()  # signed in before the clock starts
        fresh_limit(emu, per_minute)
        failures: list[str] = []

        async def worker() -> None:
            for _ in range(calls):
                try:
                    await client.files.list()
                except AnaplanError as error:
                    failures.append(f"{type(error).__name__}: {error}")

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(workers)))
        wall = time.monotonic() - began
    for failure in failures[:5]:
        print(f"  {failure}")
    report("coroutines", workers * calls, len(failures), wall, emu, per_minute)


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--imports", type=int, default=200)
    parser.add_argument("--coroutines", type=int, default=20)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--per-minute", type=int, default=60)
    parser.add_argument("--case", choices=["sequential", "coroutines", "both"], default="both")
    options = parser.parse_args()
    with emulator(options.emulator_python) as emu:
        print(f"rate limit: {options.per_minute}/min (bucket {options.per_minute})")
        print(
            f"{'case':<11} | {'calls':>5} | {'succeeded':>9} | {'accepted':>8} | {'429s':>5} | "
            f"{'floor s':>8} | {'wall s':>8} | {'over':>7}"
        )
        if options.case in ("coroutines", "both"):
            asyncio.run(coroutines(emu, options.coroutines, options.calls, options.per_minute))
        if options.case in ("sequential", "both"):
            sequential(emu, options.imports, options.per_minute)


if __name__ == "__main__":
    main()
