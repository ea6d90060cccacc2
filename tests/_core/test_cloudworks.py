"""CloudWorks flows on a scripted server: paging, errors, starts never doubled, waiting on runs.

What the emulator cannot provoke on purpose (a lost answer to a run start, a 250-item page
cap with a larger total, an HTML 404, a list-shaped run-error answer) is scripted here; the
rest is tested against the emulator in tests/client/test_cloudworks.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from anaplan_tasks._core import cloudworks as cw
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks.errors import (
    ConflictError,
    IntegrationRunFailedError,
    NotFoundError,
    PermissionDeniedError,
    TaskCancelledError,
    TaskTimeoutError,
    TransportError,
)

from .scripted import Scripted, json_response

CW = "https://api.cloudworks.anaplan.com/2/0"
INTEGRATION = "c1d2e3f4a5b6478c9d0e1f2a3b4c5d6e"
RUN = "9e8d7c6b5a4f43e2d1c0b9a8f7e6d5c4"
OK = {"status": {"code": 200, "message": "Success"}}


def error(status: int, message: str) -> Response:
    return json_response(
        status,
        {"status": {"code": status, "message": message}, "path": "/2/0/x", "timestamp": "t"},
    )


def run_json(end: str | None, success: bool | None = None, message: str = "Running") -> Any:
    return {
        **OK,
        "run": {
            "id": RUN,
            "integrationId": INTEGRATION,
            "startDate": "2026-01-01T00:00:00.000Z",
            "endDate": end,
            "success": success,
            "message": message,
        },
    }


def test_lists_page_by_what_the_server_really_returned() -> None:
    total = 600
    offsets: list[tuple[str, str]] = []

    def handler(request: Request) -> Response:
        offset, limit = int(request.params["offset"]), int(request.params["limit"])
        offsets.append((request.params["offset"], request.params["limit"]))
        size = min(limit, 250, total - offset)
        page = [
            {"integrationId": f"{i:032x}", "name": f"integration {i}"}
            for i in range(offset, offset + size)
        ]
        paging = {"currentPageSize": size, "totalSize": total, "offset": offset}
        return json_response(200, {**OK, "integrations": page, "meta": {"paging": paging}})

    env = Scripted(handler)
    items = env.run(cw.list_integrations(env.context()))
    assert len(items) == total
    assert len({item.integration_id for item in items}) == total
    assert offsets == [("0", "250"), ("250", "250"), ("500", "250")]
    assert env.sent[0].url == f"{CW}/integrations"


def test_a_name_is_resolved_from_the_list_and_an_unknown_one_lists_what_exists() -> None:
    def handler(request: Request) -> Response:
        page = [{"integrationId": INTEGRATION, "name": "Load actuals", "integrationType": "Import"}]
        paging = {"currentPageSize": 1, "totalSize": 1, "offset": 0}
        return json_response(200, {**OK, "integrations": page, "meta": {"paging": paging}})

    env = Scripted(handler)
    found = env.run(cw.resolve_integration(env.context(), "load ACTUALS"))
    assert found.integration_id == INTEGRATION
    with pytest.raises(Exception, match=r"no integration named 'Nope'.*'Load actuals'"):
        env.run(cw.resolve_integration(env.context(), "Nope"))


def test_a_409_is_final_never_retried_as_model_busy() -> None:
    env = Scripted(lambda request: error(409, "Integration is already running"))
    with pytest.raises(ConflictError, match="Integration is already running"):
        env.run(cw.start_run(env.context(), INTEGRATION))
    assert len(env.sent) == 1
    assert env.sleeps == []


def test_452_is_a_missing_role_and_an_html_404_a_missing_route() -> None:
    env = Scripted(lambda request: error(452, "Tenant not entitled"))
    with pytest.raises(PermissionDeniedError, match="Tenant not entitled"):
        env.run(cw.delete_schedule(env.context(), INTEGRATION))
    page = b"<html><head><title>404 Not Found</title></head></html>"
    env = Scripted(lambda request: Response(404, {"content-type": "text/html"}, page))
    with pytest.raises(NotFoundError, match="no such route"):
        env.run(cw.get_integration(env.context(), INTEGRATION))
    env = Scripted(lambda request: error(404, "Resource not found"))
    with pytest.raises(NotFoundError, match="Resource not found"):
        env.run(cw.get_integration(env.context(), INTEGRATION))


def test_a_lost_run_answer_is_reconciled_from_the_history_not_sent_twice() -> None:
    posts: list[Request] = []
    history: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        if request.method == "POST":
            posts.append(request)
            history.insert(
                0,
                {
                    "id": RUN,
                    "startDate": "2025-12-29T09:20:00.500Z",  # the scripted wall clock, + 0.5 s
                    "endDate": None,
                    "message": "Running",
                },
            )
            raise TransportError("reset after send", request_sent=True)
        body = {"integrationId": INTEGRATION, "runs": history, "totalRuns": len(history)}
        return json_response(200, {**OK, "history_of_runs": body})

    env = Scripted(handler)
    env.wall = 1_767_000_000.0  # 2025-12-29T09:20:00Z
    run_id = env.run(cw.start_run(env.context(), INTEGRATION, "Load actuals"))
    assert run_id == RUN
    assert len(posts) == 1
    assert posts[0].headers["Idempotency-Key"] == "key-1"


def test_a_start_that_never_arrived_is_sent_again() -> None:
    attempts: list[int] = []

    def handler(request: Request) -> Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise TransportError("refused", request_sent=False)
        return json_response(200, {**OK, "run": {"id": RUN}})

    env = Scripted(handler)
    assert env.run(cw.start_run(env.context(), INTEGRATION)) == RUN
    assert len(attempts) == 2


class FakeRun:
    """A run that ends after `polls` status reads, as `outcome` says."""

    def __init__(self, polls: int, outcome: tuple[bool, str], errors: Any = None):
        self.polls = polls
        self.outcome = outcome
        self.errors = errors if errors is not None else {}
        self.reads = 0
        self.cancels = 0

    def __call__(self, request: Request) -> Response:
        if request.url.endswith("/cancel"):
            self.cancels += 1
            self.outcome = (False, "Cancelled")
            self.polls = self.reads
            return json_response(200, OK)
        if "/runerror/" in request.url:
            return json_response(200, {**OK, "runs": self.errors})
        self.reads += 1
        if self.reads <= self.polls:
            return json_response(200, run_json(None))
        success, message = self.outcome
        return json_response(200, run_json("2026-01-01T00:01:00.000Z", success, message))


REF = cw.RunRef(INTEGRATION, RUN, "Load actuals")


def test_a_run_is_polled_with_backoff_until_it_ends() -> None:
    fake = FakeRun(5, (True, "Success"))
    seen: list[cw.RunProgress] = []
    env = Scripted(fake)
    status = env.run(cw.wait(env.context(), REF, on_progress=seen.append))
    assert status.success
    assert status.message == "Success"
    assert fake.reads == 6
    assert [update.message for update in seen] == ["Running"] * 5
    assert env.sleeps == sorted(env.sleeps)  # backing off, never faster
    assert env.sleeps[0] < 1.0


def test_a_failed_run_raises_with_its_errors_and_the_dump_named() -> None:
    errors = {
        "id": RUN,
        "errorMessages": [
            {
                "errorMessage": [{"localMessageText": "2 failed", "type": "rowsFailed"}],
                "actionId": "112000000007",
                "actionName": "Import Regions",
                "failureDumpGenerated": True,
            }
        ],
    }
    env = Scripted(FakeRun(1, (False, "Process failed"), errors))
    with pytest.raises(IntegrationRunFailedError) as caught:
        env.run(cw.wait(env.context(), REF))
    failure = caught.value
    assert str(failure) == (
        f"integration 'Load actuals' ({INTEGRATION}) run {RUN} failed: Process failed: "
        "Import Regions: 2 failed [failure dump available: error.dumps]"
    )
    assert failure.errors is not None
    assert failure.errors.dump_actions() == ["112000000007"]
    assert failure.run.message == "Process failed"


def test_a_partial_success_raises_unless_allowed() -> None:
    def partial(request: Request) -> Response:
        if "/runerror/" in request.url:
            return json_response(200, {**OK, "runs": {}})
        body = run_json("2026-01-01T00:01:00.000Z", False, "8 rows loaded, 2 failed")
        body["run"]["executionErrorCode"] = 38
        return json_response(200, body)

    env = Scripted(partial)
    with pytest.raises(IntegrationRunFailedError, match="8 rows loaded, 2 failed"):
        env.run(cw.wait(env.context(), REF))
    status = env.run(cw.wait(env.context(), REF, allow_partial=True))
    assert status.execution_error_code == 38


def test_run_errors_read_an_empty_object_as_none_and_merge_a_list() -> None:
    env = Scripted(lambda request: json_response(200, {**OK, "runs": {}}))
    assert env.run(cw.run_errors(env.context(), RUN)) is None
    listed = [
        {"id": RUN, "errorMessages": [{"actionId": "1", "errorMessage": []}]},
        {"id": RUN, "errorMessages": [{"actionId": "2", "errorMessage": []}]},
    ]
    env = Scripted(lambda request: json_response(200, {**OK, "runs": listed}))
    merged = env.run(cw.run_errors(env.context(), RUN))
    assert [action.action_id for action in merged.error_messages] == ["1", "2"]


def test_the_deadline_raises_and_can_cancel_the_run() -> None:
    fake = FakeRun(10_000, (True, "Success"))
    env = Scripted(fake)
    with pytest.raises(TaskTimeoutError) as caught:
        env.run(cw.wait(env.context(), REF, timeout=3.0, cancel_on_timeout=True))
    assert caught.value.cancelled
    assert fake.cancels == 1
    assert caught.value.task.cancelled
    assert env.now == pytest.approx(3.0, abs=1.0)


def test_an_interrupt_cancels_the_run_and_reports_it() -> None:
    fake = FakeRun(10_000, (True, "Success"))
    env = Scripted(fake)
    flow = cw.wait(env.context(), REF)

    def interrupting(request: Request) -> Response:
        if fake.reads == 3 and not request.url.endswith("/cancel"):
            fake.reads += 1
            raise KeyboardInterrupt
        return fake(request)

    env.handler = interrupting
    with pytest.raises(TaskCancelledError) as caught:
        env.run(flow)
    assert caught.value.cancelled_by_us
    assert fake.cancels == 1
    cancel = next(r for r in env.sent if r.url.endswith("/cancel"))
    assert cancel.method == "POST"
    assert cancel.url == f"{CW}/integrations/{INTEGRATION}/cancel"


def test_a_run_that_succeeds_as_the_deadline_cancels_it_is_returned() -> None:
    fake = FakeRun(10_000, (True, "Success"))

    def ended(request: Request) -> Response:
        if request.url.endswith("/cancel"):
            fake.polls = 0  # it finished just before the cancel arrived
            return error(409, f"Integration {INTEGRATION} is not in running state")
        return fake(request)

    env = Scripted(ended)
    status = env.run(cw.wait(env.context(), REF, timeout=2.0, cancel_on_timeout=True))
    assert status.success


def test_a_schedule_replacement_names_its_integration_in_the_body() -> None:
    env = Scripted(lambda request: json_response(200, OK))
    schedule = {"name": "Nightly", "type": "daily", "time": "02:00", "timezone": "Europe/London"}
    env.run(cw.set_schedule(env.context(), INTEGRATION, schedule, replace=True))
    env.run(cw.set_schedule_enabled(env.context(), INTEGRATION, False))
    put, disable = env.sent
    assert put.method == "PUT"
    assert put.url == f"{CW}/integrations/{INTEGRATION}/schedule"
    assert put.json == {"integrationId": INTEGRATION, "schedule": schedule}
    assert disable.url.endswith("/schedule/status/disabled")
    assert disable.method == "POST"


def test_an_integration_body_takes_the_clients_workspace_and_model() -> None:
    body = cw.integration_body({"name": "x", "processId": "118000000001"}, "ws", "MODEL")
    assert body == {
        "version": "2.0",
        "name": "x",
        "processId": "118000000001",
        "workspaceId": "ws",
        "modelId": "MODEL",
    }
    with pytest.raises(Exception, match="needs workspaceId and modelId"):
        cw.integration_body({"name": "x"}, None, None)


@pytest.mark.parametrize(
    ("flow", "args", "path", "key", "answer"),
    [
        (cw.create_connection, ("AmazonS3", {"name": "s3"}), "/integrations/connections",
         "connections", {"connectionId": "a" * 32}),
        (cw.create_integration, ({"name": "x"},), "/integrations", "integration",
         {"integrationId": "a" * 32}),
        (cw.create_notification, ({"integrationIds": []},), "/integrations/notification",
         "notification", {"notificationId": "a" * 32}),
        (cw.create_flow, ({"name": "f"},), "/integrationflows", "integrationFlow",
         {"integrationFlowId": "a" * 32}),
    ],
)  # fmt: skip
def test_creates_return_the_new_id_and_are_not_repeated_after_a_5xx(
    flow: Callable[..., Any], args: tuple[Any, ...], path: str, key: str, answer: Any
) -> None:
    env = Scripted(lambda request: json_response(200, {**OK, key: answer}))
    assert env.run(flow(env.context(), *args)) == "a" * 32
    assert env.sent[0].url == f"{CW}{path}"
    assert env.sent[0].method == "POST"
    env = Scripted(lambda request: error(500, "Internal server error"))
    with pytest.raises(Exception, match="Internal server error"):
        env.run(flow(env.context(), *args))
    assert len(env.sent) == 1


def test_a_long_run_history_is_read_page_by_page() -> None:
    total = 300

    def handler(request: Request) -> Response:
        offset = int(request.params["offset"])
        size = min(int(request.params["limit"]), 250, total - offset)
        runs = [{"id": f"{i:032x}", "success": True} for i in range(offset, offset + size)]
        history = {"integrationId": INTEGRATION, "runs": runs, "totalRuns": total}
        return json_response(200, {**OK, "history_of_runs": history})

    env = Scripted(handler)
    history = env.run(cw.run_history(env.context(), INTEGRATION))
    assert len(history.runs) == total
    assert [request.params["offset"] for request in env.sent] == ["0", "250"]
    assert env.sent[0].url == f"{CW}/integrations/runs/{INTEGRATION}"


@pytest.mark.parametrize(("duration", "most_reads"), [(10, 12), (60, 35), (360, 75), (3600, 190)])
def test_a_run_is_seen_within_5_percent_of_its_duration_of_its_end(
    duration: float, most_reads: int
) -> None:
    env = Scripted(lambda request: json_response(200, {}))

    def handler(request: Request) -> Response:
        done = env.now >= duration
        return json_response(
            200, run_json("2026-01-01T01:00:00.000Z" if done else None, done or None, "Success")
        )

    env.handler = handler
    env.run(cw.wait(env.context(), REF))
    assert env.now - duration <= max(2.0, 0.05 * duration)
    assert len(env.sent) <= most_reads
