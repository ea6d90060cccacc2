"""The parse functions: class by state and outcome, and one clear error for bad input."""

from __future__ import annotations

from typing import Any

import pytest

from anaplan_tasks.errors import TaskPayloadError, UnknownTaskStateError
from anaplan_tasks.models import (
    AlmFailureResult,
    AlmSuccessResult,
    CancelledTaskSummary,
    CompletedReportTask,
    CompletedSyncTask,
    FailedReportTask,
    FailedSyncTask,
    ReportTaskFailureResult,
    SyncTaskResult,
    SyncTaskWithoutRevisions,
    TaskSummary,
    parse_report_task,
    parse_sync_task,
    parse_task,
    parse_task_list,
    parse_task_with_url,
    task_payload,
)

TASK_ID = "3F9A1C7E5B2D4E8F9A0B1C2D3E4F5A6B"
SOURCE = "A1B2C3D4E5F60718293A4B5C6D7E8F90"
TARGET = "0F1E2D3C4B5A69788796A5B4C3D2E1F0"


def bulk_task(**changes: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "taskId": TASK_ID,
        "taskState": "COMPLETE",
        "creationTime": 1767180000000,
        "progress": 1.0,
        "currentStep": "Complete.",
        "result": {"successful": True, "failureDumpAvailable": False, "objectId": "112000000021"},
    }
    task.update(changes)
    return task


def alm_task(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "task": {
            "taskId": TASK_ID,
            "taskState": "COMPLETE",
            "creationTime": 1767190000000,
            "currentStep": "Complete.",
            "result": result,
        }
    }


def parse_error(parse: Any, payload: Any) -> TaskPayloadError:
    with pytest.raises(TaskPayloadError) as caught:
        parse(payload)
    return caught.value


# -- bad input: one line naming the task and the field ----------------------------------------


def test_a_wrong_type_names_the_field_the_value_and_the_task() -> None:
    error = parse_error(parse_task, bulk_task(progress="half"))
    assert error.task_id == TASK_ID
    assert error.field == "progress"
    assert str(error) == (
        f"task {TASK_ID} does not fit CompletedTask: field 'progress': "
        "Input should be a valid number, unable to parse string as a number (got 'half')"
    )


def test_a_wrong_type_deep_in_a_nested_result_names_its_path() -> None:
    nested = {"successful": True, "failureDumpAvailable": False, "details": [{"type": 7}]}
    result = {"successful": True, "failureDumpAvailable": False, "nestedResults": [nested]}
    error = parse_error(parse_task, bulk_task(result=result))
    assert error.field == "result.nestedResults.0.details.0.type"
    assert TASK_ID in str(error)
    assert "\n" not in str(error)


def test_a_missing_required_field_names_it_by_its_wire_name() -> None:
    task = bulk_task()
    del task["result"]["failureDumpAvailable"]
    error = parse_error(parse_task, {"task": task})
    assert error.field == "result.failureDumpAvailable"
    assert str(error) == (
        f"task {TASK_ID} does not fit CompletedTask: field 'result.failureDumpAvailable': "
        "Field required"
    )


def test_a_missing_field_of_a_report_result_is_named_without_the_union_tag() -> None:
    payload = alm_task({"successful": True, "sourceRevisionId": SOURCE, "targetRevisionId": TARGET})
    error = parse_error(parse_report_task, payload)
    assert error.field == "result.reportFileUrl"
    assert str(error) == (
        f"task {TASK_ID} does not fit CompletedReportTask: field 'result.reportFileUrl': "
        "Field required"
    )


def test_many_problems_are_summarised_not_listed_in_full() -> None:
    task = {"taskId": TASK_ID, "taskState": "COMPLETE", "result": {"details": [{}, {}, {}]}}
    message = str(parse_error(parse_task, task))
    assert message.startswith(f"task {TASK_ID} does not fit CompletedTask: field ")
    assert message.count("field '") == 3
    assert message.endswith("; and 4 more")
    assert "errors.pydantic.dev" not in message


