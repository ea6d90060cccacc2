"""Task flows on a scripted server: starts that are never doubled, and waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from anaplan_tasks._core import tasks
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks._core.retry import RetryPolicy
from anaplan_tasks._core.types import ProgressUpdate, TaskRef
from anaplan_tasks.errors import (
    AmbiguousStartError,
    ServerError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    TransportError,
)

from .scripted import Scripted, json_response

IMPORT_ID = "112000000001"
REF = TaskRef("imports", IMPORT_ID, "A" * 32, "Accounts")


def task_json(state: str, task_id: str = "A" * 32, **extra: Any) -> dict[str, Any]:
    return {"task": {"taskId": task_id, "taskState": state, "creationTime": 1, **extra}}


class FakeAction:
    """Tasks of one import on a scripted server, with failures injected on the start POST."""

    def __init__(
        self,
        env: Scripted,
        start_failures: list[Callable[[], Response]],
        *,
        keyed: bool = False,
        echo: bool = False,
    ):
        self.env = env
        self.start_failures = start_failures
        self.created: list[tuple[str, float]] = []
        self.keys: list[str] = []
        self.keyed = keyed
        self.echo = echo

    def create(self, key: str) -> dict[str, Any]:
        if self.keyed and key in self.keys:
            return task_json("NOT_STARTED", self.created[self.keys.index(key)][0])
        task_id = f"{len(self.created):032X}"
        server_ms = (self.env.wall + (self.env.server_offset or 0.0)) * 1000
        self.created.append((task_id, server_ms))
        self.keys.append(key)
        return task_json("NOT_STARTED", task_id)

    def __call__(self, request: Request) -> Response:
        if request.method == "POST" and request.url.endswith("/tasks"):
            assert request.retry == "start"
            key = request.headers["Idempotency-Key"]
            if self.start_failures:
                failure = self.start_failures.pop(0)
                return failure()
            headers = {"idempotency-key": key} if self.echo else {}
            return json_response(200, self.create(key), headers)
        if request.method == "GET" and request.url.endswith("/tasks"):
            items = [
                {"taskId": task_id, "taskState": "IN_PROGRESS", "creationTime": int(created)}
                for task_id, created in self.created
            ]
            return json_response(
                200, {"tasks": items, "meta": {"paging": {"totalSize": len(items)}}}
            )
        if request.method == "GET":
            task_id = request.url.rsplit("/", 1)[1]
            return json_response(200, task_json("IN_PROGRESS", task_id, progress=0.1))
        raise AssertionError(request)


def committed_then_reset(action: FakeAction) -> Callable[[], Response]:
    def fail() -> Response:
        action.create(action.env.sent[-1].headers["Idempotency-Key"])
        raise TransportError("reset", request_sent=True)

    return fail


def someone_else_starts_then_reset(action: FakeAction) -> Callable[[], Response]:
    def fail() -> Response:
        action.create("someone else's key")
        raise TransportError("reset", request_sent=True)

    return fail


def status_only(code: int) -> Callable[[], Response]:
    return lambda: json_response(code, {"status": {"code": code, "message": "busy"}})


def connect_error() -> Response:
    raise TransportError("refused", request_sent=False)


def run_start(
    failures: Callable[[FakeAction], list[Callable[[], Response]]],
    *,
    keyed: bool = False,
    echo: bool = False,
    server_offset: float | None = 0.0,
    **policy: Any,
) -> tuple[Scripted, FakeAction, Any]:
    env = Scripted(lambda request: action(request), server_offset=server_offset)
    action = FakeAction(env, [], keyed=keyed, echo=echo)
    action.start_failures = failures(action)
    ctx = env.context(retry=RetryPolicy(**policy))
    status = env.run(tasks.start(ctx, "imports", IMPORT_ID, {"localeName": "en_US"}))
    return env, action, status


def posts_and_lists(env: Scripted) -> tuple[int, int]:
    posts = [r for r in env.sent if r.method == "POST"]
    lists = [r for r in env.sent if r.method == "GET" and r.url.endswith("/tasks")]
    return len(posts), len(lists)


def test_a_start_whose_answer_was_lost_adopts_the_task_instead_of_starting_another() -> None:
    env, action, status = run_start(lambda a: [committed_then_reset(a)])
    assert len(action.created) == 1
    assert status.id == action.created[0][0]
    posts = [r for r in env.sent if r.method == "POST"]
    assert len(posts) == 1


def test_a_5xx_start_that_created_nothing_is_sent_again_with_the_same_key() -> None:
    env, action, _ = run_start(lambda a: [status_only(502), status_only(500)])
    assert len(action.created) == 1
    posts = [r for r in env.sent if r.method == "POST"]
    assert len(posts) == 3
    assert len({r.headers["Idempotency-Key"] for r in posts}) == 1
    lists = [r for r in env.sent if r.method == "GET" and r.url.endswith("/tasks")]
    assert len(lists) == 2


@pytest.mark.parametrize("failure", [connect_error, status_only(429), status_only(409)])
def test_refused_starts_are_retried_without_reconciling(failure: Callable[[], Response]) -> None:
    env, action, _ = run_start(lambda a: [failure, failure])
    assert len(action.created) == 1
    assert not any(r.method == "GET" and r.url.endswith("/tasks") for r in env.sent)


def test_a_task_older_than_the_attempt_is_not_adopted() -> None:
    env = Scripted(lambda request: action(request))
    action = FakeAction(env, [])
    action.create("someone else's, an hour ago")
    env.advance(3600)
    action.start_failures = [status_only(502)]
    status = env.run(tasks.start(env.context(), "imports", IMPORT_ID, {"localeName": "en_US"}))
    assert len(action.created) == 2
    assert status.id == action.created[1][0]


def test_start_gives_up_after_the_attempt_cap_and_raises_the_last_error() -> None:
    env = Scripted(lambda request: action(request))
    action = FakeAction(env, [status_only(503)] * 10)
    with pytest.raises(ServerError):
        env.run(tasks.start(env.context(), "imports", IMPORT_ID, {"localeName": "en_US"}))
    assert action.created == []
    assert len([r for r in env.sent if r.method == "POST"]) == 4


def test_a_503_with_anaplans_error_body_is_a_refusal_sent_again_without_listing() -> None:
    env, action, status = run_start(lambda a: [status_only(503), status_only(503)])
    assert len(action.created) == 1
    assert posts_and_lists(env) == (3, 0)
    assert status.id == action.created[0][0]


def test_a_503_without_anaplans_body_may_have_run_and_is_reconciled() -> None:
    gateway = lambda: json_response(503, {"message": "upstream unavailable"})  # noqa: E731
    env, action, _ = run_start(lambda a: [gateway])
    assert posts_and_lists(env) == (2, 1)
    assert len(action.created) == 1


def test_a_server_that_honours_keys_gets_the_start_again_with_its_key_and_no_listing() -> None:
    env, action, status = run_start(
        lambda a: [committed_then_reset(a), committed_then_reset(a)],
        keyed=True,
        idempotency_keys="honoured",
    )
    assert len(action.created) == 1
    assert posts_and_lists(env) == (3, 0)
    assert status.id == action.created[0][0]


def test_auto_trusts_keys_only_after_a_start_answer_echoed_its_key() -> None:
    env = Scripted(lambda request: action(request))
    action = FakeAction(env, [], keyed=True, echo=True)
    ctx = env.context()
    body = {"localeName": "en_US"}
    env.run(tasks.start(ctx, "imports", IMPORT_ID, body))  # answered with the key echoed
    assert posts_and_lists(env) == (1, 0)
    action.start_failures = [committed_then_reset(action)]
    second = env.run(tasks.start(ctx, "imports", IMPORT_ID, body))
    assert posts_and_lists(env) == (3, 0)
    assert second.id == action.created[1][0]
    assert len(action.created) == 2


def test_auto_without_an_echo_reconciles_from_the_list() -> None:
    env, action, status = run_start(lambda a: [committed_then_reset(a)], keyed=True)
    assert posts_and_lists(env) == (1, 1)
    assert status.id == action.created[0][0]


def test_two_candidates_raise_naming_both_and_nothing_is_started_again() -> None:
    def failures(action: FakeAction) -> list[Callable[[], Response]]:
        def both() -> Response:
            action.create("someone else's")
            return committed_then_reset(action)()

        return [both]

    with pytest.raises(AmbiguousStartError) as caught:
        run_start(failures)
    error = caught.value
    assert [item.id for item in error.candidates] == [f"{0:032X}", f"{1:032X}"]
    assert f"{0:032X}" in str(error)
    assert f"{1:032X}" in str(error)
    assert "before starting the action again" in str(error)
    assert error.idempotency_key == "key-1"
    assert isinstance(error.cause, TransportError)


def test_a_stranger_that_is_the_only_candidate_is_not_adopted_when_actions_are_shared() -> None:
    with pytest.raises(AmbiguousStartError, match="shared_actions") as caught:
        run_start(lambda a: [someone_else_starts_then_reset(a)], shared_actions=True)
    assert len(caught.value.candidates) == 1


def test_a_lone_candidate_is_not_adopted_while_a_sibling_start_of_the_action_is_unresolved() -> (
    None
):
    env = Scripted(lambda request: action(request))
    action = FakeAction(env, [])
    action.start_failures = [committed_then_reset(action)]
    ctx = env.context()
    sibling = ctx.state.starts.begin(
        f"https://api.test/2/0/workspaces/ws/models/MODEL/imports/{IMPORT_ID}/tasks"
    )
    with pytest.raises(AmbiguousStartError, match="another start of the same action"):
        env.run(tasks.start(ctx, "imports", IMPORT_ID, {"localeName": "en_US"}))
    ctx.state.starts.end(sibling, settled=True)
    # Once the sibling has settled (its task claimed), a lone candidate is adopted again.
    env.advance(60.0)
    action.start_failures = [committed_then_reset(action)]
    status = env.run(tasks.start(ctx, "imports", IMPORT_ID, {"localeName": "en_US"}))
    assert status.id == action.created[1][0]


@pytest.mark.parametrize("offset", [-3600.0, -2.5, 0.0, 7.0, 3600.0])
def test_the_window_follows_the_servers_clock_as_its_date_headers_show(offset: float) -> None:
    env, action, status = run_start(lambda a: [committed_then_reset(a)], server_offset=offset)
    assert status.id == action.created[0][0]
    assert posts_and_lists(env) == (1, 1)


def test_a_task_created_three_seconds_before_the_send_is_not_a_candidate() -> None:
    env = Scripted(lambda request: action(request), server_offset=3600.0)
    action = FakeAction(env, [])
    ctx = env.context()
    env.run(tasks.list_tasks(ctx, "imports", IMPORT_ID))  # a Date header measures the clock
    action.create("a stranger's, three seconds earlier")
    env.advance(3.0)
    action.start_failures = [status_only(502)]
    status = env.run(tasks.start(ctx, "imports", IMPORT_ID, {"localeName": "en_US"}))
    assert status.id == action.created[1][0]
    assert len(action.created) == 2


def test_without_any_date_header_a_candidate_cannot_be_proven_and_raises() -> None:
    with pytest.raises(AmbiguousStartError, match="Date header"):
        run_start(lambda a: [committed_then_reset(a)], server_offset=None)


def test_a_start_committed_late_is_listed_after_the_settle_time_and_adopted() -> None:
    env = Scripted(lambda request: action(request))
    action = FakeAction(env, [])
    ctx = env.context(retry=RetryPolicy(start_settle=2.0))
    committed: list[float] = []

    def late() -> Response:
        committed.append(env.now + 1.5)  # the server commits 1.5 s after the reset
        raise TransportError("reset", request_sent=True)

    original = action.__call__

    def server(request: Request) -> Response:
        if committed and env.now >= committed[0] and not action.created:
            action.create("late")
        return original(request)

    env.handler = server
    action.start_failures = [late]
    status = env.run(tasks.start(ctx, "imports", IMPORT_ID, {"localeName": "en_US"}))
    assert status.id == action.created[0][0]
    assert len(action.created) == 1
    assert posts_and_lists(env) == (1, 1)


def test_keyed_starts_that_never_get_an_answer_raise_ambiguous_with_the_key() -> None:
    env = Scripted(lambda request: action(request))
    action = FakeAction(env, [], keyed=True)
    action.start_failures = [committed_then_reset(action)] * 10
    ctx = env.context(retry=RetryPolicy(idempotency_keys="honoured"))
    with pytest.raises(AmbiguousStartError, match="key-1") as caught:
        env.run(tasks.start(ctx, "imports", IMPORT_ID, {"localeName": "en_US"}))
    assert caught.value.idempotency_key == "key-1"
    assert len(action.created) == 1
    assert posts_and_lists(env) == (4, 0)


def test_start_body_puts_the_locale_first() -> None:
    body = tasks.start_body("en_US", {"Version": "Forecast"})
    assert list(body) == ["localeName", "mappingParameters"]
    assert body["mappingParameters"] == [{"entityType": "Version", "entityName": "Forecast"}]


# -- waiting ---------------------------------------------------------------------------------


def timeline(states: list[dict[str, Any]]) -> Callable[[Request], Response]:
    remaining = list(states)

    def handler(request: Request) -> Response:
        if request.method == "DELETE":
            remaining[:] = [
                task_json("CANCELLING", progress=0.5),
                task_json("CANCELLED", progress=0.5),
            ]
            return json_response(200, task_json("CANCELLING", progress=0.5))
        state = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return json_response(200, state)

    return handler


COMPLETE_OK = task_json(
    "COMPLETE",
    progress=1.0,
    result={"successful": True, "failureDumpAvailable": False, "objectId": IMPORT_ID},
)
COMPLETE_FAILED = task_json(
    "COMPLETE",
    progress=1.0,
    currentStep="Complete.",
    result={
        "successful": False,
        "failureDumpAvailable": True,
        "objectId": IMPORT_ID,
        "details": [
            {
                "type": "hierarchyRowsProcessedWithFailures",
                "localMessageText": "Accounts: 118 rows successful, 3 failed",
                "values": ["hierarchyName", "Accounts", "failedCount", "3"],
            },
            {
                "type": "hierarchyImportInvalidParent",
                "localMessageText": "Invalid parent",
                "occurrences": 3,
            },
        ],
    },
)


def test_wait_returns_the_completed_task_and_reports_progress() -> None:
    env = Scripted(
        timeline(
            [task_json("IN_PROGRESS", progress=0.5, currentStep="Processing ..."), COMPLETE_OK]
        )
    )
    updates: list[ProgressUpdate] = []
    done = env.run(tasks.wait(env.context(), REF, on_progress=updates.append))
    assert done.result.successful
    assert updates[0].progress == 0.5
    assert updates[0].current_step == "Processing ..."
    assert len(env.sent) == 2


def test_a_failed_task_raises_with_details_and_counts_in_the_message() -> None:
    env = Scripted(timeline([COMPLETE_FAILED]))
    with pytest.raises(TaskFailedError) as caught:
        env.run(tasks.wait(env.context(), REF))
    message = str(caught.value)
    assert "import 'Accounts'" in message
    assert "3 rows failed" in message
    assert "Invalid parent (3 rows)" in message
    assert caught.value.result.successful is False
    assert [d.type for d in caught.value.failure_details] == [
        "hierarchyRowsProcessedWithFailures",
        "hierarchyImportInvalidParent",
    ]


def test_a_cancelled_task_ends_the_wait() -> None:
    env = Scripted(timeline([task_json("CANCELLED", progress=0.3, cancelledBy="ops@example.com")]))
    with pytest.raises(TaskCancelledError, match=r"ops@example\.com") as caught:
        env.run(tasks.wait(env.context(), REF))
    assert not caught.value.cancelled_by_us


def test_the_deadline_raises_with_the_last_status_and_can_cancel() -> None:
    env = Scripted(timeline([task_json("IN_PROGRESS", progress=0.01)]))
    with pytest.raises(TaskTimeoutError) as caught:
        env.run(tasks.wait(env.context(), REF, timeout=60))
    assert caught.value.task.task_state == "IN_PROGRESS"
    assert not caught.value.cancelled
    assert env.now == pytest.approx(60)
    assert not any(r.method == "DELETE" for r in env.sent)

    env = Scripted(timeline([task_json("IN_PROGRESS", progress=0.01)]))
    with pytest.raises(TaskTimeoutError) as caught:
        env.run(tasks.wait(env.context(), REF, timeout=60, cancel_on_timeout=True))
    assert caught.value.cancelled
    assert caught.value.task.task_state == "CANCELLED"


def test_keyboard_interrupt_cancels_the_server_task_and_reports_it() -> None:
    calls = {"n": 0}
    inner = timeline([task_json("IN_PROGRESS", progress=0.2)])

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return inner(request)

    env = Scripted(handler)
    with pytest.raises(TaskCancelledError) as caught:
        env.run(tasks.wait(env.context(), REF))
    assert caught.value.cancelled_by_us
    assert caught.value.task.task_state == "CANCELLED"
    assert isinstance(caught.value.__cause__, KeyboardInterrupt)
    assert [r.method for r in env.sent].count("DELETE") == 1


def test_opting_out_of_cancel_on_interrupt_leaves_the_task_alone() -> None:
    def handler(request: Request) -> Response:
        raise KeyboardInterrupt

    env = Scripted(handler)
    with pytest.raises(KeyboardInterrupt):
        env.run(tasks.wait(env.context(), REF, cancel_on_interrupt=False))
    assert all(r.method == "GET" for r in env.sent)


def test_a_wait_rides_out_a_short_outage_of_the_status_endpoint() -> None:
    answers = iter(
        [json_response(503, {})] * 8  # two status reads, each failing all four attempts
        + [json_response(200, COMPLETE_OK)]
    )
    env = Scripted(lambda request: next(answers))
    done = env.run(tasks.wait(env.context(), REF))
    assert done.result.successful
    assert len(env.sent) == 9


def test_a_long_outage_ends_the_wait_with_the_servers_error() -> None:
    env = Scripted(lambda request: json_response(503, {"status": {"message": "down"}}))
    with pytest.raises(ServerError, match="down"):
        env.run(tasks.wait(env.context(), REF))
    assert len(env.sent) == 4 * 4  # tolerance 3: the fourth failed read ends it


def _failures(kind: str, key: str) -> dict[str, Any]:
    return {"type": kind, "values": [key, "7"]}


def test_rejected_rows_fail_a_successful_task_only_when_asked() -> None:
    partial = task_json(
        "COMPLETE",
        progress=1.0,
        result={
            "successful": True,
            "failureDumpAvailable": True,
            "objectId": IMPORT_ID,
            "details": [_failures("hierarchyRowsProcessedWithFailures", "failedCount")],
        },
    )
    env = Scripted(timeline([partial]))
    assert env.run(tasks.wait(env.context(), REF)).result.successful
    env = Scripted(timeline([partial]))
    with pytest.raises(TaskFailedError, match="completed but rejected rows, 7 rows failed"):
        env.run(tasks.wait(env.context(), REF, fail_on_rejected_rows=True))


def test_a_task_list_that_cannot_be_read_leaves_the_start_ambiguous_not_repeated() -> None:
    env = Scripted(lambda request: action(request))
    action = FakeAction(env, [])
    action.start_failures = [committed_then_reset(action)]
    original = action.__call__

    def server(request: Request) -> Response:
        if request.method == "GET" and request.url.endswith("/tasks"):
            return json_response(404, {"status": {"code": 404, "message": "gone"}})
        return original(request)

    env.handler = server
    with pytest.raises(AmbiguousStartError, match="could not be listed"):
        env.run(tasks.start(env.context(), "imports", IMPORT_ID, {"localeName": "en_US"}))
    assert posts_and_lists(env) == (1, 1)
