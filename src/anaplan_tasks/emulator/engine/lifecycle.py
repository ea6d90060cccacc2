"""Who may use the engine's store, and when: one owner (the engine) and a drain.

Requests and task runs hold a *shared* lease while they touch the store; a reset or close takes
the *exclusive* lease. Taking it first shuts the door (new shared leases wait, task runs that have
not begun are turned away), then asks the work in flight to end (`on_pending`: cancel running
tasks, release waiting status reads), then waits until every shared lease is back. Only then is a
database connection closed, so no connection is ever closed under a request.

Shared leases nest on one thread (an engine call that makes another takes no second lease), so a
waiting exclusive holder can never deadlock a thread against itself. `generation` counts resets:
a stream that reads across several leases (a download, a failure dump) checks it between reads
and stops when the data it was reading is gone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .. import errors

log = logging.getLogger(__name__)

_WARN_EVERY_SECONDS = 10.0


class StreamInterrupted(Exception):
    """A stream's data went away under it (the emulator was reset): the answer must break."""


class Lifecycle:
    """A reader/writer lease with a generation counter; see the module docstring."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._exclusive = False
        self._closed = False
        self._local = threading.local()
        self.generation = 0
        """Incremented by every exclusive use that says so (a reset)."""

    def _depth(self) -> int:
        depth: int = getattr(self._local, "depth", 0)
        return depth

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Use the store; waits while a reset runs. Raises ServiceUnavailable once closed."""
        depth = self._depth()
        if depth == 0:
            with self._cond:
                while self._exclusive and not self._closed:
                    self._cond.wait()
                if self._closed:
                    raise errors.ServiceUnavailable("The emulator is shutting down.")
                self._active += 1
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    @contextmanager
    def admit(self) -> Iterator[bool]:
        """Like `shared`, but never waits: yields False (and holds nothing) while a reset or
        close is pending or running, so a task run that has not begun simply does not begin."""
        depth = self._depth()
        if depth == 0:
            with self._cond:
                if self._exclusive or self._closed:
                    yield False
                    return
                self._active += 1
        self._local.depth = depth + 1
        try:
            yield True
        finally:
            self._local.depth = depth
            if depth == 0:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    @contextmanager
    def exclusive(
        self, on_pending: Callable[[], None], *, new_generation: bool = False, close: bool = False
    ) -> Iterator[None]:
        """Hold the store alone: shut the door, call `on_pending`, drain, then run the block.

        Args:
            on_pending: asks the work in flight to end (called once the door is shut).
            new_generation: the block replaces the data (a reset): streams across it stop.
            close: the engine closes: every later `shared` raises ServiceUnavailable.
        """
        if self._depth():
            raise RuntimeError("the engine cannot be reset or closed from inside one of its calls")
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._exclusive = True
        try:
            on_pending()
            with self._cond:
                waited = time.monotonic()
                while self._active:
                    self._cond.wait(_WARN_EVERY_SECONDS)
                    if self._active and time.monotonic() - waited >= _WARN_EVERY_SECONDS:
                        log.warning("waiting for %d engine call(s) to finish", self._active)
                        waited = time.monotonic()
            yield
        finally:
            with self._cond:
                if new_generation:
                    self.generation += 1
                if close:
                    self._closed = True
                self._exclusive = False
                self._cond.notify_all()
