"""One call: retries by the table, one token refresh on 401, errors by status family."""

from __future__ import annotations

from typing import Any

import pytest

from anaplan_tasks._core.calls import call, list_all
from anaplan_tasks._core.flow import Request, Response, Send, Sleep
from anaplan_tasks._core.retry import RetryBudget, RetryPolicy
from anaplan_tasks.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ModelUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
)

from .scripted import Scripted, json_response

URL = "https://api.test/2/0/workspaces"


def answers(*items: Any):  # type: ignore[no-untyped-def]
    queue = list(items)

    def handler(request: Request) -> Response:
        item = queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    return handler


def test_transient_errors_are_retried_until_success() -> None:
    env = Scripted(
        answers(
            TransportError("reset", request_sent=True),
            json_response(503, {}),
            json_response(429, {}, {"retry-after": "3"}),
            json_response(200, {"ok": True}),
        )
    )
    response = env.run(call(env.context(), Request("GET", URL)))
    assert response.json() == {"ok": True}
    assert len(env.sent) == 4
    assert env.sleeps[2] == 3.0


def test_every_request_carries_the_token_and_never_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = Scripted(answers(json_response(503, {}), json_response(200, {})))
    caplog.set_level("DEBUG", logger="anaplan_tasks")
    env.run(call(env.context(), Request("GET", URL)))
    assert all(r.headers["Authorization"] == "AnaplanAuthToken token-1" for r in env.sent)
    assert "token-1" not in caplog.text
    assert URL in caplog.text


def test_a_401_refreshes_the_token_once_then_fails() -> None:
    env = Scripted(answers(json_response(401, {}), json_response(200, {})))
    env.run(call(env.context(), Request("GET", URL)))
    assert env.tokens == [None, "token-1", None]

    env = Scripted(answers(json_response(401, {}), json_response(401, {})))
    with pytest.raises(AuthenticationError):
        env.run(call(env.context(), Request("GET", URL)))
    assert len(env.sent) == 2


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, BadRequestError),
        (409, ConflictError),
        (422, ModelUnavailableError),
        (423, ModelUnavailableError),
        (424, ModelUnavailableError),
        (425, ModelUnavailableError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_statuses_map_to_one_error_class_each_with_anaplans_message(
    status: int, error_type: type[Exception]
) -> None:
    body = {"status": {"code": status, "message": f"Anaplan says {status}"}}
    env = Scripted(lambda request: json_response(status, body))
    with pytest.raises(error_type) as caught:
        env.run(call(env.context(), Request("GET", URL, retry="never", auth=False)))
    assert caught.value.status_code == status  # type: ignore[attr-defined]
    assert caught.value.message == f"Anaplan says {status}"  # type: ignore[attr-defined]
    assert caught.value.body == body  # type: ignore[attr-defined]


def test_rate_limit_error_carries_the_servers_wait() -> None:
    env = Scripted(lambda request: json_response(429, {}, {"retry-after": "600"}))
    with pytest.raises(RateLimitError) as caught:
        env.run(call(env.context(), Request("GET", URL)))
    assert caught.value.retry_after == 600
    assert len(env.sent) == 1


def test_an_empty_budget_stops_retries_client_wide() -> None:
    env = Scripted(lambda request: json_response(503, {}))
    budget = RetryBudget(capacity=10, retry_cost=5)
    ctx = env.context(budget=budget)
    with pytest.raises(ServerError):
        env.run(call(ctx, Request("GET", URL)))
    assert len(env.sent) == 3  # two retries paid for, then the budget is empty
    with pytest.raises(ServerError):
        env.run(call(ctx, Request("GET", URL)))
    assert len(env.sent) == 4


def test_lists_follow_total_size_not_next_links() -> None:
    pages = [
        json_response(200, {"items": [{"id": 1}, {"id": 2}], "meta": {"paging": {"totalSize": 3}}}),
        json_response(200, {"items": [{"id": 3}], "meta": {"paging": {"totalSize": 3}}}),
    ]
    env = Scripted(answers(*pages))
    items = env.run(list_all(env.context(), URL, "items"))
    assert [item["id"] for item in items] == [1, 2, 3]
    assert [r.params["offset"] for r in env.sent] == ["0", "2"]


def test_an_absent_collection_key_is_an_empty_list() -> None:
    env = Scripted(answers(json_response(200, {"meta": {"paging": {"totalSize": 0}}})))
    assert env.run(list_all(env.context(), URL, "tasks")) == []


def limited(seconds: str) -> Response:
    return json_response(
        429, {"status": {"code": 429, "message": "slow down"}}, {"retry-after": seconds}
    )


def test_429_waits_within_the_cap_spend_no_attempt_and_no_budget() -> None:
    env = Scripted(answers(*[limited("2")] * 6, json_response(200, {"ok": True})))
    ctx = env.context(retry=RetryPolicy(max_attempts=1), budget=RetryBudget(capacity=0))
    response = env.run(call(ctx, Request("GET", URL)))
    assert response.json() == {"ok": True}
    assert len(env.sent) == 7
    assert sum(env.sleeps) == pytest.approx(12.0)


def test_after_a_429_every_caller_of_the_client_waits_before_sending() -> None:
    env = Scripted(lambda request: json_response(200, {}))
    ctx = env.context()
    first = call(ctx, Request("GET", URL, auth=False))
    assert isinstance(next(first), Send)
    assert first.send(limited("5")) == Sleep(5.0)  # the first caller is paused ...
    second = call(ctx, Request("GET", f"{URL}/other", auth=False))
    assert next(second) == Sleep(5.0)  # ... and so is a second one that never saw the 429
    env.advance(5.0)
    assert isinstance(next(second), Send)  # the second takes the slot once the pause is over
    assert next(first) == Sleep(5.0)  # one request per Retry-After while the limit lasts


def test_a_call_waits_for_rate_limits_only_as_long_as_its_patience() -> None:
    env = Scripted(lambda request: limited("30"))
    ctx = env.context(retry=RetryPolicy(rate_limit_patience=100.0))
    with pytest.raises(RateLimitError) as caught:
        env.run(call(ctx, Request("GET", URL)))
    assert caught.value.retry_after == 30
    assert sum(env.sleeps) <= 100.0
    assert len(env.sent) == 4


def test_a_429_without_retry_after_is_still_a_failed_attempt() -> None:
    no_hint = json_response(429, {"status": {"code": 429, "message": "slow down"}})
    env = Scripted(answers(no_hint, no_hint))
    ctx = env.context(retry=RetryPolicy(max_attempts=2))
    with pytest.raises(RateLimitError):
        env.run(call(ctx, Request("GET", URL)))
    assert len(env.sent) == 2


def test_a_successful_retry_gives_back_what_its_retries_cost() -> None:
    busy = json_response(503, {})
    env = Scripted(answers(busy, busy, json_response(200, {})))
    budget = RetryBudget(capacity=100, retry_cost=5)
    env.run(call(env.context(budget=budget), Request("GET", URL)))
    assert budget.level == 100


def test_every_date_header_narrows_the_servers_clock() -> None:
    env = Scripted(lambda request: json_response(200, {}), server_offset=-42.0)
    ctx = env.context()
    assert ctx.state.clock.bounds is None
    for _ in range(3):
        env.run(call(ctx, Request("GET", URL)))
        env.advance(0.3)
    bounds = ctx.state.clock.bounds
    assert bounds is not None
    assert bounds.low <= -42.0 <= bounds.high
    assert bounds.high - bounds.low <= 2.0
