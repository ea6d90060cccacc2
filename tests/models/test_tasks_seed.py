"""The twelve task models match the specification (the seed's API reference page) exactly.

`SEED` is written by hand from that page: per model, its base class and, in the page's order,
each field's name, type (as the page spells it), default ("required" when it has none) and
description. Any drift of the classes from the specification fails here.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

import pytest
from pydantic import BaseModel

import anaplan_tasks.models as models
from anaplan_tasks.models import WireModel

REQUIRED = "required"

# model -> (base class, [(field, type as in the seed, default as in the seed, description)])
SEED: dict[str, tuple[str, list[tuple[str, str, str, str | None]]]] = {
    "TaskResultDetail": (
        "WireModel",
        [
            ("local_message_text", "str | None", "None", "Error message text."),
            ("occurrences", "int", "0", "The number of occurrences of this error."),
            ("type", "str", REQUIRED, "The type of this error."),
            ("values", "list[Optional[str]]", "[]", "Further error information if available."),
        ],
    ),
    "TaskResult": (
        "WireModel",
        [
            (
                "details",
                "list[TaskResultDetail]",
                "[]",
                "The details of this task result if available.",
            ),
            ("successful", "bool", REQUIRED, "Whether this task completed successfully or not."),
            (
                "failure_dump_available",
                "bool",
                REQUIRED,
                "Whether a failure dump is available for this task.",
            ),
            (
                "nested_results",
                "list[TaskResult]",
                "[]",
                "The nested results of this task, if available.",
            ),
        ],
    ),
    "TaskSummary": (
        "WireModel",
        [
            ("id", "str", REQUIRED, "The unique identifier of this task."),
            (
                "task_state",
                "Literal['NOT_STARTED', 'IN_PROGRESS', 'COMPLETE']",
                REQUIRED,
                "The state of this task.",
            ),
            ("creation_time", "int", REQUIRED, "Unix timestamp of when this task was created."),
        ],
    ),
    "Task": (
        "TaskSummary",
        [
            ("id", "str", REQUIRED, "The unique identifier of this task."),
            (
                "task_state",
                "Literal['NOT_STARTED', 'IN_PROGRESS']",
                REQUIRED,
                "The state of this task.",
            ),
            ("creation_time", "int", REQUIRED, "Unix timestamp of when this task was created."),
            (
                "progress",
                "float",
                REQUIRED,
                "The progress of this task as a float between 0 and 1.",
            ),
            ("current_step", "str | None", "None", "The current step of this task."),
        ],
    ),
    "CompletedTask": (
        "Task",
        [
            ("id", "str", REQUIRED, "The unique identifier of this task."),
            ("task_state", "Literal['COMPLETE']", REQUIRED, "The state of this task."),
            ("creation_time", "int", REQUIRED, "Unix timestamp of when this task was created."),
            (
                "progress",
                "float",
                REQUIRED,
                "The progress of this task as a float between 0 and 1.",
            ),
            ("current_step", "str | None", "None", "The current step of this task."),
            ("result", "TaskResult", REQUIRED, None),
        ],
    ),
    "SyncTaskResult": (
        "WireModel",
        [
            ("source_revision_id", "str", REQUIRED, "The ID of the source revision."),
            ("target_revision_id", "str", REQUIRED, "The ID of the target revision."),
            ("successful", "bool", REQUIRED, "Whether the sync task was successful or not."),
        ],
    ),
    "PendingTask": (
        "TaskSummary",
        [
            ("id", "str", REQUIRED, "The unique identifier of this task."),
            (
                "task_state",
                "Literal['NOT_STARTED', 'IN_PROGRESS']",
                REQUIRED,
                "The state of this task.",
            ),
            ("creation_time", "int", REQUIRED, "Unix timestamp of when this task was created."),
            ("current_step", "str", REQUIRED, "The current step of the sync task."),
        ],
    ),
    "CompletedSyncTask": (
        "PendingTask",
        [
            ("id", "str", REQUIRED, "The unique identifier of this task."),
            ("task_state", "Literal['COMPLETE']", REQUIRED, "The state of this task."),
            ("creation_time", "int", REQUIRED, "Unix timestamp of when this task was created."),
            ("current_step", "str", REQUIRED, "The current step of the sync task."),
            ("result", "SyncTaskResult", REQUIRED, None),
        ],
    ),
    "ReportTaskResult": (
        "SyncTaskResult",
        [
            ("source_revision_id", "str", REQUIRED, "The ID of the source revision."),
            ("target_revision_id", "str", REQUIRED, "The ID of the target revision."),
            (
                "successful",
                "Literal[True]",
                REQUIRED,
                "Whether the sync task was successful or not.",
            ),
            (
                "report_file_url",
                "str",
                REQUIRED,
                "The URL of the report file generated by the sync task.",
            ),
        ],
    ),
    "ReportTaskError": (
        "WireModel",
        [
            ("title", "str", REQUIRED, "The title of the error."),
            ("message", "str", REQUIRED, "The message of the error."),
        ],
    ),
    "ReportTaskFailureResult": (
        "SyncTaskResult",
        [
            ("source_revision_id", "str", REQUIRED, "The ID of the source revision."),
            ("target_revision_id", "str", REQUIRED, "The ID of the target revision."),
            (
                "successful",
                "Literal[False]",
                REQUIRED,
                "Whether the sync task was successful or not.",
            ),
            (
                "error",
                "ReportTaskError",
                REQUIRED,
                "The error that occurred during the sync task.",
            ),
        ],
    ),
    "CompletedReportTask": (
        "CompletedSyncTask",
        [
            ("id", "str", REQUIRED, "The unique identifier of this task."),
            ("task_state", "Literal['COMPLETE']", REQUIRED, "The state of this task."),
            ("creation_time", "int", REQUIRED, "Unix timestamp of when this task was created."),
            ("current_step", "str", REQUIRED, "The current step of the sync task."),
            ("result", "ReportTaskResult | ReportTaskFailureResult", REQUIRED, None),
        ],
    ),
}

# Wire names the issue spells out; every other field is its camelCase form.
WIRE_NAMES = {
    ("TaskSummary", "id"): "taskId",
    ("ReportTaskError", "message"): "messageText",
}

# The classes the real API needs beyond the seed, and the seed class each one refines.
EXTENSIONS = {
    "CancelledTask": "Task",
    "CancelledTaskSummary": "TaskSummary",
    "AlmTaskError": "ReportTaskError",
    "AlmFailureResult": "ReportTaskFailureResult",
    "AlmSuccessResult": "SyncTaskResult",
    "FailedSyncTask": "CompletedSyncTask",
    "SyncTaskWithoutRevisions": "CompletedSyncTask",
    "FailedReportTask": "CompletedReportTask",
}


def seed_type(text: str) -> Any:
    """The seed's spelling of a type, evaluated against our classes."""
    namespace = {"Literal": Literal, "Optional": Optional, **vars(models)}
    return eval(text, namespace)  # the table is ours: a fixed, hand-written literal


