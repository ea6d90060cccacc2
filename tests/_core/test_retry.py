"""The retry decision table, Retry-After parsing, backoff and the retry budget."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from anaplan_tasks._core.retry import (
    Action,
    RetryBudget,
    RetryPolicy,
    backoff,
    decide,
    parse_retry_after,
)

POLICY = RetryPolicy()
NOW = 1_767_000_000.0


@pytest.mark.parametrize(
    ("retry_class", "status", "sent", "expected"),
    [
        # transport errors
        ("idempotent", None, False, Action.RETRY),
        ("idempotent", None, True, Action.RETRY),
        ("start", None, False, Action.RETRY),
        ("start", None, True, Action.RECONCILE),
        ("never", None, False, Action.FAIL),
        # transient statuses
        *[("idempotent", code, True, Action.RETRY) for code in (408, 500, 502, 503, 504)],
        *[("start", code, True, Action.RECONCILE) for code in (408, 500, 502, 503, 504)],
        # refused requests may be repeated, even starts
        ("idempotent", 429, True, Action.RETRY),
        ("start", 429, True, Action.RETRY),
        ("idempotent", 409, True, Action.RETRY),
        ("start", 423, True, Action.RETRY),
        # never retried
        *[
            (retry_class, code, True, Action.FAIL)
            for retry_class in ("idempotent", "start")
            for code in (400, 401, 403, 404, 405, 422, 424, 425)
        ],
        ("never", 503, True, Action.FAIL),
    ],
)
def test_decision_table(retry_class: str, status: int | None, sent: bool, expected: Action) -> None:
    decision = decide(
        retry_class=retry_class,  # type: ignore[arg-type]
        attempt=1,
        policy=POLICY,
        rng=random.Random(1),
        status=status,
        request_sent=sent,
    )
    assert decision.action is expected
    assert decision.reason


@pytest.mark.parametrize("status", [None, 429, 503, 409])
def test_attempt_cap_turns_retries_into_failures(status: int | None) -> None:
    for attempt in range(1, POLICY.max_attempts):
        assert (
            decide(
                retry_class="idempotent",
                attempt=attempt,
                policy=POLICY,
                rng=random.Random(),
                status=status,
            ).action
            is Action.RETRY
        )
    last = decide(
        retry_class="idempotent",
        attempt=POLICY.max_attempts,
        policy=POLICY,
        rng=random.Random(),
        status=status,
    )
    assert last.action is Action.FAIL
    assert "gave up" in last.reason


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    honoured = decide(
        retry_class="start",
        attempt=1,
        policy=POLICY,
        rng=random.Random(),
        status=429,
        retry_after=120,
    )
    assert honoured.action is Action.RETRY
    assert honoured.delay == 120
    refused = decide(
        retry_class="start",
        attempt=1,
        policy=POLICY,
        rng=random.Random(),
        status=429,
        retry_after=121,
    )
    assert refused.action is Action.FAIL
    assert "121" in refused.reason


def test_retry_after_raises_the_backoff_of_a_503() -> None:
    decision = decide(
        retry_class="idempotent",
        attempt=1,
        policy=POLICY,
        rng=random.Random(),
        status=503,
        retry_after=7,
    )
    assert decision.delay == 7


def _http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + seconds_from_now, UTC), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"retry-after": "-1"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "10000000000000000000000000000000000"}, 1e34),
        ({"retry-after": _http_date(30)}, 30.0),
        ({"retry-after": _http_date(-30)}, 0.0),
        ({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, 253402300799.0 - NOW),
        ({"retry-after": "Wed, 99 Foo 2026 99:99:99 GMT"}, None),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    value = parse_retry_after(headers, NOW)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected)


def test_far_future_retry_after_fails_fast_instead_of_waiting() -> None:
    delay = parse_retry_after({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, NOW)
    decision = decide(
        retry_class="idempotent",
        attempt=1,
        policy=POLICY,
        rng=random.Random(),
        status=429,
        retry_after=delay,
    )
    assert decision.action is Action.FAIL


def test_full_jitter_backoff_stays_within_its_ceiling_and_varies() -> None:
    rng = random.Random(3)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 20.0), (60, 20.0)]:
        delays = [backoff(attempt, 0.5, 20.0, rng) for _ in range(200)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8
        assert len(set(delays)) > 150


def test_budget_is_spent_by_retries_and_refilled_by_successes() -> None:
    budget = RetryBudget(capacity=12, retry_cost=5, timeout_cost=10, refund=1)
    assert budget.try_acquire()
    assert not budget.try_acquire(after_timeout=True)
    assert budget.try_acquire()
    assert budget.level == 2
    assert not budget.try_acquire()
    for _ in range(20):
        budget.on_success()
    assert budget.level == 12


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base_delay=-1)
