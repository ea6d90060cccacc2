"""Tasks: creation, the per-model queue, running, status, cancel and failure dumps.

Tasks run on one worker thread per model, one at a time, in the order they were created (later
ones stay `NOT_STARTED`). A task's data writes, dumps and final state commit in one transaction
(`ModelData.transaction()`); a cancel rolls them back. Live progress of a running task is kept
in memory (`LiveTask`) and read by status polls; every state change is also written to the
store.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ...models import (
    BulkTaskStatus,
    CancelledTask,
    CancelledTaskSummary,
    ChunkInfo,
    CompletedTask,
    Task,
    TaskListItem,
    TaskResult,
    TaskSummary,
)
from .. import errors
from ..storage import DumpRecord, TaskOutcome, TaskRecord
from . import ids, results
from .base import EngineBase, page_of
from .catalog import ActionDef, ModelCatalog
from .context import ActionContext, LiveTask, TaskCancelled
from .contract import ActionKind, MappingParameter, Page, Paged, Principal, TaskStart
from .optimizer import LOG_RETENTION_SECONDS, log_key
from .runner import TaskOutput, run_process, run_single
from .worker import ModelWorker

log = logging.getLogger(__name__)

_POLL_WAIT_SECONDS = 60.0


class TasksMixin(EngineBase):
    """The engine's task endpoints and the running of tasks."""

    _log_reads: dict[tuple[str, str], float]
    """When each solution log (optimizer id, task id) was last read (the engine's clock)."""

    def _action(self, catalog: ModelCatalog, kind: str, action_id: str) -> ActionDef | None:
        if kind == "imports":
            return catalog.import_(action_id)
        if kind == "exports":
            return catalog.export(action_id)
        if kind == "actions":
            return catalog.delete_action(action_id) or catalog.optimizer(action_id)
        return catalog.process(action_id)

    def start_task(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        start: TaskStart,
    ) -> BulkTaskStatus:
        """Create a task (durably) and queue it; the same idempotency key returns the same task.

        The caller's model role must grant the action (403 otherwise).
        """
        model, access = self._usable(principal, model_id)
        if not start.locale_name:
            raise errors.BadRequest("localeName is required")
        if model.state == "ARCHIVED":
            raise errors.ModelArchived(f"Model {model_id} is archived")
        if model.state == "LOCKED":
            raise errors.ModelLocked(f"Model {model_id} is locked")
        if model.state == "OFFLINE":
            raise errors.ModelOffline(f"Model {model_id} is offline")
        catalog = self._catalogs[model_id]
        definition = self._action(catalog, kind, action_id)
        if definition is None:
            raise errors.NotFound(f"{kind[:-1].capitalize()} {action_id} not found")
        if not access.may_run(definition.name):
            raise errors.Forbidden(
                f"User {principal.email} does not have access to {definition.name!r} "
                f"(model role {access.role!r})"
            )
        self._expire_private_content(model_id, principal.user_id, touch=True)
        record = TaskRecord(
            id=ids.new_task_id(),
            model_id=model_id,
            kind=kind,
            action_id=action_id,
            user_id=principal.user_id,
            user_email=principal.email,
            created_ms=self._now_ms(),
            state="NOT_STARTED",
            locale=start.locale_name,
            mapping_json=json.dumps(
                [
                    {
                        "entityType": p.entity_type,
                        "entityName": p.entity_name,
                        "importId": p.import_id,
                    }
                    for p in start.mapping_parameters
                ]
            ),
            idempotency_key=start.idempotency_key,
        )
        with self._lock:
            stored = self._store.create_task(record)
            if stored.id != record.id:
                return self._status(stored)
            self._enqueue(stored)
        return Task(
            id=record.id,
            task_state="NOT_STARTED",
            creation_time=record.created_ms,
            progress=0.0,
        )

    def _enqueue(self, task: TaskRecord) -> None:
        live = LiveTask(task.id, task.model_id)
        self._live[task.id] = live
        worker = self._workers.get(task.model_id)
        if worker is None:
            worker = self._workers[task.model_id] = ModelWorker(
                task.model_id, self._cond, lambda: self._stopping, self._run_task
            )
        worker.queue.append(task.id)
        self._cond.notify_all()

    def _task_record(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> TaskRecord:
        self._usable(principal, model_id)
        task = self._store.task(task_id)
        if task is None or task.model_id != model_id or task.action_id != action_id:
            raise errors.NotFound(f"Task {task_id} not found")
        if task.kind != kind:
            raise errors.NotFound(f"Task {task_id} not found")
        return task

    def tasks(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, page: Page
    ) -> Paged[TaskListItem]:
        """Tasks of one action, oldest first (unknown action → empty, like Anaplan)."""
        try:
            self._usable(principal, model_id)
        except errors.NotFound:
            return Paged(items=[], total_size=0, offset=page.offset)
        items: list[TaskListItem] = []
        for task in self._store.tasks_of_action(model_id, action_id):
            if task.kind != kind:
                continue
            live = self._live.get(task.id)
            state = live.state if live is not None else task.state
            if state in ("CANCELLING", "CANCELLED"):
                items.append(
                    CancelledTaskSummary(
                        id=task.id, task_state=state, creation_time=task.created_ms
                    )
                )
            else:
                items.append(
                    TaskSummary(id=task.id, task_state=state, creation_time=task.created_ms)
                )
        return page_of(items, page)

    def task(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        *,
        include_process_details: bool = False,
    ) -> BulkTaskStatus:
        """A task's status; counts as one poll for the `polls` progression mode."""
        record = self._task_record(principal, model_id, kind, action_id, task_id)
        wait_for: LiveTask | None = None
        with self._cond:
            self._poll_counts[task_id] = self._poll_counts.get(task_id, 0) + 1
            live = self._live.get(task_id)
            if live is not None and live.state == "IN_PROGRESS":
                # Only reads of a running task move it on: a queued one waits its turn.
                live.polls += 1
                progression = self._progression
                if (
                    progression.mode == "polls"
                    and live.polls >= progression.polls
                    and live.state == "IN_PROGRESS"
                ):
                    wait_for = live
                self._cond.notify_all()
        if wait_for is not None:
            wait_for.done.wait(_POLL_WAIT_SECONDS)
        return self._status(record, include_process_details=include_process_details)

    def _status(
        self, record: TaskRecord, *, include_process_details: bool = False
    ) -> BulkTaskStatus:
        with self._lock:
            live = self._live.get(record.id)
            if live is not None:
                state = live.state
                progress = self._shown_progress(live)
                step = live.current_step
                cancelled_by = live.cancelled_by
        if live is None:
            fresh = self._store.task(record.id) or record
            state = fresh.state
            progress = fresh.progress
            step = fresh.current_step
            cancelled_by = fresh.cancelled_by
            result = _load_result(fresh.result_json, include_process_details)
        else:
            result = None
        if state == "NOT_STARTED":
            return Task(
                id=record.id,
                task_state="NOT_STARTED",
                creation_time=record.created_ms,
                progress=0.0,
            )
        if state == "IN_PROGRESS":
            return Task(
                id=record.id,
                task_state="IN_PROGRESS",
                creation_time=record.created_ms,
                progress=progress,
                current_step=step or "Processing ...",
            )
        if state == "COMPLETE":
            assert result is not None
            return CompletedTask(
                id=record.id,
                task_state="COMPLETE",
                creation_time=record.created_ms,
                progress=1.0,
                current_step=step or "Complete.",
                result=result,
            )
        fields: dict[str, Any] = {
            "id": record.id,
            "task_state": state,
            "creation_time": record.created_ms,
            "progress": progress,
            "current_step": step or ("Cancelling ..." if state == "CANCELLING" else "Cancelled."),
        }
        if cancelled_by:
            fields["cancelled_by"] = cancelled_by
        if result is not None:
            fields["result"] = result
        return CancelledTask(**fields)

    def _shown_progress(self, live: LiveTask) -> float:
        progression = self._progression
        progress = live.progress
        if live.state == "CANCELLING":
            return live.cancel_progress
        if live.state == "IN_PROGRESS":
            if progression.mode == "polls" and progression.polls > 0:
                progress = min(progress, live.polls / progression.polls)
            elif progression.mode == "fixed" and progression.seconds > 0 and live.started_at:
                elapsed = self._clock.now() - live.started_at
                progress = min(progress, elapsed / progression.seconds)
            progress = min(progress, 0.99)
        return round(max(progress, 0.0), 4)

    def cancel_task(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> BulkTaskStatus:
        """Ask a task to cancel; a finished task is returned unchanged.

        Only a workspace administrator may cancel another user's task (403 otherwise).
        """
        record = self._task_record(principal, model_id, kind, action_id, task_id)
        if record.user_id != principal.user_id:
            access = self._access(principal, model_id)
            if not access.may_cancel_others:
                raise errors.Forbidden(
                    f"Task {task_id} was started by another user: only a workspace "
                    "administrator may cancel it"
                )
        with self._cond:
            live = self._live.get(task_id)
            if live is not None and not live.cancel_requested:
                live.cancel_requested = True
                live.cancelled_by = principal.email
                if live.state == "NOT_STARTED":
                    live.state = "CANCELLED"
                    self._store.update_task(
                        task_id,
                        state="CANCELLED",
                        progress=0.0,
                        current_step="Cancelled.",
                        result_json=encode_result(self._cancelled_result(record)),
                        cancelled_by=principal.email,
                        finished_ms=self._now_ms(),
                    )
                    del self._live[task_id]
                    live.done.set()
                    worker = self._workers.get(model_id)
                    if worker is not None and task_id in worker.queue:
                        worker.queue.remove(task_id)
                else:
                    live.cancel_progress = self._shown_progress(live)
                    live.state = "CANCELLING"
                    self._store.update_task(
                        task_id,
                        state="CANCELLING",
                        progress=live.cancel_progress,
                        current_step="Cancelling ...",
                        cancelled_by=principal.email,
                    )
                self._cond.notify_all()
        return self._status(record)

    @staticmethod
    def _cancelled_result(task: TaskRecord) -> TaskResult:
        if task.kind == "exports":
            type_, text = "msgExportCancelled", "Export cancelled by user"
        else:
            type_, text = "msgImportCancelled", "Import cancelled by user"
        return TaskResult.build(
            successful=False,
            failure_dump_available=False,
            object_id=task.action_id,
            details=[results.detail(type_, text)],
        )

    # -- running -----------------------------------------------------------------------------
    def _run_task(self, task_id: str) -> None:
        """Run one queued task, holding the store for the run (none begins once a reset waits)."""
        with self._lifecycle.admit() as admitted:
            if admitted:
                self._run_admitted(task_id)

    def _run_admitted(self, task_id: str) -> None:
        with self._cond:
            live = self._live.get(task_id)
            if live is None:
                return
            while (
                not self._stopping
                and not live.cancel_requested
                and self._progression.mode == "manual"
                and not live.released
            ):
                live.at_gate = True
                self._cond.notify_all()
                self._cond.wait()
            live.at_gate = False
            if self._stopping or live.cancel_requested:
                return
            # The task reads its files as they are now, before anyone can see it run: an upload
            # during the run goes to new content that the next task reads, never into this one
            # (Anaplan holds the model for a task: "no dirty reads").
            files = self._store.file_snapshot()
            # Durable before visible: a client that saw IN_PROGRESS never finds the task
            # re-queued after a crash. Under the lock, so a cancel sees one state or the other.
            started_ms = self._now_ms()
            self._store.update_task(
                task_id,
                state="IN_PROGRESS",
                progress=0.0,
                current_step="Processing ...",
                started_ms=started_ms,
            )
            live.state = "IN_PROGRESS"
            live.current_step = "Processing ..."
            live.started_at = self._clock.now()
        record = self._store.task(task_id)
        assert record is not None
        catalog = self._catalogs[record.model_id]
        final: TaskOutcome
        try:
            data = self._store.model_data(record.model_id)
            with data.transaction() as txn:
                ctx = ActionContext(
                    task_id=task_id,
                    model_id=record.model_id,
                    user_id=record.user_id,
                    catalog=catalog,
                    store=self._store,
                    txn=txn,
                    live=live,
                    mapping=_mapping(record.mapping_json),
                    files=files,
                )
                output = self._execute(ctx, record)
                self._gate(live)
                ctx.check_cancel()
                for object_id, chunks in output.dumps.items():
                    txn.save_dump(
                        DumpRecord(task_id, object_id, record.user_id, tuple(chunks)), object_id
                    )
                for import_id in output.clean_imports:
                    txn.drop_dumps(record.user_id, import_id)
                for optimizer_id, solution_log in output.logs.items():
                    txn.save_dump(
                        DumpRecord(task_id, optimizer_id, record.user_id, (solution_log,)),
                        log_key(task_id, optimizer_id),
                    )
                for file_id, chunks in output.exports.items():
                    self._store.replace_content(record.model_id, file_id, record.user_id, chunks)
                final = TaskOutcome(
                    task_id=task_id,
                    state="COMPLETE",
                    progress=1.0,
                    current_step="Complete." if output.ran else "Failed.",
                    result_json=encode_result(output.result),
                    cancelled_by=None,
                    finished_ms=self._now_ms(),
                    started_ms=started_ms,
                )
                txn.record_outcome(final)
        except TaskCancelled:
            if live.cancelled_by is None:
                # Stopped by close() or reset(): leave the task as it was; the next open of
                # the store ends it like any task interrupted by a stop.
                return
            final = TaskOutcome(
                task_id=task_id,
                state="CANCELLED",
                progress=live.cancel_progress,
                current_step="Cancelled.",
                result_json=encode_result(self._cancelled_result(record)),
                cancelled_by=live.cancelled_by,
                finished_ms=self._now_ms(),
            )
        except Exception as error:
            log.exception("task %s failed", task_id)
            final = TaskOutcome(
                task_id=task_id,
                state="COMPLETE",
                progress=1.0,
                current_step="Failed.",
                result_json=encode_result(
                    results.failed_to_run(
                        record.action_id,
                        "internalError",
                        f"The emulator failed while running this task: {error}",
                    )
                ),
                cancelled_by=None,
                finished_ms=self._now_ms(),
            )
        finally:
            files.close()
        # Under the lock, so a cancel either comes before (and is overwritten by the final
        # state) or finds the task finished: it can never leave a stale CANCELLING behind.
        with self._cond:
            self._store.update_task(
                task_id,
                state=final.state,
                progress=final.progress,
                current_step=final.current_step,
                result_json=final.result_json,
                cancelled_by=final.cancelled_by,
                finished_ms=final.finished_ms,
            )
            live.state = final.state
            self._live.pop(task_id, None)
            live.done.set()
            self._cond.notify_all()

    def _execute(self, ctx: ActionContext, record: TaskRecord) -> TaskOutput:
        catalog = ctx.catalog
        if record.kind == "processes":
            process = catalog.process(record.action_id)
            if process is None:
                return TaskOutput(
                    result=results.failed_to_run(
                        record.action_id, "modelObjectNotLocated", "The process no longer exists."
                    ),
                    ran=False,
                )
            return run_process(ctx, record.action_id, process, self._now_ms)
        definition = self._action(catalog, record.kind, record.action_id)
        if definition is None:
            return TaskOutput(
                result=results.failed_to_run(
                    record.action_id, "modelObjectNotLocated", "The action no longer exists."
                ),
                ran=False,
            )
        return run_single(ctx, record.action_id, definition)

    def _gate(self, live: LiveTask) -> None:
        """Hold a finished-but-uncommitted task per the progression mode."""
        progression = self._progression
        if progression.mode == "polls" and progression.polls > 0:
            with self._cond:
                live.at_gate = True
                self._cond.notify_all()
                while (
                    not self._stopping
                    and not live.cancel_requested
                    and self._progression.mode == "polls"
                    and live.polls < self._progression.polls
                ):
                    self._cond.wait()
                live.at_gate = False
        elif progression.mode == "fixed" and progression.seconds > 0:
            deadline = (live.started_at or self._clock.now()) + progression.seconds
            with self._cond:
                live.at_gate = True
                self._cond.notify_all()
            try:
                while not live.cancel_requested and not self._stopping:
                    remaining = deadline - self._clock.now()
                    if remaining <= 0:
                        break
                    self._clock.sleep(min(remaining, 0.05))
            finally:
                live.at_gate = False
        if live.cancel_requested or self._stopping:
            raise TaskCancelled

    # == dumps ===============================================================================
    def dump_chunks(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        object_id: str | None,
    ) -> list[ChunkInfo]:
        """Chunks of a failure dump: an import's own (object_id None) or a process's per import."""
        chunks = self.dump_content(principal, model_id, kind, action_id, task_id, object_id)
        return [ChunkInfo(id=str(index), name=f"Chunk {index}") for index in range(len(chunks))]

    def read_dump_chunk(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        object_id: str | None,
        index: int,
    ) -> bytes:
        """One chunk of a failure dump."""
        chunks = self.dump_content(principal, model_id, kind, action_id, task_id, object_id)
        if not 0 <= index < len(chunks):
            raise errors.NotFound(f"Dump chunk {index} not found")
        return chunks[index]

    def dump_content(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        object_id: str | None,
    ) -> list[bytes]:
        """Every chunk of a failure dump, read at once (404 when there is none)."""
        task = self._task_record(principal, model_id, kind, action_id, task_id)
        if task.user_id != principal.user_id:
            raise errors.NotFound(f"No dump for task {task_id}: it is another user's task")
        if self._catalogs[model_id].optimizer(object_id or action_id) is not None:
            raise errors.NotFound(f"No failure dump for task {task_id}")  # a solution log
        chunks = self._store.model_data(model_id).dump_chunks(task_id, object_id or action_id)
        if chunks is None:
            raise errors.NotFound(f"No failure dump for task {task_id}")
        return chunks

    # == optimizer solution logs ==============================================================
    def solution_log(
        self, principal: Principal, model_id: str, action_id: str, correlation_id: str
    ) -> bytes:
        """The solution log of an optimizer's run: the optimizer's id and the id of the task
        that ran it (its own, or the process's that had it as a step).

        Workspace administrators only, refused (403) before any id is looked at; a log not read
        for 48 hours is gone; any unknown id is the same 404.
        """
        if not self._access(principal, model_id).admin:
            raise errors.Forbidden("Only workspace administrators can read solution logs.")
        self._usable(principal, model_id)
        catalog = self._catalogs[model_id]
        not_found = errors.NotFound(
            f"No solution log for optimizer {action_id} and task {correlation_id}"
        )
        task = self._store.task(correlation_id)
        if catalog.optimizer(action_id) is None or task is None or task.model_id != model_id:
            raise not_found
        chunks = self._store.model_data(model_id).dump_chunks(correlation_id, action_id)
        outcome = self._store.model_data(model_id).outcome(correlation_id)
        if chunks is None or outcome is None:
            raise not_found
        now = self._clock.now()
        key = (action_id, correlation_id)
        last_read = self._log_reads.get(key, outcome.finished_ms / 1000)
        if now - last_read > LOG_RETENTION_SECONDS:
            with self._store.model_data(model_id).transaction() as txn:
                txn.drop_dumps(task.user_id, log_key(correlation_id, action_id))
            self._log_reads.pop(key, None)
            raise not_found
        self._log_reads[key] = now
        return b"".join(chunks)


def encode_result(result: TaskResult) -> str:
    return json.dumps(result.to_wire())


def _load_result(text: str | None, include_process_details: bool) -> TaskResult | None:
    if text is None:
        return None
    data = json.loads(text)
    if not include_process_details:
        _strip_details(data)
    return TaskResult.model_validate(data)


def _strip_details(data: dict[str, Any]) -> None:
    data.pop("duration", None)
    data.pop("startTime", None)
    for nested in data.get("nestedResults", []):
        _strip_details(nested)


def _mapping(text: str) -> list[MappingParameter]:
    return [
        MappingParameter(
            entity_type=item["entityType"],
            entity_name=item["entityName"],
            import_id=item.get("importId"),
        )
        for item in json.loads(text)
    ]