def seed_class(name: str) -> type[BaseModel]:
    cls = getattr(models, name)
    assert isinstance(cls, type)
    assert issubclass(cls, BaseModel)
    return cls


def test_the_table_covers_exactly_the_twelve_models() -> None:
    assert len(SEED) == 12


@pytest.mark.parametrize("name", list(SEED))
def test_fields_match_the_seed_in_order_name_type_default_and_description(name: str) -> None:
    cls = seed_class(name)
    _, fields = SEED[name]
    assert list(cls.model_fields) == [field for field, *_ in fields]
    for field, type_text, default, description in fields:
        info = cls.model_fields[field]
        where = f"{name}.{field}"
        assert info.annotation == seed_type(type_text), where
        assert info.description == description, where
        if default == REQUIRED:
            assert info.is_required(), where
        else:
            assert not info.is_required(), where
            assert info.get_default(call_default_factory=True) == seed_type(default), where


@pytest.mark.parametrize("name", list(SEED))
def test_class_inheritance_is_the_seeds(name: str) -> None:
    cls = seed_class(name)
    base, _ = SEED[name]
    assert cls.__bases__ == (seed_class(base) if base != "WireModel" else WireModel,)
    assert WireModel in cls.__mro__


@pytest.mark.parametrize("name", list(SEED))
def test_wire_names_are_camel_case_or_the_documented_ones(name: str) -> None:
    cls = seed_class(name)
    for field, info in cls.model_fields.items():
        owner = next(
            k.__name__ for k in reversed(cls.__mro__) if field in vars(k).get("__annotations__", {})
        )
        head, *rest = field.split("_")
        camel = head + "".join(part.title() for part in rest)
        assert info.alias == WIRE_NAMES.get((owner, field), camel), f"{name}.{field}"


def test_mutable_defaults_are_fresh_per_instance() -> None:
    first = models.TaskResultDetail(type="a")
    first.values.append("x")
    assert models.TaskResultDetail(type="b").values == []


@pytest.mark.parametrize(("name", "refines"), list(EXTENSIONS.items()))
def test_each_extension_refines_a_seed_class_and_keeps_its_descriptions(
    name: str, refines: str
) -> None:
    cls = seed_class(name)
    seed = seed_class(refines)
    assert issubclass(cls, seed)
    for field, info in seed.model_fields.items():
        assert field in cls.model_fields, f"{name} drops {field}"
        assert cls.model_fields[field].description == info.description, f"{name}.{field}"
        assert cls.model_fields[field].alias == info.alias, f"{name}.{field}"
