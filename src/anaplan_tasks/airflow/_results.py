"""The JSON summaries the operators push to XCom (plain values only)."""

from __future__ import annotations

from typing import Any

from ..client import AlmTaskRef, TaskRef
from ..models import CompletedSyncTask, CompletedTask, TaskResult


def _part(result: TaskResult) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for detail in result.details:
        for key, value in detail.value_map.items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    return {
        "object_id": result.object_id,
        "object_name": result.object_name,
        "successful": result.successful,
        "failed_rows": result.failed_row_count,
        "failure_dump_available": result.failure_dump_available,
        "counts": counts,
        "failures": _failures(result),
        "nested_results": [_part(nested) for nested in result.nested_results],
    }


def _failures(result: TaskResult) -> list[str]:
    """The failing details' texts; for a result that failed without one, its own details
    (an action that could not run says why in a detail named for no failure)."""
    failures = [detail.text for detail in result.failure_details()]
    if not failures and not result.successful:
        failures = [detail.text for detail in result.details]
    return failures


def task_summary(ref: TaskRef, task: CompletedTask) -> dict[str, Any]:
    """A finished bulk task: outcome, failed rows, counts per detail and nested results."""
    result = task.result
    return {
        "task_id": task.id,
        "kind": ref.kind,
        "action_id": ref.action_id,
        "action_name": ref.action_name,
        "task_state": task.task_state,
        "current_step": task.current_step,
        "successful": result.successful,
        "failed_rows": result.failed_row_count,
        "description": task.describe(),
        "result": _part(result),
    }


def alm_summary(ref: AlmTaskRef, task: CompletedSyncTask) -> dict[str, Any]:
    """A finished ALM task: outcome and the revisions it used."""
    wire = task.result.to_wire()
    return {
        "task_id": task.id,
        "kind": ref.kind,
        "model_id": ref.model_id,
        "source_revision_id": wire.get("sourceRevisionId", ref.source_revision_id),
        "target_revision_id": wire.get("targetRevisionId", ref.target_revision_id),
        "task_state": task.task_state,
        "current_step": task.current_step,
        "successful": bool(wire.get("successful", True)),
        "description": task.describe(),
        "result": wire,
    }
