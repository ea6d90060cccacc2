"""Fault injection and request counting, in front of every Anaplan path.

A fault rule names the requests it applies to (`method`, `path` as a glob over the request path,
where `*` also crosses `/`), a `probability`, an optional `times` limit ("fail the next N") and
what happens:

- `status`: answer `status` (429, 500, 503, …) with Anaplan's error body before the handler runs,
  with a `Retry-After: <retryAfter>` header when `retryAfter` is set;
- `reset_before`: reset the connection (TCP RST) before the handler runs: nothing was done;
- `reset_after`: run the handler (its work is committed), then break the connection while the
  answer is on its way: the client sees a truncated or missing response;
- `late_commit`: the start that commits after the client gave up. The body is read, then the
  connection is reset at once (or, with `hold`, kept silent until the commit and reset then, so a
  client with a shorter read timeout sees a timeout); `delay` seconds later the handler runs on
  the request as received and its work commits, its answer discarded. A retry with the same
  `Idempotency-Key` that arrives first wins: the late run then finds the key used and adds
  nothing. A reset of the emulator (or clearing the faults) drops late runs still waiting;
- `latency`: only wait `latency` seconds (any rule may also add `latency` before its fault).

Rules are tried in order; the first matching rule whose random draw (from a generator seeded by
the caller, so runs repeat) falls under its probability fires. Control paths (`/_emulator/…`)
are never faulted or counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from starlette.types import Message, Receive, Scope, Send

from .wire import error_response, status_message

FaultKind = Literal["status", "reset_before", "reset_after", "late_commit", "latency"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "status",
    "reset_before",
    "reset_after",
    "late_commit",
    "latency",
)

RAW_SEND = "anaplan_tasks.emulator.send"
"""Scope key of the server's own `send`, kept by the app for `abort_connection` further in."""

MAX_LATE_DELAY = 60.0
"""Longest `delay` of a `late_commit` rule (seconds)."""