def test_an_unknown_state_names_the_state_and_the_task() -> None:
    for parse in (parse_task, parse_sync_task, parse_report_task, parse_task_with_url):
        with pytest.raises(UnknownTaskStateError) as caught:
            parse(bulk_task(taskState="PAUSED"))
        assert caught.value.state == "PAUSED"
        assert caught.value.task_id == TASK_ID
        assert caught.value.field == "taskState"
        assert str(caught.value) == (
            f"task {TASK_ID} reports unknown taskState 'PAUSED'; expected one of "
            "NOT_STARTED, IN_PROGRESS, COMPLETE, CANCELLING, CANCELLED"
        )


def test_an_unknown_state_in_a_task_list_names_the_listed_task() -> None:
    tasks = [{"taskId": "A" * 32, "taskState": "COMPLETE", "creationTime": 1}]
    tasks.append({"taskId": "B" * 32, "taskState": "ARCHIVED", "creationTime": 2})
    with pytest.raises(UnknownTaskStateError, match=r"task B{32} reports unknown taskState"):
        parse_task_list({"tasks": tasks})


def test_a_missing_state_is_named() -> None:
    task = bulk_task()
    del task["taskState"]
    error = parse_error(parse_task, task)
    assert (error.field, error.task_id) == ("taskState", TASK_ID)
    assert str(error) == f"task {TASK_ID}: field 'taskState' is missing"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "task payload is not valid JSON"),
        ("[1, 2]", "task payload must be a JSON object, got list"),
        ({"tasks": {"taskId": "x"}}, "task list: 'tasks' must be a list"),
    ],
)
def test_a_body_that_is_not_a_task_says_so(payload: Any, message: str) -> None:
    parse = parse_task_list if isinstance(payload, dict) else parse_task
    with pytest.raises(TaskPayloadError, match=message):
        parse(payload)


def test_a_task_without_an_id_says_so() -> None:
    task = bulk_task()
    del task["taskId"]
    error = parse_error(parse_task, task)
    assert error.task_id is None
    assert str(error).startswith("task <no id> does not fit CompletedTask: field 'taskId'")


# -- ALM results: the specification's classes when they fit, tolerant subclasses when not ----


def test_a_sync_success_without_revision_ids_parses_and_writes_back_as_sent() -> None:
    # §9.2: Apiary's success example carries only `successful: true`.
    task = parse_sync_task(alm_task({"successful": True}))
    assert type(task) is SyncTaskWithoutRevisions
    assert isinstance(task, CompletedSyncTask)
    assert isinstance(task.result, SyncTaskResult)
    assert type(task.result) is AlmSuccessResult
    assert task.result.source_revision_id is None
    assert task.to_wire()["result"] == {"successful": True}
    assert task.describe() == f"task {TASK_ID}: COMPLETE, synced"


def test_a_sync_success_naming_its_revisions_is_the_specifications_class() -> None:
    result = {"successful": True, "sourceRevisionId": SOURCE, "targetRevisionId": TARGET}
    task = parse_sync_task(alm_task(result))
    assert type(task) is CompletedSyncTask
    assert type(task.result) is SyncTaskResult
    assert task.describe() == f"task {TASK_ID}: COMPLETE, revision {SOURCE} synced over {TARGET}"


def test_the_seed_sync_class_itself_still_requires_the_revision_ids() -> None:
    with pytest.raises(ValueError, match="sourceRevisionId"):
        SyncTaskResult.model_validate({"successful": True, "targetRevisionId": TARGET})


def test_a_seed_shaped_failed_sync_stays_a_completed_sync_task() -> None:
    result = {"successful": False, "sourceRevisionId": SOURCE, "targetRevisionId": TARGET}
    task = parse_sync_task(alm_task(result))
    assert type(task) is CompletedSyncTask
    assert task.to_wire()["result"] == result


