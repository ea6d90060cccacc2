"""A client under the emulator's rate limit: the server says when, the whole client waits.

The limits are small so the tests stay short; the full cases (200 sequential imports, 20
coroutines x 10 calls at 60/min) and their wall times against the floor are in
`benchmarks/client_rate_limit.py`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.api.ratelimit import RateLimit

from .conftest import FAST_RETRY, Emulator

PER_MINUTE = 120  # a bucket of 120 refilled at 2 per second
CALLS = 128  # with sign-in, 9 requests more than the bucket holds

# One attempt and no retry budget: a 429 that counted as a failed attempt, or drew on the budget,
# would fail its call at once.
STRICT = replace(FAST_RETRY, max_attempts=1, budget=0)


def refused(emulator: Emulator) -> int:
    return int(emulator.running.control.rate_limiter.snapshot()["refused"])


async def test_coroutines_on_one_async_client_all_succeed_paced_by_the_server(
    emulator: Emulator,
) -> None:
    emulator.running.control.set_rate_limit(RateLimit(PER_MINUTE))
    async with AsyncClient(**{**emulator.client_settings(), "retry": STRICT}) as client:

        async def worker() -> int:
            done = 0
            for _ in range(CALLS // 16):
                await client.files.list()
                done += 1
            return done

        results = await asyncio.gather(*(worker() for _ in range(16)))
    assert sum(results) == CALLS
    assert refused(emulator) > 0  # the limit was reached ...
    # ... and once the server said when, the coroutines waited together instead of each
    # finding out with a 429 of its own.
    assert refused(emulator) < 16  # fewer than one per coroutine


def test_threads_on_a_client_and_its_copy_all_succeed_paced_by_the_server(
    emulator: Emulator,
) -> None:
    emulator.running.control.set_rate_limit(RateLimit(PER_MINUTE))
    failures: list[BaseException] = []
    done: list[int] = []
    with (
        Client(**{**emulator.client_settings(), "retry": STRICT}) as client,
        client.with_model(emulator.model_id) as copy,
    ):

        def worker(target: Client) -> None:
            try:
                for _ in range(CALLS // 4):
                    target.files.list()
                    done.append(1)
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(c,)) for c in (client, client, copy, copy)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(done) == CALLS
    assert 0 < refused(emulator) < 10  # a few, not several per thread