@dataclass
class FaultRule:
    """One fault rule; see the module docstring."""

    fault: FaultKind
    method: str = "*"
    path: str = "*"
    probability: float = 1.0
    times: int | None = None
    status: int = 503
    retry_after: int | None = None
    latency: float = 0.0
    delay: float = 1.0
    hold: bool = False
    hits: int = field(default=0)

    @classmethod
    def from_wire(cls, data: Any) -> FaultRule:
        """Read a rule from its JSON form; raises ValueError naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a fault rule must be a JSON object")
        known = {
            "fault",
            "method",
            "path",
            "probability",
            "times",
            "status",
            "retryAfter",
            "delay",
            "hold",
        }
        unknown = set(data) - known - {"latency", "hits", "remaining"}
        if unknown:
            raise ValueError(f"unknown fault rule fields: {', '.join(sorted(unknown))}")
        fault = data.get("fault")
        if fault not in FAULT_KINDS:
            raise ValueError(f"'fault' must be one of {', '.join(FAULT_KINDS)}")
        rule = cls(fault=cast("FaultKind", fault))
        rule.method = _string(data, "method", "*").upper()
        rule.path = _string(data, "path", "*")
        rule.probability = _number(data, "probability", 1.0)
        if not 0.0 <= rule.probability <= 1.0:
            raise ValueError("'probability' must be between 0 and 1")
        times = data.get("times")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool)):
            raise ValueError("'times' must be a whole number or null")
        if times is not None and times < 0:
            raise ValueError("'times' must not be negative")
        rule.times = times
        status = data.get("status", 503)
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError("'status' must be an HTTP error status (400-599)")
        rule.status = status
        retry_after = data.get("retryAfter")
        if retry_after is not None and (
            not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0
        ):
            raise ValueError("'retryAfter' must be a whole number of seconds or null")
        rule.retry_after = retry_after
        rule.latency = _number(data, "latency", 0.0)
        if not 0.0 <= rule.latency <= 60.0:
            raise ValueError("'latency' must be between 0 and 60 seconds")
        rule.delay = _number(data, "delay", 1.0)
        if not 0.0 <= rule.delay <= MAX_LATE_DELAY:
            raise ValueError(f"'delay' must be between 0 and {MAX_LATE_DELAY:g} seconds")
        hold = data.get("hold", False)
        if not isinstance(hold, bool):
            raise ValueError("'hold' must be true or false")
        rule.hold = hold
        return rule

    def to_wire(self) -> dict[str, Any]:
        """The rule's JSON form, with how often it fired and how many firings remain."""
        return {
            "fault": self.fault,
            "method": self.method,
            "path": self.path,
            "probability": self.probability,
            "times": self.times,
            "status": self.status,
            "retryAfter": self.retry_after,
            "latency": self.latency,
            "delay": self.delay,
            "hold": self.hold,
            "hits": self.hits,
            "remaining": None if self.times is None else max(self.times - self.hits, 0),
        }

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request."""
        if self.method not in ("*", method.upper()):
            return False
        return fnmatch.fnmatchcase(path, self.path)


def _string(data: dict[str, Any], name: str, default: str) -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{name}' must be a non-empty string")
    return value


def _number(data: dict[str, Any], name: str, default: float) -> float:
    value = data.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"'{name}' must be a number")
    return float(value)


class FaultInjector:
    """The fault rules in force and the seeded random generator that decides. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._seed: int | None = None
        self._random = random.Random(0)
        self._late: set[tuple[asyncio.AbstractEventLoop, asyncio.Task[None]]] = set()

    def configure(self, rules: list[FaultRule], seed: int | None = None) -> None:
        """Replace the rules and reseed the generator; late commits still waiting are dropped."""
        with self._lock:
            self._rules = list(rules)
            self._seed = seed
            self._random = random.Random(seed)
            late = list(self._late)
            self._late.clear()
        for loop, task in late:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing left to drop
                loop.call_soon_threadsafe(task.cancel)

    def schedule_late(self, run: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a late commit on this event loop, remembered until it ends (or is dropped)."""
        loop = asyncio.get_running_loop()
        task = loop.create_task(run)
        entry = (loop, task)
        with self._lock:
            self._late.add(entry)

        def forget(_: asyncio.Task[None]) -> None:
            with self._lock:
                self._late.discard(entry)

        task.add_done_callback(forget)
        return task

    def add(self, rule: FaultRule) -> None:
        """Append a rule, keeping the others and the generator's state."""
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self.configure([], None)

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request (counted as a hit), or None."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                rule.hits += 1
                return replace(rule)
            return None

    def snapshot(self) -> dict[str, Any]:
        """The seed, the rules with their hit counts, and how many late commits still wait."""
        with self._lock:
            return {
                "seed": self._seed,
                "rules": [rule.to_wire() for rule in self._rules],
                "lateCommitsPending": len(self._late),
            }


class RequestCounter:
    """Requests seen per `METHOD route-template`. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, key: str) -> None:
        """Count one request."""
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        """The counts so far."""
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._counts.clear()


async def apply_fault(
    rule: FaultRule,
    app: Any,
    scope: Scope,
    receive: Receive,
    send: Send,
    injector: FaultInjector | None = None,
) -> None:
    """Serve one request under a fault rule that fired (`injector` keeps late commits)."""
    if rule.latency > 0:
        await asyncio.sleep(rule.latency)
    if rule.fault == "latency":
        await app(scope, receive, send)
    elif rule.fault == "status":
        headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
        message = f"{status_message(rule.status)} (injected fault)"
        response = error_response(rule.status, message, scope["path"], headers=headers)
        await response(scope, receive, send)
    elif rule.fault == "reset_before":
        await abort_connection(send)
    elif rule.fault == "late_commit":
        await _commit_late(rule, app, scope, receive, send, injector or FaultInjector())
    else:
        await _serve_then_break(app, scope, receive, send)


async def _commit_late(
    rule: FaultRule, app: Any, scope: Scope, receive: Receive, send: Send, injector: FaultInjector
) -> None:
    body: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client left before sending its body: nothing to commit
        body.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": b"".join(body), "more_body": False}
        return {"type": "http.disconnect"}

    async def discard(message: Message) -> None:
        return None

    async def run_late() -> None:
        await asyncio.sleep(rule.delay)
        await app(dict(scope), replay, discard)

    if not rule.hold:
        await abort_connection(send)
        injector.schedule_late(run_late())
        return
    late = injector.schedule_late(run_late())
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.shield(late)
    await abort_connection(send)


async def _serve_then_break(app: Any, scope: Scope, receive: Receive, send: Send) -> None:
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, keep)
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    if start is not None and len(body) > 1:
        # The status line, headers and half the body reach the client, then the connection dies.
        await send(start)
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
    await abort_connection(send)


async def abort_connection(send: Send) -> None:
    """Reset the client's connection (TCP RST), abandoning any answer.

    Works on uvicorn, whose `send` is a method of an object holding the connection's transport;
    elsewhere the request fails with an exception, which also breaks the connection.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("injected connection reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let the server see the disconnect before the app returns, so it does not answer itself.
    for _ in range(3):
        await asyncio.sleep(0)
