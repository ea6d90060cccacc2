"""An optional rate limit like Anaplan's: a token bucket per emulator, 429 when it is empty.

Anaplan documents 600 requests per minute per tenant as a bucket of 600 refilled at 10 per
second; whether its 429 carries `Retry-After` is not documented, so both are offered. Off by
default; control paths are never limited.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RateLimit:
    """`per_minute` requests per minute, in a bucket of that size; `retry_after` adds the header."""

    per_minute: int
    retry_after: bool = True

    @classmethod
    def from_wire(cls, data: Any) -> RateLimit:
        """Read `{"perMinute": 600, "retryAfter": true}`; raises ValueError naming the problem."""
        if not isinstance(data, dict):
            raise ValueError("the rate limit must be a JSON object")
        per_minute = data.get("perMinute")
        if not isinstance(per_minute, int) or isinstance(per_minute, bool) or per_minute < 1:
            raise ValueError("'perMinute' must be a whole number of 1 or more")
        retry_after = data.get("retryAfter", True)
        if not isinstance(retry_after, bool):
            raise ValueError("'retryAfter' must be true or false")
        return cls(per_minute=per_minute, retry_after=retry_after)

    def to_wire(self) -> dict[str, Any]:
        """The JSON form."""
        return {"perMinute": self.per_minute, "retryAfter": self.retry_after}


class RateLimiter:
    """The bucket. Thread-safe; time comes from the clock given (epoch seconds)."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._lock = threading.Lock()
        self._limit: RateLimit | None = None
        self._tokens = 0.0
        self._updated = 0.0
        self.refused = 0

    @property
    def limit(self) -> RateLimit | None:
        """The limit in force, or None."""
        return self._limit

    def configure(self, limit: RateLimit | None) -> None:
        """Set (a full bucket) or remove the limit."""
        with self._lock:
            self._limit = limit
            self._tokens = float(limit.per_minute) if limit else 0.0
            self._updated = self._clock()
            self.refused = 0

    def take(self) -> float | None:
        """Take one token: None when the request may go, else the seconds until one is back."""
        with self._lock:
            limit = self._limit
            if limit is None:
                return None
            now = self._clock()
            rate = limit.per_minute / 60.0
            elapsed = max(now - self._updated, 0.0)
            self._tokens = min(float(limit.per_minute), self._tokens + elapsed * rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            self.refused += 1
            return (1.0 - self._tokens) / rate

    def snapshot(self) -> dict[str, Any]:
        """The limit (or null) and how many requests it refused."""
        with self._lock:
            return {
                "limit": None if self._limit is None else self._limit.to_wire(),
                "refused": self.refused,
            }


def retry_after_header(wait: float) -> str:
    """`Retry-After` in whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
