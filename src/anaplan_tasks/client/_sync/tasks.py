# Generated from src/anaplan_tasks/client/_async/tasks.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`client.tasks`: status, list, cancel and wait; and the failure dumps of a finished task."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from ..._core import dumps as core_dumps
from ..._core import tasks
from ..._core.dumps import DumpRef
from ..._core.types import DumpRow, TaskRef
from ...errors import AnaplanError, TaskFailedError
from ...models import ActionKind, BulkTaskStatus, CompletedTask, TaskListItem
from .files import write_chunks
from .runner import Namespace, Runner


class FailureDumps:
    """The failure dumps of a finished task, bound to a client.

    Attributes:
        task: Which task.
        available: The dumps it offers (one per nested import of a process).
    """

    def __init__(self, runner: Runner, ref: TaskRef, task: CompletedTask):
        self._runner = runner
        self.task = ref
        self.available: list[DumpRef] = core_dumps.dumps_of(ref, task)

    def _select(self, object_id: str | None) -> list[DumpRef]:
        if object_id is None:
            return self.available
        return [dump for dump in self.available if dump.object_id == object_id]

    def iter_bytes(self, object_id: str | None = None) -> Iterator[bytes]:
        """The dumps' bytes, chunk by chunk (one dump after another)."""
        for dump in self._select(object_id):
            flow = core_dumps.download_dump(self._runner.ctx, dump)
            yield from self._runner.stream(flow)

    def read(self, object_id: str | None = None) -> bytes:
        """A dump as bytes (all dumps concatenated when `object_id` is None)."""
        return b"".join(list(self.iter_bytes(object_id)))

    def save(self, dest: str | os.PathLike[str] | Any, object_id: str | None = None) -> int:
        """Write the dump to a path or binary file object; returns the byte count.

        Raises:
            AnaplanError: The task has no such dump (nothing is written, `dest` is untouched).
        """
        if not self._select(object_id):
            which = "" if object_id is None else f" for {object_id}"
            raise AnaplanError(
                f"{self.task.describe()} has no failure dump{which}; nothing was written to {dest}"
            )
        return write_chunks(self._runner, self.iter_bytes(object_id), dest)

    def iter_rows(self, object_id: str | None = None) -> Iterator[DumpRow]:
        """The rejected and warned rows, parsed as the dump's chunks arrive."""
        for dump in self._select(object_id):
            parser = core_dumps.DumpRowParser(object_id=dump.object_id)
            flow = core_dumps.download_dump(self._runner.ctx, dump)
            for chunk in self._runner.stream(flow):
                for row in parser.feed(chunk):
                    yield row
            for row in parser.close():
                yield row

    def rows(self, object_id: str | None = None) -> list[DumpRow]:
        """The rejected and warned rows: status, line number, error texts, source columns."""
        return list(self.iter_rows(object_id))


def failure_error(runner: Runner, ref: TaskRef, task: CompletedTask) -> TaskFailedError:
    """The error a failed task raises, its failure dumps one call away."""
    return TaskFailedError(
        tasks.failure_message(ref, task),
        task=task,
        ref=ref,
        dumps=FailureDumps(runner, ref, task),
    )


class Tasks(Namespace):
    """`client.tasks`: status, list, cancel and wait, given a `TaskRef`."""

    def _failure(self, ref: TaskRef, task: CompletedTask) -> TaskFailedError:
        return failure_error(self._runner, ref, task)

    def status(self, task: TaskRef) -> BulkTaskStatus:
        """A task's current status."""
        return self._run(tasks.get_status(self._ctx, task))

    def list(self, kind: ActionKind, action_id: str) -> list[TaskListItem]:
        """An action's tasks, oldest first (everyone's)."""
        return self._run(tasks.list_tasks(self._ctx, kind, action_id))

    def cancel(self, task: TaskRef) -> BulkTaskStatus:
        """Ask the server to cancel a task; returns the status it answers."""
        return self._run(tasks.cancel(self._ctx, task))

    def wait(
        self,
        task: TaskRef,
        *,
        timeout: float | None = None,
        on_progress: tasks.ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        cancel_on_interrupt: bool = True,
        fail_on_rejected_rows: bool = False,
    ) -> CompletedTask:
        """Wait until the task ends; return it when successful.

        Args:
            task: Which task.
            timeout: Overall deadline in seconds.
            on_progress: Called after each poll with a `ProgressUpdate`.
            cancel_on_timeout: Cancel the task on the server when the deadline passes.
            cancel_on_interrupt: On Ctrl-C, cancel the task on the server and report its
                final state (raising `TaskCancelledError(cancelled_by_us=True)`).
            fail_on_rejected_rows: Raise `TaskFailedError` also when the task succeeded but
                rejected rows (for loads where every row must land).

        Raises:
            TaskFailedError: COMPLETE with `successful: false`; `error.dumps.rows()` reads
                the failure dumps.
            TaskCancelledError: The task was cancelled.
            TaskTimeoutError: The deadline passed first (carries the last status).
        """
        return self._run(
            tasks.wait(
                self._ctx,
                task,
                timeout=timeout,
                on_progress=on_progress,
                cancel_on_timeout=cancel_on_timeout,
                cancel_on_interrupt=cancel_on_interrupt,
                fail_on_rejected_rows=fail_on_rejected_rows,
                on_failure=self._failure,
            )
        )

    def dumps(
        self, task: TaskRef | CompletedTask, status: CompletedTask | None = None
    ) -> FailureDumps:
        """The failure dumps of a finished task: pass its `TaskRef`, or the finished task itself.

        A finished task names its action in `result.objectId`, so what `run()` returned is
        enough: `client.tasks.dumps(task).rows()`.
        """
        if isinstance(task, CompletedTask):
            return FailureDumps(self._runner, tasks.ref_of(task), task)
        finished = status or self.status(task)
        if not isinstance(finished, CompletedTask):
            raise AnaplanError(f"{task.describe()} has not finished: {finished.describe()}")
        return FailureDumps(self._runner, task, finished)
