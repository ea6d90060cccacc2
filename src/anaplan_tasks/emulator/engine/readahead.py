"""Run a row generator in a thread of its own, ahead of the statement that consumes its rows.

An import's rows come from parsing and converting the uploaded CSV (Python work that holds the
GIL); they go into one `executemany`, whose SQLite steps release it. Producing the rows in a
second thread lets the two overlap, so an import runs close to the speed of its bulk statement
alone. Rows travel in batches, through a bounded queue (memory stays bounded); an exception in
the producer (a cancel, a parse error) is raised in the consumer at the point it occurred, and a
consumer that stops early (a failed statement) stops the producer.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Generator, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_BATCH = 4096
_DEPTH = 8
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class ReadAhead(Generic[T]):
    """`rows`, produced in a background thread at most `depth` batches of `batch` ahead.

    Iterate it once. The producer runs `rows` to its end, or until `close()` (use it as a
    context manager so a consumer that fails stops the producer); whatever `rows` sets as it
    ends is visible once the iteration is exhausted.
    """

    def __init__(self, rows: Iterator[T], *, batch: int = _BATCH, depth: int = _DEPTH):
        self._batches = _batches(rows, batch, depth)
        self._rows = itertools.chain.from_iterable(self._batches)  # per row: no Python frame

    def __iter__(self) -> Iterator[T]:
        return self._rows

    def close(self) -> None:
        """Stop the producer (after the batch it is making) and wait for its thread."""
        self._batches.close()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_ahead(rows: Iterator[T], *, batch: int = _BATCH, depth: int = _DEPTH) -> ReadAhead[T]:
    """`rows`, produced ahead in a thread of its own (see `ReadAhead`)."""
    return ReadAhead(rows, batch=batch, depth=depth)


def _batches(rows: Iterator[T], batch: int, depth: int) -> Generator[list[T], None, None]:
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            while True:
                block = list(itertools.islice(rows, batch))
                if not block:
                    break
                if not put(block):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))

    producer = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        producer.join()
