"""`client.imports`, `client.exports`, `client.processes` and `client.actions`.

One namespace per kind of action, each listing its definitions, starting, watching and
cancelling tasks, and `run()`: start, wait and explain in one call.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..._core import actions as core_actions
from ..._core import jobs, tasks
from ..._core.types import TaskRef
from ...models import ActionKind, BulkTaskStatus, CompletedTask, TaskListItem
from .._shared import upload_source
from .files import AsyncFiles
from .runner import AsyncNamespace, AsyncRunner
from .tasks import AsyncTasks, failure_error


class _AsyncActions(AsyncNamespace):
    def __init__(self, runner: AsyncRunner, kind: ActionKind):
        super().__init__(runner)
        self._kind: ActionKind = kind

    async def list(self) -> list[Any]:
        """Every action of this kind in the model."""
        return await self._run(core_actions.list_actions(self._ctx, self._kind))

    async def get(self, action: str) -> Any:
        """An action by id or name; an unknown name raises `ActionNotFoundError` with hints."""
        found = await self._run(core_actions.resolve(self._ctx, self._kind, action, look_up=True))
        return found.definition

    async def _ref(self, action: str, task_id: str) -> TaskRef:
        resolved = await self._run(core_actions.resolve(self._ctx, self._kind, action))
        return TaskRef(self._kind, resolved.id, task_id, resolved.name)

    async def start(
        self,
        action: str,
        *,
        mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        locale: str | None = None,
    ) -> TaskRef:
        """Start a task (never twice because of a retry); returns which task to wait for."""
        resolved = await self._run(core_actions.resolve(self._ctx, self._kind, action))
        body = tasks.start_body(locale or self._ctx.locale, mapping_parameters)
        status = await self._run(tasks.start(self._ctx, self._kind, resolved.id, body))
        return TaskRef(self._kind, resolved.id, status.id, resolved.name)

    async def status(self, action: str, task_id: str) -> BulkTaskStatus:
        """A task's current status."""
        return await AsyncTasks(self._runner).status(await self._ref(action, task_id))

    async def list_tasks(self, action: str) -> builtins.list[TaskListItem]:
        """The action's tasks, oldest first (everyone's)."""
        resolved = await self._run(core_actions.resolve(self._ctx, self._kind, action))
        return await self._run(tasks.list_tasks(self._ctx, self._kind, resolved.id))

    async def cancel(self, action: str, task_id: str) -> BulkTaskStatus:
        """Ask the server to cancel a task."""
        return await AsyncTasks(self._runner).cancel(await self._ref(action, task_id))

    async def wait(self, task: TaskRef, **options: Any) -> CompletedTask:
        """Wait for a task started with `start()`; see `client.tasks.wait`."""
        return await AsyncTasks(self._runner).wait(task, **options)

    async def _run_job(
        self,
        action: str,
        *,
        mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None,
        locale: str | None,
        timeout: float | None,
        on_progress: tasks.ProgressCallback | None,
        cancel_on_timeout: bool,
        cancel_on_interrupt: bool,
        fail_on_rejected_rows: bool = False,
        source: Any = None,
    ) -> CompletedTask:
        config = self._runner.config
        runner = self._runner
        return await self._run(
            jobs.run_action(
                self._ctx,
                self._kind,
                action,
                body=tasks.start_body(locale or self._ctx.locale, mapping_parameters),
                wait_options={
                    "timeout": timeout,
                    "cancel_on_timeout": cancel_on_timeout,
                    "cancel_on_interrupt": cancel_on_interrupt,
                    "fail_on_rejected_rows": fail_on_rejected_rows,
                },
                on_failure=lambda ref, task: failure_error(runner, ref, task),
                source=None if source is None else upload_source(source, config.chunk_size),
                workers=config.upload_workers,
                on_progress=on_progress,
            )
        )


