"""What a client and its copies learn together while they run: no I/O, thread-safe.

One `ClientState` is shared by a client, its `with_model()`/`with_options()` copies and every
thread or task using them (it lives on the session). It holds:

* `clock`: bounds on the server's clock against ours, narrowed by every `Date` header
  (`ServerClock`), so a task's `creationTime` can be compared with when we sent its start;
* `pacer`: the client-wide pause after a 429 with `Retry-After` (`Pacer`);
* `starts`: the task starts in flight, per action (`StartLedger`), so a start knows when
  another caller of this client may be starting the same action;
* which start endpoints were seen honouring `Idempotency-Key` (`keys_honoured`);
* `queue`: the tasks this client is waiting on, per model (`WaitQueue`), so a wait need not
  poll a queued task that Anaplan cannot start while another watched task of its model runs.

All methods take the current time as an argument (the flows read it from `Context`), so the
state is deterministic in tests.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

DATE_SLACK = 2.0
"""Seconds a `Date` header may be behind the server's clock: it names a whole second, and
servers cache it (uvicorn refreshes it once a second)."""


@dataclass(frozen=True)
class ClockBounds:
    """`server clock - our wall clock` lies in `[low, high]` seconds."""

    low: float
    high: float


class ServerClock:
    """What the `Date` headers say about the server's clock, as bounds on its offset from ours.

    A `Date` of D seconds, on an answer to a request sent at our time `sent` and received at
    `received`, means the server's clock read between D and D + `DATE_SLACK` at some instant
    between the two: offset ∈ [D - received, D + DATE_SLACK - sent]. Bounds from successive
    answers are intersected; when they stop overlapping (a clock was stepped), the newest
    answer's bounds replace them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bounds: ClockBounds | None = None

    def observe(self, headers: Mapping[str, str], sent: float, received: float) -> None:
        """Narrow the bounds with an answer's `date` header (ignored when absent or unreadable)."""
        raw = headers.get("date")
        if raw is None:
            return
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        if when.tzinfo is None:
            return
        date = when.timestamp()
        low, high = date - received, date + DATE_SLACK - sent
        with self._lock:
            bounds = self._bounds
            if bounds is not None and max(low, bounds.low) <= min(high, bounds.high):
                low, high = max(low, bounds.low), min(high, bounds.high)
            self._bounds = ClockBounds(low, high)

    @property
    def bounds(self) -> ClockBounds | None:
        """The offset's bounds, or None before any answer carried a `Date`."""
        return self._bounds


class Pacer:
    """The client-wide pace after a 429 that said `Retry-After`.

    After a 429 asking for R seconds, no request of the client is sent before R seconds have
    passed, and then at most one request every `spacing` seconds (R at first), so the callers
    that waited do not all hit the server at once. Each success shrinks the spacing by a
    tenth, so the client finds its way back to full speed when the limit lifts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._spacing = 0.0

    def admit(self, now: float) -> float:
        """0.0 when a request may be sent now (it takes the slot), else the seconds to wait."""
        with self._lock:
            if now < self._next:
                return self._next - now
            if self._spacing > 0.0:
                self._next = now + self._spacing
            return 0.0

    def throttled(self, now: float, retry_after: float) -> None:
        """The server answered 429 and asked for `retry_after` seconds."""
        with self._lock:
            self._next = max(self._next, now + retry_after)
            self._spacing = retry_after

    def succeeded(self) -> None:
        """A request got through: loosen the pace a little."""
        with self._lock:
            self._spacing = self._spacing * 0.9 if self._spacing > 0.01 else 0.0


@dataclass
class _Start:
    target: str
    began: int
    ended: int | None = None
    settled: bool = False


class StartLedger:
    """Task starts per target (the action's tasks URL), to know whose fate overlaps whose.

    A start is *settled* when it ended knowing its outcome: its task claimed, or refused. One
    that is still in flight, or ended not knowing (it raised after an uncertain attempt), may
    own any task created meanwhile.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)
        self._starts: dict[int, _Start] = {}

    def begin(self, target: str) -> int:
        """Record a start of `target`; returns its ticket."""
        with self._lock:
            ticket = next(self._sequence)
            self._starts[ticket] = _Start(target, ticket)
            return ticket

    def end(self, ticket: int, *, settled: bool) -> None:
        """The start of this ticket returned or raised; `settled` when it knows its outcome."""
        with self._lock:
            start = self._starts.get(ticket)
            if start is not None:
                start.ended = next(self._sequence)
                start.settled = settled
            in_flight = [s.began for s in self._starts.values() if s.ended is None]
            oldest = min(in_flight, default=None)
            for other, entry in list(self._starts.items()):
                if entry.ended is not None and (oldest is None or entry.ended < oldest):
                    del self._starts[other]

    def overlapped(self, ticket: int) -> list[int]:
        """Other unsettled starts of the same target that were in flight during this one."""
        with self._lock:
            mine = self._starts[ticket]
            return [
                other
                for other, entry in self._starts.items()
                if other != ticket
                and entry.target == mine.target
                and not entry.settled
                and (entry.ended is None or entry.ended > mine.began)
            ]


class WaitQueue:
    """The tasks this client is waiting on, per model, and which of them were last seen running.

    Anaplan runs one task at a time per model. While a task of a model is running, no other
    task of that model can start: a wait on a queued task of the same model need not read its
    status until the running one (watched by this client, which will see it end) has ended
    (`held`). Creation order is not relied on: only a task seen `IN_PROGRESS` holds others.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, dict[str, bool]] = {}

    def observe(self, model: str, task_id: str, *, running: bool) -> None:
        """A wait on `task_id` has read its status: running (`IN_PROGRESS`) or not."""
        with self._lock:
            self._waiting.setdefault(model, {})[task_id] = running

    def leave(self, model: str, task_id: str) -> None:
        """The wait on `task_id` has ended, however it ended."""
        with self._lock:
            tasks = self._waiting.get(model)
            if tasks is not None:
                tasks.pop(task_id, None)
                if not tasks:
                    del self._waiting[model]

    def held(self, model: str, task_id: str) -> bool:
        """True while another watched task of the model was last seen running."""
        with self._lock:
            tasks = self._waiting.get(model, {})
            return any(running for other, running in tasks.items() if other != task_id)


class ClientState:
    """Everything a client and its copies learn together (see the module docstring)."""

    def __init__(self) -> None:
        self.clock = ServerClock()
        self.pacer = Pacer()
        self.starts = StartLedger()
        self.queue = WaitQueue()
        self._lock = threading.Lock()
        self._keyed: set[str] = set()

    def keys_honoured(self, family: str) -> bool:
        """Whether a start of this family has been answered with its `Idempotency-Key` echoed."""
        with self._lock:
            return family in self._keyed

    def learn_keys_honoured(self, family: str) -> None:
        """A start of this family was answered with its `Idempotency-Key` echoed."""
        with self._lock:
            self._keyed.add(family)
