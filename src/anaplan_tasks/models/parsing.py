"""One obvious way to turn a task payload into the right task model.

Each function takes the response body as a mapping, `bytes` or `str`, with or without Anaplan's
`{"meta": …, "status": …, "task": {…}}` envelope, and picks the class by `taskState` (and, for
finished ALM tasks, by `result.successful`). Problems raise
[`TaskPayloadError`][anaplan_tasks.errors.TaskPayloadError] naming the task and the field, never a
wall of validation output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import TaskPayloadError, UnknownTaskStateError
from .tasks import (
    CancelledTask,
    CancelledTaskSummary,
    CompletedReportTask,
    CompletedSyncTask,
    CompletedTask,
    FailedReportTask,
    FailedSyncTask,
    PendingTask,
    SyncTaskWithoutRevisions,
    Task,
    TaskSummary,
    TaskWithUrl,
)

BulkTaskStatus: TypeAlias = Task | CompletedTask | CancelledTask
"""The status of an import, export, action or process task."""

SyncTaskStatus: TypeAlias = PendingTask | CompletedSyncTask | CancelledTask
"""The status of an ALM sync task.

A failed sync with an `error` is a `FailedSyncTask` and a success without revision ids a
`SyncTaskWithoutRevisions`; both are `CompletedSyncTask`s.
"""

ReportTaskStatus: TypeAlias = PendingTask | CompletedReportTask | CancelledTask
"""The status of an ALM comparison or summary report task."""

TaskListItem: TypeAlias = TaskSummary | CancelledTaskSummary
"""One entry of a task list."""

Payload: TypeAlias = Mapping[str, Any] | bytes | str

_ModelT = TypeVar("_ModelT", bound=BaseModel)

_RUNNING = ("NOT_STARTED", "IN_PROGRESS")
_CANCELLED = ("CANCELLING", "CANCELLED")


def decode_payload(payload: Payload) -> Mapping[str, Any]:
    """Decode a response body to a JSON object, raising `TaskPayloadError` when it is not one."""
    data: Any = payload
    if isinstance(payload, bytes | str):
        try:
            data = json.loads(payload)
        except ValueError as error:
            raise TaskPayloadError(f"task payload is not valid JSON: {error}") from error
    if not isinstance(data, Mapping):
        raise TaskPayloadError(f"task payload must be a JSON object, got {type(data).__name__}")
    return data


def task_payload(payload: Payload, key: str = "task") -> dict[str, Any]:
    """Return the task object of a response body, unwrapping the envelope when present."""
    data = decode_payload(payload)
    inner = data.get(key)
    if isinstance(inner, Mapping):
        return dict(inner)
    return dict(data)


def parse_task(payload: Payload) -> BulkTaskStatus:
    """Parse a bulk task status: `Task`, `CompletedTask` or `CancelledTask`."""
    data = task_payload(payload)
    state = _state_of(data)
    if state in _RUNNING:
        return _validate(Task, data)
    if state == "COMPLETE":
        return _validate(CompletedTask, data)
    return _validate(CancelledTask, data)


def parse_sync_task(payload: Payload) -> SyncTaskStatus:
    """Parse an ALM sync task: `PendingTask` or `CompletedSyncTask`.

    A finished sync whose result fits the specification is a `CompletedSyncTask`. Two answers
    Anaplan documents do not, and parse to its subclasses: a failure with an `error` (and often
    without revision ids) is a `FailedSyncTask`; a success without revision ids is a
    `SyncTaskWithoutRevisions`.
    """
    data = task_payload(payload)
    state = _state_of(data)
    if state in _RUNNING:
        return _validate(PendingTask, _with_step(data))
    if state == "COMPLETE":
        result = data.get("result")
        if isinstance(result, Mapping):
            names_revisions = _names_revisions(result)
            if result.get("successful") is False and ("error" in result or not names_revisions):
                return _validate(FailedSyncTask, _with_step(data))
            if result.get("successful") is True and not names_revisions:
                return _validate(SyncTaskWithoutRevisions, _with_step(data))
        return _validate(CompletedSyncTask, _with_step(data))
    return _validate(CancelledTask, data)


def parse_report_task(payload: Payload) -> ReportTaskStatus:
    """Parse a comparison or summary report task: `PendingTask` or `CompletedReportTask`.

    A failed report whose result names no revisions (as Anaplan sends it), or whose error has a
    `subtitle`, becomes a `FailedReportTask`, a subclass of `CompletedReportTask`.
    """
    data = task_payload(payload)
    state = _state_of(data)
    if state in _RUNNING:
        return _validate(PendingTask, _with_step(data))
    if state == "COMPLETE":
        result = data.get("result")
        if (
            _result_failed(data)
            and isinstance(result, Mapping)
            and (not _names_revisions(result) or _has_subtitle(result))
        ):
            return _validate(FailedReportTask, _with_step(data))
        return _validate(CompletedReportTask, _with_step(data))
    return _validate(CancelledTask, data)


def parse_task_list(payload: Payload) -> list[TaskListItem]:
    """Parse a task list (`tasks` key; absent when there are none) into summaries."""
    data = decode_payload(payload)
    items = data.get("tasks", [])
    if not isinstance(items, list):
        raise TaskPayloadError("task list: 'tasks' must be a list", field="tasks")
    summaries: list[TaskListItem] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise TaskPayloadError("task list: each task must be a JSON object", field="tasks")
        item_data = dict(item)
        state = _state_of(item_data)
        if state in _CANCELLED:
            summaries.append(_validate(CancelledTaskSummary, item_data))
        else:
            summaries.append(_validate(TaskSummary, item_data))
    return summaries


def parse_task_with_url(payload: Payload) -> TaskWithUrl:
    """Parse the answer to starting an ALM task (`taskWithUrl`)."""
    data = task_payload(payload)
    _state_of(data)
    return _validate(TaskWithUrl, data)


def _task_id_of(data: Mapping[str, Any]) -> str | None:
    task_id = data.get("taskId", data.get("id"))
    return str(task_id) if task_id is not None else None


def _state_of(data: Mapping[str, Any]) -> str:
    state = data.get("taskState", data.get("task_state"))
    task_id = _task_id_of(data)
    if state is None:
        raise TaskPayloadError(
            f"task {task_id or '<no id>'}: field 'taskState' is missing",
            task_id=task_id,
            field="taskState",
        )
    if state not in (*_RUNNING, "COMPLETE", *_CANCELLED):
        raise UnknownTaskStateError(state, task_id=task_id)
    return str(state)


def _result_failed(data: Mapping[str, Any]) -> bool:
    result = data.get("result")
    return isinstance(result, Mapping) and result.get("successful") is False


def _names_revisions(result: Mapping[str, Any]) -> bool:
    return all(
        result.get(wire) is not None or result.get(python) is not None
        for wire, python in (
            ("sourceRevisionId", "source_revision_id"),
            ("targetRevisionId", "target_revision_id"),
        )
    )


def _has_subtitle(result: Mapping[str, Any]) -> bool:
    error = result.get("error")
    return isinstance(error, Mapping) and "subtitle" in error


def _with_step(data: dict[str, Any]) -> dict[str, Any]:
    # ALM task models require a step; Anaplan omits it on young tasks and on POST answers.
    if "currentStep" not in data and "current_step" not in data:
        return {**data, "currentStep": ""}
    return data


def _validate(model: type[_ModelT], data: dict[str, Any]) -> _ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        task_id = _task_id_of(data)
        problems = []
        first_field: str | None = None
        for issue in error.errors()[:3]:
            field = _field_path(data, issue["loc"]) or "<payload>"
            first_field = first_field or field
            got = issue.get("input")
            shown = "" if issue["type"] == "missing" else f" (got {_short(got)})"
            problems.append(f"field '{field}': {issue['msg']}{shown}")
        more = error.error_count() - len(problems)
        suffix = f"; and {more} more" if more > 0 else ""
        raise TaskPayloadError(
            f"task {task_id or '<no id>'} does not fit {model.__name__}: "
            + "; ".join(problems)
            + suffix,
            task_id=task_id,
            field=first_field,
        ) from None


def _field_path(data: Any, loc: tuple[int | str, ...]) -> str:
    # The dotted path through the payload. A step the payload does not have is kept only when it
    # is the last one (a missing field); inner ones are the tag pydantic adds for the branch of a
    # discriminated union.
    parts: list[str] = []
    current = data
    for position, step in enumerate(loc):
        present = (isinstance(current, Mapping) and step in current) or (
            isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current)
        )
        if present:
            current = current[step]
        elif position < len(loc) - 1:
            continue
        parts.append(str(step))
    return ".".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