class AsyncImports(_AsyncActions):
    """`client.imports`: import definitions and their tasks."""

    async def run(
        self,
        action: str,
        source: str | os.PathLike[str] | bytes | Iterable[bytes] | None = None,
        *,
        mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        locale: str | None = None,
        timeout: float | None = None,
        on_progress: tasks.ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        cancel_on_interrupt: bool = True,
        fail_on_rejected_rows: bool = False,
    ) -> CompletedTask:
        """Upload `source` to the import's file (when given), run the import and wait.

        Raises:
            TaskFailedError: The import failed; `error.dumps.rows()` reads the rejected rows.
            TaskCancelledError: The task was cancelled.
            TaskTimeoutError: `timeout` passed first.
        """
        return await self._run_job(
            action,
            mapping_parameters=mapping_parameters,
            locale=locale,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=cancel_on_interrupt,
            fail_on_rejected_rows=fail_on_rejected_rows,
            source=source,
        )


class AsyncExports(_AsyncActions):
    """`client.exports`: export definitions and their tasks."""

    async def run(
        self,
        action: str,
        dest: str | os.PathLike[str] | Any = None,
        *,
        locale: str | None = None,
        timeout: float | None = None,
        on_progress: tasks.ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        cancel_on_interrupt: bool = True,
        fail_on_rejected_rows: bool = False,
    ) -> CompletedTask:
        """Run an export, wait, and (with `dest`) stream its file to a path or file object."""
        task = await self._run_job(
            action,
            mapping_parameters=None,
            locale=locale,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=cancel_on_interrupt,
            fail_on_rejected_rows=fail_on_rejected_rows,
        )
        if dest is not None:
            export_id = (
                task.result.object_id
                or (await self._run(core_actions.resolve(self._ctx, "exports", action))).id
            )
            await AsyncFiles(self._runner).download(export_id, dest)
        return task


class AsyncProcesses(_AsyncActions):
    """`client.processes`: processes and their tasks."""

    async def run(
        self,
        action: str,
        *,
        mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        locale: str | None = None,
        timeout: float | None = None,
        on_progress: tasks.ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        cancel_on_interrupt: bool = True,
        fail_on_rejected_rows: bool = False,
    ) -> CompletedTask:
        """Run a process and wait; nested results are in `task.result.nested_results`."""
        return await self._run_job(
            action,
            mapping_parameters=mapping_parameters,
            locale=locale,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=cancel_on_interrupt,
            fail_on_rejected_rows=fail_on_rejected_rows,
        )


class AsyncActions(_AsyncActions):
    """`client.actions`: model actions such as delete-by-selection, and their tasks."""

    async def run(
        self,
        action: str,
        *,
        locale: str | None = None,
        timeout: float | None = None,
        on_progress: tasks.ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        cancel_on_interrupt: bool = True,
        fail_on_rejected_rows: bool = False,
    ) -> CompletedTask:
        """Run a model action (for example a delete-by-selection) and wait."""
        return await self._run_job(
            action,
            mapping_parameters=None,
            locale=locale,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=cancel_on_interrupt,
            fail_on_rejected_rows=fail_on_rejected_rows,
        )

    async def solution_log(self, optimizer: str, task: str | TaskRef | CompletedTask) -> str:
        """The solution log of an optimizer's run, as text.

        Args:
            optimizer: The optimizer action's name or id (`117…`).
            task: The task that ran it: the optimizer's own (as `run` returns it) or a
                process's that had it as a step; a task id, a `TaskRef` or a finished task.

        Anaplan serves logs to workspace administrators only (403 otherwise) and deletes a
        log 48 hours after it was last read (404).
        """
        resolved = await self._run(core_actions.resolve(self._ctx, self._kind, optimizer))
        correlation_id = (
            task
            if isinstance(task, str)
            else (task.task_id if isinstance(task, TaskRef) else task.id)
        )
        return await self._run(core_actions.solution_log(self._ctx, resolved.id, correlation_id))
