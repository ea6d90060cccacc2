"""Tasks queued on one model: a wait holds its reads while a task ahead of it, watched by the
same client, still runs (Anaplan starts the next one only when it ends)."""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from anaplan_tasks.client import AsyncClient, Client, ProgressUpdate

from .conftest import Emulator

TASKS = 5
SECONDS_EACH = 1.5


def _queued_reads(updates: list[ProgressUpdate]) -> Counter[str]:
    return Counter(u.task.id for u in updates if u.task.task_state == "NOT_STARTED")


async def test_queued_tasks_of_one_model_are_not_polled_while_the_one_ahead_runs(
    emulator: Emulator,
) -> None:
    emulator.progress("fixed", seconds=SECONDS_EACH)
    updates: list[ProgressUpdate] = []
    async with AsyncClient(**emulator.client_settings()) as client:  # type: ignore[arg-type]
        refs = [await client.exports.start("Headcount Export") for _ in range(TASKS)]
        finished = await asyncio.gather(
            *(client.tasks.wait(ref, on_progress=updates.append) for ref in refs)
        )
    assert [task.id for task in finished] == [ref.task_id for ref in refs]
    assert all(task.result.successful for task in finished)
    queued = _queued_reads(updates)
    # The last task waits about 4 x 1.5 s in the queue: polled on the fast test schedule (every
    # 0.2 s at most) it would be read as NOT_STARTED about 30 times. Held, a task is read only
    # around each hand-over, until the next task is seen running (a few reads on a busy
    # machine, however long the tasks).
    assert max(queued.values(), default=0) <= 6, queued
    assert sum(queued.values()) <= 3 * TASKS, queued


def test_threads_sharing_a_client_hold_their_reads_the_same_way(emulator: Emulator) -> None:
    emulator.progress("fixed", seconds=SECONDS_EACH)
    updates: list[ProgressUpdate] = []
    with Client(**emulator.client_settings()) as client:  # type: ignore[arg-type]
        refs = [client.exports.start("Headcount Export") for _ in range(TASKS)]
        with ThreadPoolExecutor(TASKS) as pool:
            finished = list(
                pool.map(lambda ref: client.tasks.wait(ref, on_progress=updates.append), refs)
            )
    assert all(task.result.successful for task in finished)
    queued = _queued_reads(updates)
    assert max(queued.values(), default=0) <= 6, queued


def test_a_task_ahead_that_nobody_watches_does_not_hold_the_wait(emulator: Emulator) -> None:
    emulator.progress("fixed", seconds=SECONDS_EACH)
    with Client(**emulator.client_settings()) as client:  # type: ignore[arg-type]
        client.exports.start("Headcount Export")  # started, never waited on
        ref = client.exports.start("Headcount Export")
        updates: list[ProgressUpdate] = []
        task = client.tasks.wait(ref, on_progress=updates.append)
    assert task.result.successful
    # Nothing held it: it polled while queued behind the unwatched task.
    assert _queued_reads(updates)[ref.task_id] >= 2
