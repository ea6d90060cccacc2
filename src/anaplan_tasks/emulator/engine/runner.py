"""Running one task's action(s) inside its transaction: imports, exports, deletes and processes.

A process runs its actions in order in the task's one transaction, one nested result each. An
action that could not run ("Failed.") stops the process: the process result is unsuccessful and
the actions before it stay applied (Anaplan does not roll back a process's earlier actions); the
actions after it do not run. Rows rejected by an import do not stop a process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...models import TaskResult
from ..definitions import DeleteActionDef, ExportDef, ImportDef, OptimizerDef, ProcessDef
from . import results
from .catalog import ActionDef
from .context import ActionContext, ActionOutcome
from .deletes import run_delete
from .exports import run_export
from .imports import run_import
from .optimizer import run_optimizer


@dataclass
class StepTiming:
    """When one action of a process started and how long it took (epoch ms, ms)."""

    start_ms: int
    duration_ms: int


@dataclass
class TaskOutput:
    """What a task produced: its result, dumps by object id, export contents by file id."""

    result: TaskResult
    ran: bool
    dumps: dict[str, list[bytes]] = field(default_factory=dict)
    clean_imports: list[str] = field(default_factory=list)
    exports: dict[str, list[bytes]] = field(default_factory=dict)
    logs: dict[str, bytes] = field(default_factory=dict)  # solution logs by optimizer id


def run_action(ctx: ActionContext, action_id: str, definition: ActionDef) -> ActionOutcome:
    """Run one import, export, delete or optimizer action."""
    if isinstance(definition, ImportDef):
        return run_import(ctx, action_id, definition)
    if isinstance(definition, ExportDef):
        return run_export(ctx, action_id, definition)
    if isinstance(definition, DeleteActionDef):
        return run_delete(ctx, action_id, definition)
    if isinstance(definition, OptimizerDef):
        return run_optimizer(ctx, action_id, definition)
    raise TypeError(f"not a runnable step: {definition!r}")


def _collect(output: TaskOutput, action_id: str, outcome: ActionOutcome, is_import: bool) -> None:
    if outcome.dump is not None:
        output.dumps[action_id] = outcome.dump
    elif is_import and outcome.ran:
        output.clean_imports.append(action_id)
    if outcome.export is not None:
        file_id, chunks = outcome.export
        output.exports[file_id] = chunks
    if outcome.log is not None:
        output.logs[action_id] = outcome.log


def asked_parameters(ctx: ActionContext, definition: ImportDef) -> set[str]:
    """The entity types an import takes at run time: its module's dimensions it maps no column
    to (a list import takes none)."""
    if definition.target_module is None:
        return set()
    module = ctx.catalog.module_def(definition.target_module)
    if module is None:
        return set()
    return {dimension for dimension in module.dimensions if dimension not in definition.mapping}


def _unasked(ctx: ActionContext, imports: list[tuple[str, ImportDef]]) -> str | None:
    """Why a mapping parameter fits no import of the task (*emulator*: refused before any row
    is read, rather than silently ignored), or None when every parameter is used."""
    asked = {action_id: asked_parameters(ctx, definition) for action_id, definition in imports}
    names = {action_id: definition.name for action_id, definition in imports}
    for parameter in ctx.mapping:
        targets = [parameter.import_id] if parameter.import_id else list(asked)
        if any(parameter.entity_type in asked.get(target, set()) for target in targets):
            continue
        wanted = sorted(set().union(*(asked.get(target, set()) for target in targets)))
        which = ", ".join(names.get(target, target) for target in targets) or "no import"
        return (
            f"Mapping parameter {parameter.entity_type!r} is not asked for by {which} "
            f"(it asks for: {', '.join(wanted) or 'none'}); nothing was run."
        )
    return None


def _refused(action_id: str, text: str) -> TaskOutput:
    return TaskOutput(
        result=results.failed_to_run(action_id, "importFailedGeneralError", text), ran=False
    )


def run_single(ctx: ActionContext, action_id: str, definition: ActionDef) -> TaskOutput:
    """Run a task of one import, export or delete action."""
    if ctx.mapping and isinstance(definition, ImportDef):
        why = _unasked(ctx, [(action_id, definition)])
        if why is not None:
            return _refused(action_id, why)
    outcome = run_action(ctx, action_id, definition)
    output = TaskOutput(result=outcome.result, ran=outcome.ran)
    _collect(output, action_id, outcome, isinstance(definition, ImportDef))
    return output


def run_process(
    ctx: ActionContext, process_id: str, definition: ProcessDef, now_ms: Callable[[], int]
) -> TaskOutput:
    """Run a process's actions in order; one nested result per action that ran."""
    steps = [ctx.catalog.action_named(name) for name in definition.actions]
    if ctx.mapping:
        present = [step for step in steps if step is not None]
        imports = [(key, step) for key, step in present if isinstance(step, ImportDef)]
        why = _unasked(ctx, imports)
        if why is not None:
            return _refused(process_id, why)
    total = len(steps)
    nested: list[TaskResult] = []
    output = TaskOutput(
        result=TaskResult.build(successful=True, failure_dump_available=False), ran=True
    )
    started = now_ms()
    successful = True
    ran_all = True
    for position, step in enumerate(steps):
        if step is None:
            continue
        action_id, action = step
        step_ctx = ActionContext(
            task_id=ctx.task_id,
            model_id=ctx.model_id,
            user_id=ctx.user_id,
            catalog=ctx.catalog,
            store=ctx.store,
            txn=ctx.txn,
            live=ctx.live,
            mapping=ctx.mapping,
            base=position / total,
            span=1 / total,
            files=ctx.files,
        )
        step_start = now_ms()
        outcome = run_action(step_ctx, action_id, action)
        _collect(output, action_id, outcome, isinstance(action, ImportDef))
        nested.append(_with_timing(outcome.result, StepTiming(step_start, now_ms() - step_start)))
        if not outcome.result.successful:
            successful = False
        if not outcome.ran:
            ran_all = False
            break
    output.result = TaskResult.build(
        successful=successful,
        failure_dump_available=any(r.failure_dump_available for r in nested),
        object_id=process_id,
        nested_results=nested,
        duration=str(now_ms() - started),
        start_time=str(started),
    )
    output.ran = ran_all
    return output


def _with_timing(result: TaskResult, timing: StepTiming) -> TaskResult:
    return TaskResult.build(
        successful=result.successful,
        failure_dump_available=result.failure_dump_available,
        object_id=result.object_id,
        details=list(result.details),
        duration=str(timing.duration_ms),
        start_time=str(timing.start_ms),
    )
