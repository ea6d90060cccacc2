"""Any valid instance of every task model survives the wire: dump, JSON, parse, same model.

Instances are generated from the models' own field annotations, so a field added to a model is
covered without touching this file. Optional fields are sometimes left unset, so `to_wire()`'s
"only what was set" is exercised too; nested results recurse to a bounded depth.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from anaplan_tasks.models import (
    AlmFailureResult,
    AlmSuccessResult,
    AlmTaskError,
    CancelledTask,
    CancelledTaskSummary,
    CompletedReportTask,
    CompletedSyncTask,
    CompletedTask,
    FailedReportTask,
    FailedSyncTask,
    PendingTask,
    ReportTaskError,
    ReportTaskFailureResult,
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

SEED_MODELS: list[type[BaseModel]] = [
    TaskResultDetail,
    TaskResult,
    TaskSummary,
    Task,
    CompletedTask,
    SyncTaskResult,
    PendingTask,
    CompletedSyncTask,
    ReportTaskResult,
    ReportTaskError,
    ReportTaskFailureResult,
    CompletedReportTask,
]
EXTENSIONS: list[type[BaseModel]] = [
    CancelledTask,
    CancelledTaskSummary,
    AlmTaskError,
    AlmFailureResult,
    AlmSuccessResult,
    FailedSyncTask,
    SyncTaskWithoutRevisions,
    FailedReportTask,
    TaskWithUrl,
]

MAX_DEPTH = 2  # nested results inside nested results, no deeper
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What a TaskResult keeps from the wire besides its fields (Anaplan sends them as strings).
_digits = st.integers(min_value=0, max_value=2**53).map(str)
RESULT_EXTRAS = {
    "objectId": st.text(max_size=12),
    "objectName": st.text(max_size=12),
    "duration": _digits,
    "startTime": _digits,
}


def value_of(annotation: Any, depth: int) -> st.SearchStrategy[Any]:
    """A strategy for any valid value of a field annotation."""
    origin = get_origin(annotation)
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if origin in (types.UnionType, typing.Union):
        return st.one_of([value_of(arg, depth) for arg in get_args(annotation)])
    if origin is list:
        (item,) = get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel) and depth <= 0:
            return st.just([])
        return st.lists(value_of(item, depth - 1), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return instance_of(annotation, depth)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=20),
        int: st.integers(),
        float: st.floats(allow_nan=False, allow_infinity=False),
        bool: st.booleans(),
        type(None): st.none(),
    }
    return simple[annotation]


@st.composite
def _instance(draw: st.DrawFn, model: type[BaseModel], depth: int) -> BaseModel:
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required() or draw(st.booleans()):
            fields[name] = draw(value_of(info.annotation, depth))
    if issubclass(model, TaskResult):
        fields.update(draw(st.fixed_dictionaries({}, optional=RESULT_EXTRAS)))
    return model.model_validate(fields)


def instance_of(model: type[BaseModel], depth: int = MAX_DEPTH) -> st.SearchStrategy[BaseModel]:
    """A strategy for any valid instance of a model."""
    return _instance(model, depth)


def wire_of(instance: BaseModel) -> dict[str, Any]:
    wire = instance.to_wire()  # type: ignore[attr-defined]
    assert isinstance(wire, dict)
    return wire


@pytest.mark.parametrize("model", SEED_MODELS + EXTENSIONS, ids=lambda model: model.__name__)
@EXAMPLES
@given(data=st.data())
def test_any_instance_survives_a_wire_round_trip(
    model: type[BaseModel], data: st.DataObject
) -> None:
    instance = data.draw(instance_of(model))
    wire = wire_of(instance)
    sent = json.loads(json.dumps(wire))  # through real JSON text
    again = model.model_validate(sent)
    assert again == instance
    assert wire_of(again) == wire
    # The Python names and the full dump (defaults included) read back the same model.
    assert model.model_validate(instance.model_dump()) == instance
    assert model.model_validate(instance.model_dump(mode="json", by_alias=True)) == instance


Parse = Callable[[Any], Any]

# Task classes, the function that parses their payload, and whether it returns the class itself
# (the seed's classes always; an extension may come back as the seed class it refines, when its
# payload fits that one).
PARSERS: list[tuple[type[BaseModel], Parse, type[BaseModel]]] = [
    (Task, parse_task, Task),
    (CompletedTask, parse_task, CompletedTask),
    (CancelledTask, parse_task, CancelledTask),
    (PendingTask, parse_sync_task, PendingTask),
    (CompletedSyncTask, parse_sync_task, CompletedSyncTask),
    (FailedSyncTask, parse_sync_task, FailedSyncTask),
    (SyncTaskWithoutRevisions, parse_sync_task, CompletedSyncTask),
    (PendingTask, parse_report_task, PendingTask),
    (CompletedReportTask, parse_report_task, CompletedReportTask),
    (FailedReportTask, parse_report_task, CompletedReportTask),
    (TaskWithUrl, parse_task_with_url, TaskWithUrl),
]


@pytest.mark.parametrize(
    ("model", "parse", "returns"),
    PARSERS,
    ids=[f"{model.__name__}-{parse.__name__}" for model, parse, _ in PARSERS],
)
@EXAMPLES
@given(data=st.data())
def test_the_parse_function_reads_any_instance_back(
    model: type[BaseModel], parse: Parse, returns: type[BaseModel], data: st.DataObject
) -> None:
    instance = data.draw(instance_of(model))
    wire = wire_of(instance)
    envelope = json.dumps({"meta": {}, "status": {"code": 200}, "task": wire}).encode()
    parsed = parse(envelope)
    assert isinstance(parsed, returns)
    if returns is model:
        assert type(parsed) is model
        assert parsed == instance
    assert wire_of(parsed) == wire


@pytest.mark.parametrize("model", [TaskSummary, CancelledTaskSummary], ids=lambda m: m.__name__)
@EXAMPLES
@given(data=st.data())
def test_any_task_list_reads_back_item_for_item(
    model: type[BaseModel], data: st.DataObject
) -> None:
    items = data.draw(st.lists(instance_of(model), max_size=4))
    parsed = parse_task_list(json.dumps({"tasks": [wire_of(item) for item in items]}))
    assert parsed == items
    assert [type(item) for item in parsed] == [model] * len(items)