def test_a_failed_sync_keeps_its_error_even_when_it_names_revisions() -> None:
    error = {"title": "Model Synchronization Failed", "messageText": "Too big", "subtitle": "10 GB"}
    result = {
        "successful": False,
        "sourceRevisionId": SOURCE,
        "targetRevisionId": TARGET,
        "error": error,
    }
    task = parse_sync_task(alm_task(result))
    assert type(task) is FailedSyncTask
    assert task.result.error.subtitle == "10 GB"
    assert task.to_wire()["result"] == result
    assert (
        task.describe()
        == f"task {TASK_ID}: COMPLETE, failed: Model Synchronization Failed: Too big"
    )


def test_a_failed_sync_without_error_or_revisions_names_the_missing_error() -> None:
    error = parse_error(parse_sync_task, alm_task({"successful": False}))
    assert error.field == "result.error"
    assert error.task_id == TASK_ID


def test_a_failed_report_naming_its_revisions_is_the_specifications_class() -> None:
    result = {
        "successful": False,
        "sourceRevisionId": SOURCE,
        "targetRevisionId": TARGET,
        "error": {"title": "Incompatible", "messageText": "The revisions are incompatible"},
    }
    task = parse_report_task(alm_task(result))
    assert type(task) is CompletedReportTask
    assert type(task.result) is ReportTaskFailureResult
    assert task.describe() == f"task {TASK_ID}: COMPLETE, failed: Incompatible"


def test_a_failed_report_with_a_subtitle_keeps_it() -> None:
    result = {
        "successful": False,
        "sourceRevisionId": SOURCE,
        "targetRevisionId": TARGET,
        "error": {"title": "Incompatible", "messageText": "No", "subtitle": "Sync first"},
    }
    task = parse_report_task(alm_task(result))
    assert type(task) is FailedReportTask
    assert isinstance(task.result, AlmFailureResult)
    assert task.to_wire()["result"] == result


def test_a_failed_report_with_a_null_subtitle_writes_it_back() -> None:
    result = {
        "successful": False,
        "sourceRevisionId": SOURCE,
        "targetRevisionId": TARGET,
        "error": {"title": "Incompatible", "messageText": "No", "subtitle": None},
    }
    task = parse_report_task(alm_task(result))
    assert type(task) is FailedReportTask
    assert task.to_wire()["result"] == result


def test_a_pending_alm_task_without_a_step_gets_an_empty_one() -> None:
    # The specification requires currentStep; Anaplan omits it on young tasks.
    payload = {"taskId": TASK_ID, "taskState": "IN_PROGRESS", "creationTime": 1}
    for parse in (parse_sync_task, parse_report_task):
        task = parse(payload)
        assert task.current_step == ""  # type: ignore[union-attr]


# -- task lists and envelopes ----------------------------------------------------------------


def test_a_task_list_takes_every_state_and_no_key_means_no_tasks() -> None:
    states = ["NOT_STARTED", "IN_PROGRESS", "COMPLETE", "CANCELLING", "CANCELLED"]
    tasks = [
        {"taskId": f"{index:032X}", "taskState": state, "creationTime": index}
        for index, state in enumerate(states)
    ]
    summaries = parse_task_list({"meta": {}, "status": {}, "tasks": tasks})
    assert [type(item) for item in summaries] == [TaskSummary] * 3 + [CancelledTaskSummary] * 2
    assert [item.to_wire() for item in summaries] == tasks
    assert [item.is_terminal for item in summaries] == [False, False, True, False, True]
    assert parse_task_list({"meta": {}, "status": {"code": 200}}) == []


def test_task_payload_unwraps_the_envelope_only_when_there_is_one() -> None:
    inner = bulk_task()
    assert task_payload({"meta": {}, "status": {}, "task": inner}) == inner
    assert task_payload(inner) == inner
    assert task_payload({"taskWithUrl": inner}, key="taskWithUrl") == inner
