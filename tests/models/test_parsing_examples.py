"""Every documented task example parses to the right class and survives a wire round trip.

The examples live in `wire_examples/` (copied from the API reference, see its README). Each file
must be in `EXPECTED`, and each entry of `EXPECTED` must have its file: an example added without
a classification, or one that disappears, fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from anaplan_tasks.errors import TaskPayloadError
from anaplan_tasks.models import (
    AlmFailureResult,
    AlmSuccessResult,
    CancelledTask,
    CompletedReportTask,
    CompletedSyncTask,
    CompletedTask,
    FailedReportTask,
    FailedSyncTask,
    ReportTaskResult,
    SyncTaskResult,
    SyncTaskWithoutRevisions,
    Task,
    TaskResult,
    TaskResultDetail,
    TaskSummary,
    TaskWithUrl,
    parse_report_task,
    parse_sync_task,
    parse_task,
    parse_task_list,
    parse_task_with_url,
)

from .wire_examples import copy_examples

EXAMPLES = Path(__file__).parent / "wire_examples"

Parser = Callable[[Any], BaseModel]

# file (relative to wire_examples/) -> (parse function, exact class, exact class of its result)
EXPECTED: dict[str, tuple[Parser, type[BaseModel], type[BaseModel] | None]] = {
    "import_success.json": (parse_task, CompletedTask, TaskResult),
    "export_complete.json": (parse_task, CompletedTask, TaskResult),
    "process_complete_nested_results.json": (parse_task, CompletedTask, TaskResult),
    "action_failed.json": (parse_task, CompletedTask, TaskResult),
    "task_cancelled.json": (parse_task, CancelledTask, TaskResult),
    "sync_task_started.json": (parse_task_with_url, TaskWithUrl, None),
    "sync_task_complete.json": (parse_sync_task, CompletedSyncTask, SyncTaskResult),
    "sync_task_failed.json": (parse_sync_task, FailedSyncTask, AlmFailureResult),
    "comparison_report_complete.json": (parse_report_task, CompletedReportTask, ReportTaskResult),
    "derived/delete_complete.json": (parse_task, CompletedTask, TaskResult),
    "derived/process_complete_with_process_details.json": (parse_task, CompletedTask, TaskResult),
    "derived/task_queued.json": (parse_task, Task, None),
    "derived/task_running.json": (parse_task, Task, None),
    "derived/task_cancelling.json": (parse_task, CancelledTask, None),
    "derived/sync_task_success_without_revisions.json": (
        parse_sync_task,
        SyncTaskWithoutRevisions,
        AlmSuccessResult,
    ),
    "derived/comparison_report_failed.json": (
        parse_report_task,
        FailedReportTask,
        AlmFailureResult,
    ),
    "derived/summary_report_complete.json": (
        parse_report_task,
        CompletedReportTask,
        ReportTaskResult,
    ),
    "derived/data_error_detail.json": (TaskResultDetail.model_validate, TaskResultDetail, None),
}

# Examples that are not one task object, tested on their own below.
SEPARATE = {"derived/sync_task_list.json", "derived/import_success_with_dump.json"}

# Keys a `TaskResult` keeps from the wire besides its fields.
RESULT_EXTRAS = ("objectId", "objectName", "duration", "startTime")


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def task_object(payload: dict[str, Any]) -> dict[str, Any]:
    inner = payload.get("task")
    return inner if isinstance(inner, dict) else payload


def modelled(data: dict[str, Any], model: BaseModel) -> dict[str, Any]:
    """The input restricted to what the model keeps: its fields (by wire name), recursively."""
    kept: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        key = field.alias or name
        if key not in data:
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            kept[key] = modelled(data[key], value)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            kept[key] = [modelled(raw, item) for raw, item in zip(data[key], value, strict=True)]
        else:
            kept[key] = data[key]
    if isinstance(model, TaskResult):
        kept.update({key: data[key] for key in RESULT_EXTRAS if key in data})
    return kept


def test_every_example_file_is_classified() -> None:
    on_disk = {path.relative_to(EXAMPLES).as_posix() for path in EXAMPLES.rglob("*.json")}
    assert on_disk == set(EXPECTED) | SEPARATE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_parses_to_its_class(name: str) -> None:
    parse, cls, result_cls = EXPECTED[name]
    parsed = parse(load(name))
    assert type(parsed) is cls
    if result_cls is not None:
        assert type(parsed.result) is result_cls  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_round_trips_through_the_wire(name: str) -> None:
    parse, cls, _ = EXPECTED[name]
    payload = load(name)
    parsed = parse(payload)
    wire = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert wire == parsed.to_wire()  # type: ignore[attr-defined]
    # Every field we model comes back under the key (and with the value) it arrived with.
    assert wire == modelled(task_object(payload), parsed)
    again = parse(wire)
    assert type(again) is cls
    assert again == parsed
    assert again.to_wire() == wire  # type: ignore[attr-defined]
    # The full dump (defaults included) and the Python names parse back to the same model.
    assert parse(parsed.model_dump(mode="json", by_alias=True)) == parsed
    assert parse(parsed.model_dump(mode="json")) == parsed


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"derived/data_error_detail.json"}))
def test_envelope_bare_object_bytes_and_text_parse_alike(name: str) -> None:
    parse = EXPECTED[name][0]
    payload = load(name)
    expected = parse(payload)
    text = json.dumps(payload)
    assert parse(text) == expected
    assert parse(text.encode()) == expected
    assert parse(task_object(payload)) == expected
    assert parse({"meta": {}, "status": {"code": 200}, "task": task_object(payload)}) == expected


def test_process_example_keeps_its_nested_results_in_order() -> None:
    task = parse_task(load("process_complete_nested_results.json"))
    assert isinstance(task, CompletedTask)
    assert [part.object_id for part in task.result.walk()] == [
        "118000000005",
        "112000000021",
        "116000000007",
    ]


def test_process_details_example_keeps_duration_and_start_as_numbers() -> None:
    task = parse_task(load("derived/process_complete_with_process_details.json"))
    assert isinstance(task, CompletedTask)
    assert [(part.duration_ms, part.start_time_ms) for part in task.result.walk()] == [
        (868, 1767180600123),
        (611, 1767180600123),
        (257, 1767180600734),
    ]
    # Anaplan sends them as strings, and so do we.
    assert task.to_wire()["result"]["duration"] == "868"


def test_sync_task_list_example_parses_to_summaries_and_back() -> None:
    payload = load("derived/sync_task_list.json")
    summaries = parse_task_list(payload)
    assert [type(item) for item in summaries] == [TaskSummary, TaskSummary]
    assert [item.to_wire() for item in summaries] == payload["tasks"]


def test_import_fixture_without_creation_time_names_the_field_and_task() -> None:
    # §6.5 (b): an old Anaplan Connect fixture; the specification requires creationTime.
    with pytest.raises(TaskPayloadError) as caught:
        parse_task(load("derived/import_success_with_dump.json"))
    assert caught.value.field == "creationTime"
    assert caught.value.task_id == "4B5C6D7E8F9041A2B3C4D5E6F708192A"
    assert str(caught.value) == (
        "task 4B5C6D7E8F9041A2B3C4D5E6F708192A does not fit CompletedTask: "
        "field 'creationTime': Field required"
    )


# -- the copy tool: the named examples are the files, and a new one cannot slip by ------------


def reference_with(*fences: str) -> str:
    """A reference shaped like anaplan-api.md, its task examples split over §6.5 and §9."""
    blocks = [f"```json\n{text}```\n" for text in fences]
    half = len(blocks) // 2
    return "\n".join(
        [
            '### 6.4 status\n```json\n{"taskId": "outside", "taskState": "COMPLETE"}\n```',
            "### 6.5 Real task payloads",
            *blocks[:half],
            "### 6.6 cancel",
            "## 9. ALM",
            '```json\n{ "sourceRevisionId": "A1", "sourceModelId": "M" }\n```',
            *blocks[half:],
            "## 10. Errors",
        ]
    )


def copied_texts() -> dict[str, str]:
    return {
        name: (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")
        for name in copy_examples.NAMES.values()
    }


def test_the_copy_tool_finds_exactly_the_copied_examples_under_their_names() -> None:
    texts = copied_texts()
    assert copy_examples.task_examples(reference_with(*texts.values())) == texts
    for (task_id, state), name in copy_examples.NAMES.items():
        task = task_object(load(f"{name}.json"))
        assert (task["taskId"], task["taskState"]) == (task_id, state)


def test_the_copy_tool_refuses_an_example_it_has_no_name_for() -> None:
    new = '{"task": {"taskId": "FEED", "taskState": "CANCELLED"}}\n'
    with pytest.raises(SystemExit, match=r"unnamed task example \('FEED', 'CANCELLED'\)"):
        copy_examples.task_examples(reference_with(*copied_texts().values(), new))


def test_the_copy_tool_notices_an_example_that_disappeared() -> None:
    texts = list(copied_texts().values())
    with pytest.raises(SystemExit, match="no longer in the reference"):
        copy_examples.task_examples(reference_with(*texts[1:]))
