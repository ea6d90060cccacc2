"""ALM flows on a scripted server: URLs, bodies, reconciled starts, waiting and failures."""

from __future__ import annotations

from typing import Any

import pytest

from anaplan_tasks._core import alm
from anaplan_tasks._core.alm import AlmTaskRef
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks.errors import (
    AlmTaskFailedError,
    AmbiguousStartError,
    ServerError,
    TaskTimeoutError,
    TransportError,
)
from anaplan_tasks.models import CompletedReportTask, CompletedSyncTask

from .scripted import Scripted, json_response

TARGET, SOURCE = "T" * 32, "S" * 32
BODY = alm.task_body(source_model_id=SOURCE, source_revision_id="SR", target_revision_id="TR")


def status(state: str, task_id: str = "A" * 32, **extra: Any) -> dict[str, Any]:
    return {"task": {"taskId": task_id, "taskState": state, "creationTime": 1, **extra}}


def started(task_id: str = "A" * 32) -> Response:
    return json_response(
        201,
        {
            "task": {
                "taskId": task_id,
                "taskUrl": f"https://api.test/2/0/models/{TARGET}/alm/syncTasks/{task_id}",
                "taskState": "IN_PROGRESS",
                "creationTime": 1,
            }
        },
    )


def test_urls_are_workspace_less_and_the_body_has_exactly_three_ids() -> None:
    env = Scripted(lambda request: json_response(200, {}))
    ctx = env.context()
    assert (
        alm.alm_url(ctx, TARGET, "/syncTasks")
        == f"https://api.test/2/0/models/{TARGET}/alm/syncTasks"
    )
    assert alm.alm_url(ctx, None, "") == "https://api.test/2/0/models/MODEL/alm"
    assert BODY == {"sourceRevisionId": "SR", "sourceModelId": SOURCE, "targetRevisionId": "TR"}
    assert alm.revision_query(applied_after="2026-01-01", sort="-name") == {
        "appliedAfter": "2026-01-01",
        "sort": "-name",
    }


def test_latest_revision_is_none_when_the_key_is_absent() -> None:
    env = Scripted(lambda request: json_response(200, {"meta": {}, "status": {}}))
    assert env.run(alm.latest_revision(env.context(), TARGET)) is None


def test_a_documented_success_without_revision_ids_still_reads_as_completed() -> None:
    answers = [
        started(),
        json_response(
            200, status("COMPLETE", currentStep="Complete.", result={"successful": True})
        ),
    ]
    env = Scripted(lambda request: answers.pop(0))
    done = env.run(alm.run_task(env.context(), "syncTasks", TARGET, BODY))
    assert isinstance(done, CompletedSyncTask)
    assert (done.result.source_revision_id, done.result.target_revision_id) == ("SR", "TR")
    post = env.sent[0]
    assert (post.method, post.retry, post.json) == ("POST", "start", BODY)


def test_waiting_polls_until_complete_and_reports_the_step() -> None:
    answers = [
        started(),
        json_response(200, status("IN_PROGRESS")),
        json_response(200, status("IN_PROGRESS", currentStep="Comparing")),
        json_response(
            200,
            status(
                "COMPLETE",
                currentStep="Complete.",
                result={
                    "successful": True,
                    "sourceRevisionId": "SR",
                    "targetRevisionId": "TR",
                    "reportFileUrl": "https://api.test/x",
                },
            ),
        ),
    ]
    env = Scripted(lambda request: answers.pop(0))
    steps: list[str | None] = []
    done = env.run(
        alm.run_task(
            env.context(),
            "comparisonReportTasks",
            TARGET,
            BODY,
            on_progress=lambda update: steps.append(update.current_step),
        )
    )
    assert isinstance(done, CompletedReportTask)
    assert steps == [None, "Comparing"]
    assert len(env.sleeps) == 2


