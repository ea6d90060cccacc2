"""When to repeat a request, and how long to wait first: one table, pure functions.

The decision table (`decide`):

| outcome                                   | idempotent | start (task POST) | never |
|-------------------------------------------|------------|-------------------|-------|
| transport error, request not sent         | retry      | retry             | fail  |
| transport error, request may have been sent | retry    | reconcile         | fail  |
| 429 or 503 with Anaplan's error body      | retry      | retry             | fail  |
| 408, 500, 502, 503, 504 (otherwise)       | retry      | reconcile         | fail  |
| 429 (Retry-After ≤ cap, or none)          | retry      | retry             | fail  |
| 429 with Retry-After > cap                | fail       | fail              | fail  |
| 409, 423 (model busy)                     | retry, slower | retry, slower  | fail  |
| 409, 423 with `busy_retry=False`          | fail       | fail              | fail  |
| anything else (400, 401, 403, 404, 422 …) | fail       | fail              | fail  |

"reconcile" means: the task may exist; `tasks.start_reconciled` decides how to find out. A 429 or
409/423 answer, or a 503 carrying Anaplan's own error body (`{"status": {"code": 503, …}}`, which
the API writes when it refuses a request, never after acting on it), means the server refused
the request, so even a task start may be repeated. CloudWorks' 409s are final answers
("Integration is already running", "The resource is being referenced"): its requests say so
with `Request.busy_retry=False`. 401 is handled before this table (one token
refresh). After `max_attempts` attempts, or when the client-wide budget is empty, the error is
raised. A 429 whose `Retry-After` is within the cap is not a failed attempt at all: `calls.call`
pauses the whole client until then and sends again, spending no attempt and no budget.
"""

from __future__ import annotations

import enum
import math
import random
import threading
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

RetryClass = Literal["idempotent", "start", "never"]
"""How a request may be repeated: `idempotent` (GET, PUT chunk, DELETE, `/complete`, auth),
`start` (a task-creating POST: only when it provably never ran), `never`."""

IdempotencyKeys = Literal["auto", "honoured", "ignored"]
"""Whether the server de-duplicates task starts by `Idempotency-Key` (see `RetryPolicy`)."""

RETRY_AFTER_CAP = 120.0
"""The longest Retry-After we honour (seconds); a longer one fails fast with the server's value."""

_TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
_BUSY_STATUSES = frozenset({409, 423})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    Attributes:
        max_attempts: Attempts per call, the first included.
        base_delay: First backoff ceiling (seconds); doubles per attempt (full jitter).
        max_delay: Backoff ceiling for transient errors (seconds).
        busy_base_delay: First backoff ceiling for 409/423 "model busy" answers.
        retry_after_cap: Longest `Retry-After` honoured; longer fails fast.
        rate_limit_patience: Longest total time one call waits for rate limits (429s with a
            `Retry-After` and the client-wide pause they set) before it raises `RateLimitError`.
        budget: Capacity of the client-wide retry budget (`RetryBudget`): a retry costs 5, one
            after a timeout or reset 10, a success gives 1 back (a retried call that succeeds
            gives back what its retries cost).
        idempotency_keys: Whether the server de-duplicates task starts by their
            `Idempotency-Key`: `honoured` (a start whose fate is unknown is sent again with
            the same key), `ignored` (it is reconciled from the task list), or `auto` (as
            `ignored` until a start's answer echoes its key, then as `honoured` for that kind
            of start; the emulator echoes it, Anaplan does not document keys).
        shared_actions: Other processes may start the same actions as this client. A start
            whose fate is unknown is then never adopted from a keyless server's task list: it
            raises `AmbiguousStartError`.
        start_settle: Seconds to wait after a start whose fate is unknown before listing the
            action's tasks, so a start the server committed late is listed.
        clock_margin: Seconds allowed between the server clock behind `Date` and the one
            behind a task's `creationTime`, on top of the bounds measured from `Date`.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    busy_base_delay: float = 2.0
    retry_after_cap: float = RETRY_AFTER_CAP
    rate_limit_patience: float = 900.0
    budget: int = 500
    idempotency_keys: IdempotencyKeys = "auto"
    shared_actions: bool = False
    start_settle: float = 1.0
    clock_margin: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.busy_base_delay < 0:
            raise ValueError("delays must not be negative")
        if self.start_settle < 0 or self.clock_margin < 0 or self.rate_limit_patience < 0:
            raise ValueError("start_settle, clock_margin and rate_limit_patience must be >= 0")
        if self.idempotency_keys not in ("auto", "honoured", "ignored"):
            raise ValueError("idempotency_keys must be 'auto', 'honoured' or 'ignored'")


class Action(enum.Enum):
    """What to do after a failed attempt."""

    RETRY = "retry"
    RECONCILE = "reconcile"
    FAIL = "fail"


