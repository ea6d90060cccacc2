"""What users read from a task: detail values, the walk, failed parts, counts, one-liners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.models import (
    CancelledTask,
    CompletedTask,
    PendingTask,
    Task,
    TaskResult,
    TaskResultDetail,
    parse_task,
)

EXAMPLES = Path(__file__).parent / "wire_examples"
TASK_ID = "7E6D5C4B3A2948F1A0B9C8D7E6F5A4B3"


def example(name: str) -> Any:
    return parse_task(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))


def completed(name: str) -> CompletedTask:
    task = example(name)
    assert isinstance(task, CompletedTask)
    return task


def result(**fields: Any) -> TaskResult:
    return TaskResult.model_validate({"successful": True, "failureDumpAvailable": False, **fields})


def detail(kind: str, *values: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": kind, "values": list(values), "localMessageText": text}


# -- TaskResultDetail ---------------------------------------------------------------------------


def test_value_map_decodes_the_documented_import_summary_with_integer_counts() -> None:
    summary = completed("import_success.json").result.details[0]
    assert summary.value_map == {
        "hierarchyName": "Accounts",
        "successRowCount": 120,
        "successCreateCount": 20,
        "successUpdateCount": 100,
        "warningsRowCount": 0,
        "warningsCreateCount": 0,
        "warningsUpdateCount": 0,
        "failedCount": 0,
        "ignoredCount": 3,
        "totalRowCount": 123,
        "totalCreateCount": 20,
        "totalUpdateCount": 100,
        "invalidCount": 0,
        "updatedCount": 100,
        "renamedCount": 100,
        "createdCount": 20,
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            ["exportName", "Revenue.csv", "fileSize", "52311"],
            {"exportName": "Revenue.csv", "fileSize": 52311},
        ),
        (["affectedItems", "12", "targetName", "42"], {"affectedItems": 12, "targetName": "42"}),
        (["lineNumber", "7", "position", "3"], {"lineNumber": 7, "position": 3}),
        (["lineItemName", "Revenue", "rowCount", "9"], {"lineItemName": "Revenue", "rowCount": 9}),
        (["failureCount", "-1", "failedCount", "n/a"], {"failureCount": -1, "failedCount": "n/a"}),
        (
            ["hierarchyName", None, "ignoredCount", None],
            {"hierarchyName": None, "ignoredCount": None},
        ),
        ([None, "orphan", "message", "hi"], {"message": "hi"}),
        (["message", "hi", "trailing"], {"message": "hi", "trailing": None}),
        ([], {}),
    ],
)
def test_value_map_pairs_keys_and_values_with_ints_only_for_counts(
    values: list[str | None], expected: dict[str, Any]
) -> None:
    assert TaskResultDetail(type="x", values=values).value_map == expected


def test_text_is_anaplans_message_without_the_trailing_space() -> None:
    summary = completed("import_success.json").result.details[0]
    assert summary.text == "Accounts: 120 (20/100) rows successful, 3 ignored"


def test_text_without_a_message_spells_out_the_code_and_values() -> None:
    assert TaskResultDetail(type="hierarchyNoChanges").text == "hierarchyNoChanges"
    bare = TaskResultDetail(
        type="unmatchedTextDelimiter", values=["lineNumber", "4", "position", "9"]
    )
    assert bare.text == "unmatchedTextDelimiter: lineNumber=4, position=9"


@pytest.mark.parametrize(
    ("kind", "values", "failed", "is_failure"),
    [
        ("hierarchyRowsProcessed", ["failedCount", "0"], 0, False),
        ("hierarchyRowsProcessedWithFailures", ["failedCount", "3"], 3, True),
        ("lineItemRowsProcessedWithFailures", ["failureCount", "5"], 5, True),
        ("exportSucceeded", ["fileSize", "10"], 0, False),
        ("hierarchyImportBombed", [], 0, True),
        ("moduleImportInvalidListIdentifier", ["hierarchyName", "Regions"], 0, True),
        ("msgImportCancelled", [], 0, True),
        ("internalError", [], 0, True),
    ],
)
def test_failed_count_and_is_failure_follow_the_code_and_counts(
    kind: str, values: list[str], failed: int, is_failure: bool
) -> None:
    entry = TaskResultDetail(type=kind, values=values)  # type: ignore[arg-type]
    assert entry.failed_count == failed
    assert entry.is_failure is is_failure


# -- TaskResult ---------------------------------------------------------------------------------


def test_walk_is_depth_first_in_execution_order() -> None:
    leaf = {"successful": True, "failureDumpAvailable": False, "objectId": "112000000003"}
    inner = {
        "successful": True,
        "failureDumpAvailable": False,
        "objectId": "118000000002",
        "nestedResults": [leaf],
    }
    first = {"successful": True, "failureDumpAvailable": False, "objectId": "112000000001"}
    last = {"successful": True, "failureDumpAvailable": False, "objectId": "116000000004"}
    outer = result(objectId="118000000000", nestedResults=[first, inner, last])
    assert [part.object_id for part in outer.walk()] == [
        "118000000000",
        "112000000001",
        "118000000002",
        "112000000003",
        "116000000004",
    ]
    assert list(result().walk()) == [result()]


def test_failed_results_of_the_process_example_are_its_import_not_the_process() -> None:
    process = completed("process_complete_nested_results.json").result
    assert [part.object_id for part in process.failed_results()] == ["112000000021"]
    assert [d.type for d in process.failure_details()] == ["hierarchyRowsProcessedWithFailures"]
    assert process.failed_row_count == 3


def test_a_failed_action_is_its_own_failed_part() -> None:
    failed = completed("action_failed.json").result
    assert failed.failed_results() == [failed]
    assert failed.failed_row_count == 0


def test_a_process_with_its_own_failure_message_is_listed_with_its_parts() -> None:
    broken = {"successful": False, "failureDumpAvailable": False, "objectId": "112000000001"}
    process = result(
        successful=False,
        objectId="118000000000",
        details=[detail("actionFailed", text="Process stopped")],
        nestedResults=[broken],
    )
    assert [part.object_id for part in process.failed_results()] == ["118000000000", "112000000001"]


def test_a_clean_result_has_no_failed_parts() -> None:
    clean = completed("export_complete.json").result
    assert clean.failed_results() == []
    assert clean.failure_details() == []


def test_failed_row_count_takes_a_module_imports_rows_once_not_once_per_line_item() -> None:
    # A module import reports one lineItemRowsProcessedWithFailures per line item, each counting
    # the same rejected source rows (§6.7).
    module_import = result(
        successful=False,
        failureDumpAvailable=True,
        details=[
            detail(
                "lineItemRowsProcessedWithFailures", "lineItemName", "Units", "failureCount", "7"
            ),
            detail(
                "lineItemRowsProcessedWithFailures", "lineItemName", "Price", "failureCount", "7"
            ),
            detail(
                "lineItemRowsProcessedWithFailures", "lineItemName", "Cost", "failureCount", "4"
            ),
        ],
    )
    assert module_import.failed_row_count == 7


def test_failed_row_count_adds_up_the_actions_of_a_process() -> None:
    list_import = {
        "successful": True,
        "failureDumpAvailable": True,
        "details": [detail("hierarchyRowsProcessedWithFailures", "failedCount", "3")],
    }
    module_import = {
        "successful": True,
        "failureDumpAvailable": True,
        "details": [
            detail("lineItemRowsProcessedWithFailures", "failureCount", "7"),
            detail("lineItemRowsProcessedWithFailures", "failureCount", "7"),
            detail("moduleImportInvalidListIdentifier", "hierarchyName", "Regions"),
        ],
    }
    process = result(nestedResults=[list_import, module_import])
    assert process.failed_row_count == 3 + 7
    assert len(process.failure_details()) == 4


def test_the_wire_extras_are_read_only_properties_and_survive_a_round_trip() -> None:
    built = TaskResult.build(
        successful=True,
        failure_dump_available=False,
        object_id="118000000005",
        object_name="Nightly load",
        duration="868",
        start_time="1767180600123",
    )
    assert (built.object_id, built.object_name) == ("118000000005", "Nightly load")
    assert (built.duration_ms, built.start_time_ms) == (868, 1767180600123)
    assert built.to_wire() == {
        "successful": True,
        "failureDumpAvailable": False,
        "objectId": "118000000005",
        "objectName": "Nightly load",
        "duration": "868",
        "startTime": "1767180600123",
    }
    assert TaskResult.model_validate(built.to_wire()) == built
    assert TaskResult.model_validate(built.model_dump()) == built
    assert result(duration="soon").duration_ms is None


# -- describe() ---------------------------------------------------------------------------------


def test_describe_reads_like_a_status_line_for_every_outcome() -> None:
    lines = {
        name: example(name).describe()
        for name in (
            "import_success.json",
            "action_failed.json",
            "process_complete_nested_results.json",
            "task_cancelled.json",
            "derived/task_queued.json",
            "derived/task_running.json",
            "derived/task_cancelling.json",
        )
    }
    assert lines == {
        "import_success.json": "task 3F9A1C7E5B2D4E8F9A0B1C2D3E4F5A6B: COMPLETE, successful",
        "action_failed.json": (
            "task 1A2B3C4D5E6F47089A1B2C3D4E5F6071: COMPLETE, failed: "
            "The uploaded file is no longer available. Please upload the file again."
        ),
        "process_complete_nested_results.json": (
            f"task {TASK_ID}: COMPLETE, successful with problems, 3 rows failed: "
            "Accounts: 118 (18/100) rows successful, 2 (0/2) rows has warnings, 3 failed, 0 ignored"
        ),
        "task_cancelled.json": (
            "task 9C8B7A6F5E4D43C2B1A0998877665544: "
            "CANCELLED by integration.user@example.com at 37%"
        ),
        "derived/task_queued.json": "task C1D2E3F4A5B647C8D9E0F1A2B3C4D5E6: NOT_STARTED 0%",
        "derived/task_running.json": (
            "task C1D2E3F4A5B647C8D9E0F1A2B3C4D5E6: IN_PROGRESS 42%, Processing ..."
        ),
        "derived/task_cancelling.json": "task 9C8B7A6F5E4D43C2B1A0998877665544: CANCELLING at 37%",
    }
    for line in lines.values():
        assert "\n" not in line


def test_a_pending_alm_task_describes_its_step() -> None:
    pending = PendingTask(id="T", task_state="IN_PROGRESS", creation_time=1, current_step="Syncing")
    assert pending.describe() == "task T: IN_PROGRESS, Syncing"


def test_a_cancelled_task_keeps_progress_step_canceller_and_result() -> None:
    task = example("task_cancelled.json")
    assert isinstance(task, CancelledTask)
    assert isinstance(task, Task)
    assert (task.progress, task.current_step) == (0.37, "Cancelled.")
    assert task.cancelled_by == "integration.user@example.com"
    assert task.result is not None
    assert task.result.details[0].type == "msgImportCancelled"
    assert task.is_terminal


def test_a_cancelled_task_without_progress_reads_as_not_started() -> None:
    task = parse_task({"taskId": "T", "taskState": "CANCELLED", "creationTime": 1})
    assert isinstance(task, CancelledTask)
    assert task.progress == 0.0
    assert task.result is None
    assert task.to_wire() == {"taskId": "T", "taskState": "CANCELLED", "creationTime": 1}


def test_only_complete_and_cancelled_are_terminal() -> None:
    assert not example("derived/task_running.json").is_terminal
    assert not example("derived/task_cancelling.json").is_terminal
    assert example("import_success.json").is_terminal


@pytest.mark.parametrize(
    ("kind", "occurrences", "is_failure"),
    [
        ("hierarchyImportDuplicateKeyInSource", 0, True),  # no "fail"/"error"/"invalid" in it
        ("hierarchyImportDuplicateKeyInSource", 1, True),
        ("expectedYYYY", 0, True),
        ("someNewDataProblem", 2, True),  # unknown code, but it hit two rows
        ("someNewErrorLookingCode", 0, False),  # words are not read
        ("hierarchyRowsProcessedWithFailures", 0, True),  # a summary that says rows failed
        ("hierarchyRowsProcessed", 0, False),
    ],
)
def test_a_failure_is_known_from_codes_and_counts_never_from_words(
    kind: str, occurrences: int, is_failure: bool
) -> None:
    assert TaskResultDetail(type=kind, occurrences=occurrences).is_failure is is_failure


def test_describe_gives_the_first_reason_not_the_summary_line() -> None:
    task = parse_task(
        {
            "taskId": "T" * 32,
            "taskState": "COMPLETE",
            "progress": 1.0,
            "creationTime": 0,
            "result": {
                "successful": True,
                "failureDumpAvailable": True,
                "objectId": "112000000000",
                "details": [
                    {
                        "localMessageText": "Employees: 9 (9/0) rows successful, 1 failed",
                        "occurrences": 0,
                        "type": "hierarchyRowsProcessedWithFailures",
                        "values": ["failedCount", "1"],
                    },
                    {
                        "localMessageText": "Duplicate code in source",
                        "occurrences": 1,
                        "type": "hierarchyImportDuplicateKeyInSource",
                        "values": [],
                    },
                ],
            },
        }
    )
    assert isinstance(task, CompletedTask)
    assert [d.type for d in task.result.failure_details()] == [
        "hierarchyRowsProcessedWithFailures",
        "hierarchyImportDuplicateKeyInSource",
    ]
    assert task.describe().endswith("1 rows failed: Duplicate code in source")