def test_a_failed_task_raises_with_anaplans_title_message_and_subtitle() -> None:
    failure = {
        "successful": False,
        "error": {
            "title": "Model Synchronization Failed",
            "messageText": "Too big.",
            "subtitle": "Limit 10 GB.",
        },
    }
    answers = [
        started(),
        json_response(200, status("COMPLETE", currentStep="Failed.", result=failure)),
    ]
    env = Scripted(lambda request: answers.pop(0))
    with pytest.raises(AlmTaskFailedError) as caught:
        env.run(alm.run_task(env.context(), "syncTasks", TARGET, BODY))
    error = caught.value
    assert (error.title, error.message_text, error.subtitle) == (
        "Model Synchronization Failed",
        "Too big.",
        "Limit 10 GB.",
    )
    assert str(error) == (
        f"ALM sync task {'A' * 32} on model {TARGET} failed: Model Synchronization Failed: "
        "Too big. (Limit 10 GB.)"
    )


def test_the_deadline_raises_with_the_last_status() -> None:
    env = Scripted(lambda request: json_response(200, status("IN_PROGRESS")))
    ref = AlmTaskRef("syncTasks", TARGET, "A" * 32)
    with pytest.raises(TaskTimeoutError, match="cannot be cancelled") as caught:
        env.run(alm.wait(env.context(), ref, timeout=60))
    assert caught.value.task.task_state == "IN_PROGRESS"
    assert 60 <= env.now < 61


def test_a_start_that_may_have_run_is_adopted_not_repeated() -> None:
    posts: list[Request] = []

    def server(request: Request) -> Response:
        if request.method == "POST":
            posts.append(request)
            return json_response(504, {"message": "gateway timeout"})
        return json_response(
            200,
            {
                "tasks": [
                    {
                        "taskId": "B" * 32,
                        "taskState": "IN_PROGRESS",
                        "creationTime": int(env.wall * 1000),
                    }
                ]
            },
        )

    env = Scripted(server)
    ref = env.run(alm.start_task(env.context(), "syncTasks", TARGET, BODY))
    assert ref == AlmTaskRef("syncTasks", TARGET, "B" * 32, "SR", "TR")
    assert len(posts) == 1


def test_an_alm_start_with_two_candidates_raises_naming_them_and_sends_a_key() -> None:
    posts: list[Request] = []

    def server(request: Request) -> Response:
        if request.method == "POST":
            posts.append(request)
            raise TransportError("reset", request_sent=True)
        now = int(env.wall * 1000)
        tasks = [
            {"taskId": task_id, "taskState": "IN_PROGRESS", "creationTime": now}
            for task_id in ("B" * 32, "C" * 32)
        ]
        return json_response(200, {"tasks": tasks})

    env = Scripted(server)
    with pytest.raises(AmbiguousStartError) as caught:
        env.run(alm.start_task(env.context(), "syncTasks", TARGET, BODY))
    assert [item.id for item in caught.value.candidates] == ["B" * 32, "C" * 32]
    assert len(posts) == 1
    assert posts[0].headers["Idempotency-Key"] == caught.value.idempotency_key


def test_a_start_with_no_task_to_adopt_is_retried_then_raised() -> None:
    posts: list[Request] = []

    def server(request: Request) -> Response:
        if request.method == "POST":
            posts.append(request)
            return json_response(503, {"status": {"code": 503, "message": "down"}})
        return json_response(200, {})

    env = Scripted(server)
    ctx = env.context()
    with pytest.raises(ServerError):
        env.run(alm.start_task(ctx, "syncTasks", TARGET, BODY))
    assert len(posts) == ctx.retry.max_attempts


def test_the_comparison_report_is_asked_for_as_octet_stream() -> None:
    env = Scripted(lambda request: Response(200, {}, b"Source Model\tDev\n"))
    content = env.run(alm.download_comparison_report(env.context(), TARGET, "TR", "SR"))
    assert content == b"Source Model\tDev\n"
    (request,) = env.sent
    assert request.headers["Accept"] == "application/octet-stream"
    assert request.url.endswith(f"/models/{TARGET}/alm/comparisonReports/TR/SR")
