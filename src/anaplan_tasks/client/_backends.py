"""The few things the async and the sync client do differently, written once for each side.

Everything else of the clients is written once, as async code, in `client/_async/`; the sync
client in `client/_sync/` is generated from it by `scripts/unasync.py` (word for word: `async`
and `await` dropped, `AsyncX` names become `X`). What cannot be translated word for word goes
through a backend: `AsyncBackend` (asyncio) in the source becomes `SyncBackend` (threads) in the
generated code. Each backend offers the same five things: a lock for the token refresh, the
default sleep, running blocking work, writing to a caller's file object, and running flows
concurrently with a bound.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any, TypeAlias, TypeVar

from .._core.flow import Flow

T = TypeVar("T")

AsyncLock: TypeAlias = asyncio.Lock
"""The async client's token-refresh lock (single flight across the tasks of one loop)."""

Lock: TypeAlias = threading.Lock
"""The sync client's token-refresh lock (single flight across threads)."""

AsyncSleepFunction: TypeAlias = Callable[[float], Awaitable[None]]
"""How the async client waits (`asyncio.sleep` unless a test injects a fake)."""

SleepFunction: TypeAlias = Callable[[float], None]
"""How the sync client waits (`time.sleep` unless a test injects a fake)."""

_END: Any = object()


class AsyncBackend:
    """asyncio: tasks on the running loop, blocking work in worker threads."""

    @staticmethod
    async def sleep(seconds: float) -> None:
        """The default wait."""
        await asyncio.sleep(seconds)

    @staticmethod
    def new_lock() -> AsyncLock:
        """A lock for one session's token refresh."""
        return asyncio.Lock()

    @staticmethod
    async def offload(function: Callable[..., T], *args: Any) -> T:
        """Run blocking work (disk, CPU) in a worker thread."""
        return await asyncio.to_thread(function, *args)

    @staticmethod
    async def write(dest: Any, data: bytes) -> None:
        """Write to a caller's binary file object, sync or async (`aiofiles`)."""
        written = dest.write(data)
        if inspect.isawaitable(written):
            await written

    @staticmethod
    async def parallel(
        run: Callable[[Flow[Any]], Awaitable[Any]], flows: Iterable[Flow[Any]], limit: int
    ) -> list[Any]:
        """Run the flows, at most `limit` at a time; their results in order.

        A flow is pulled only when a slot is free (pulling may read a file: off the loop);
        the first failure propagates once the flows in flight are done.
        """
        results: dict[int, Any] = {}
        slots = asyncio.Semaphore(limit)
        iterator = iter(flows)

        async def run_one(position: int, flow: Flow[Any]) -> None:
            try:
                results[position] = await run(flow)
            finally:
                slots.release()

        try:
            async with asyncio.TaskGroup() as group:
                position = 0
                while True:
                    await slots.acquire()
                    item = await asyncio.to_thread(next, iterator, _END)
                    if item is _END:
                        slots.release()
                        break
                    group.create_task(run_one(position, item))
                    position += 1
        except BaseExceptionGroup as group_error:
            raise group_error.exceptions[0] from None
        return [results[index] for index in sorted(results)]


class SyncBackend:
    """Threads: blocking calls in the caller's thread, concurrency in a thread pool."""

    @staticmethod
    def sleep(seconds: float) -> None:
        """The default wait."""
        time.sleep(seconds)

    @staticmethod
    def new_lock() -> Lock:
        """A lock for one session's token refresh."""
        return threading.Lock()

    @staticmethod
    def offload(function: Callable[..., T], *args: Any) -> T:
        """Run blocking work; the sync client is already off any event loop."""
        return function(*args)

    @staticmethod
    def write(dest: Any, data: bytes) -> None:
        """Write to a caller's binary file object."""
        dest.write(data)

    @staticmethod
    def parallel(
        run: Callable[[Flow[Any]], Any], flows: Iterable[Flow[Any]], limit: int
    ) -> list[Any]:
        """Run the flows in a pool of `limit` threads; their results in order.

        A flow is pulled only when a thread is free; every result is consumed and the first
        failure propagates once the flows in flight are done.
        """
        results: dict[int, Any] = {}
        failure: BaseException | None = None
        iterator = iter(flows)
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="anaplan") as pool:
            pending: dict[Future[Any], int] = {}
            index = 0
            exhausted = False
            try:
                while True:
                    while failure is None and not exhausted and len(pending) < limit:
                        try:
                            flow = next(iterator)
                        except StopIteration:
                            exhausted = True
                            break
                        pending[pool.submit(run, flow)] = index
                        index += 1
                    if not pending:
                        break
                    done, _ = wait_futures(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        position = pending.pop(future)
                        try:
                            results[position] = future.result()
                        except BaseException as error:
                            failure = failure or error
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if failure is not None:
            raise failure
        return [results[position] for position in sorted(results)]