@dataclass(frozen=True)
class Decision:
    """The outcome of `decide`: the action, the delay before it, and why."""

    action: Action
    delay: float = 0.0
    reason: str = ""


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date).

    Args:
        headers: Response headers with lower-case names.
        now: Current epoch seconds (to turn a date into a delay).

    Returns:
        A delay ≥ 0, or None when absent or unreadable. It is not capped here: the caller
        compares it with the cap, so a far-future value can fail fast.
    """
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        value = _finite_float(milliseconds)
        if value is not None and value >= 0:
            return value / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    seconds = _finite_float(raw)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _finite_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base · 2^(attempt-1))].

    Args:
        attempt: The attempt that just failed (1 for the first).
        base: The first ceiling.
        cap: The largest ceiling.
        rng: Source of randomness.
    """
    ceiling = min(cap, base * (2.0 ** min(attempt - 1, 62)))
    return rng.uniform(0.0, ceiling)


def decide(
    *,
    retry_class: RetryClass,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random,
    status: int | None = None,
    request_sent: bool = True,
    retry_after: float | None = None,
    refused: bool = False,
    busy_retry: bool = True,
) -> Decision:
    """Decide what follows a failed attempt (see the table in this module's docstring).

    Args:
        retry_class: How the request may be repeated.
        attempt: The attempt that just failed (1 for the first).
        policy: The retry policy.
        rng: Source of jitter.
        status: The HTTP status, or None for a transport error.
        request_sent: For transport errors: False when the request provably never left.
        retry_after: The server's Retry-After in seconds, when it sent one.
        refused: The answer carries Anaplan's own error body for its status (`is_refusal`):
            the API refused the request, so a 503 did not start anything.
        busy_retry: False when a 409/423 is the server's final word, not "model busy"
            (CloudWorks: the integration is already running, the connection is in use).
    """
    if retry_class == "never":
        return Decision(Action.FAIL, reason="request is never repeated")
    if status is None:
        if not request_sent:
            action = Action.RETRY
            reason = "connection failed before sending"
        elif retry_class == "idempotent":
            action = Action.RETRY
            reason = "transport error on an idempotent request"
        else:
            return Decision(Action.RECONCILE, reason="the start may have reached the server")
        delay = backoff(attempt, policy.base_delay, policy.max_delay, rng)
    elif status == 429:
        if retry_after is not None and retry_after > policy.retry_after_cap:
            return Decision(Action.FAIL, reason=f"Retry-After {retry_after:.0f}s exceeds the cap")
        action = Action.RETRY
        reason = "rate limited"
        if retry_after is not None:
            delay = retry_after
        else:
            delay = backoff(attempt, max(policy.base_delay, 1.0), policy.max_delay, rng)
    elif status in _BUSY_STATUSES:
        if not busy_retry:
            return Decision(Action.FAIL, reason=f"status {status} is final for this request")
        action = Action.RETRY
        reason = f"model busy ({status})"
        delay = backoff(attempt, policy.busy_base_delay, max(policy.max_delay, 30.0), rng)
    elif status in _TRANSIENT_STATUSES:
        if retry_class == "start" and not (refused and status == 503):
            return Decision(Action.RECONCILE, reason=f"{status} after the start was sent")
        action = Action.RETRY
        reason = f"transient status {status}"
        delay = backoff(attempt, policy.base_delay, policy.max_delay, rng)
    else:
        return Decision(Action.FAIL, reason=f"status {status} is not retried")
    if attempt >= policy.max_attempts:
        return Decision(Action.FAIL, reason=f"{reason}; gave up after {attempt} attempts")
    if retry_after is not None and retry_after > delay and retry_after <= policy.retry_after_cap:
        delay = retry_after
    return Decision(action, delay=delay, reason=reason)


class RetryBudget:
    """A client-wide retry quota (botocore's token bucket) so an outage does not multiply load.

    A retry costs `retry_cost` (a retry after a timeout or reset `timeout_cost`); each success
    refunds `refund`, up to the capacity. When the bucket is empty, errors are raised instead
    of retried.
    """

    def __init__(
        self,
        capacity: int = 500,
        *,
        retry_cost: int = 5,
        timeout_cost: int = 10,
        refund: int = 1,
    ):
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.refund = refund
        self._level = capacity
        self._lock = threading.Lock()

    @property
    def level(self) -> int:
        """Tokens left."""
        return self._level

    def try_acquire(self, *, after_timeout: bool = False) -> bool:
        """Take the cost of one retry; False when the budget cannot pay for it."""
        cost = self.timeout_cost if after_timeout else self.retry_cost
        with self._lock:
            if self._level < cost:
                return False
            self._level -= cost
            return True

    def cost(self, *, after_timeout: bool = False) -> int:
        """What one retry costs."""
        return self.timeout_cost if after_timeout else self.retry_cost

    def on_success(self, spent: int = 0) -> None:
        """A request succeeded: give back what its retries cost (at least `refund`)."""
        with self._lock:
            self._level = min(self.capacity, self._level + max(self.refund, spent))
