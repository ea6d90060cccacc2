"""The namespaces of `Client` (`client.files`, `client.imports`, …) and its failure dumps."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._core import actions as core_actions
from .._core import dumps as core_dumps
from .._core import endpoints, jobs, tasks
from .._core import files as core_files
from .._core.calls import list_all
from .._core.dumps import DumpRef
from .._core.flow import Context, Flow
from .._core.types import DumpRow, TaskRef
from ..errors import AnaplanError, TaskFailedError
from ..models import (
    ActionKind,
    BulkTaskStatus,
    CompletedTask,
    FileInfo,
    Model,
    TaskListItem,
    Workspace,
)
from ._shared import upload_source

if TYPE_CHECKING:
    from ._sync import Client

T = TypeVar("T")


class _Namespace:
    def __init__(self, client: Client):
        self._client = client

    def _run(self, flow: Flow[T]) -> T:
        return self._client._run(flow)

    @property
    def _ctx(self) -> Context:
        return self._client._ctx


class Workspaces(_Namespace):
    """`client.workspaces`: the workspaces you can see."""

    def list(self) -> list[Workspace]:
        """Every workspace visible to the signed-in user."""
        url = endpoints.api_url(self._ctx, "/workspaces")
        items = self._run(list_all(self._ctx, url, "workspaces", {"tenantDetails": "true"}))
        return [Workspace.model_validate(item) for item in items]


class Models(_Namespace):
    """`client.models`: the models you can see."""

    def list(self, workspace_id: str | None = None) -> list[Model]:
        """Models of one workspace (default: the client's), or all with `workspace_id="*"`."""
        workspace = workspace_id or self._ctx.workspace_id
        path = "/models" if workspace in (None, "*") else f"/workspaces/{workspace}/models"
        items = self._run(list_all(self._ctx, endpoints.api_url(self._ctx, path), "models"))
        return [Model.model_validate(item) for item in items]


class Files(_Namespace):
    """`client.files`: list, upload, download and delete the model's files."""

    def list(self) -> list[FileInfo]:
        """The model's files, with your chunk counts."""
        return self._run(core_files.list_files(self._ctx))

    def get(self, file: str) -> FileInfo:
        """A file by id or name (an unknown name lists the closest)."""
        return self._run(jobs.resolve_file(self._ctx, file))

    def _file_id(self, file: str) -> str:
        if file.isdigit() and len(file) == 12:
            return file
        return self.get(file).id

    def upload(
        self,
        file: str,
        source: str | os.PathLike[str] | bytes | Iterable[bytes],
        *,
        chunk_size: int | None = None,
        workers: int | None = None,
        on_progress: core_files.UploadProgressCallback | None = None,
    ) -> FileInfo:
        """Upload new content for a file, chunk by chunk, compressed and concurrent.

        Args:
            file: The file's id or name.
            source: A path, bytes, or an iterable of bytes (size unknown: chunk count -1).
            chunk_size: Uncompressed bytes per chunk (default from the client, 10 MB).
            workers: Chunks in flight at once (default from the client, 4).
            on_progress: Called after each stored chunk with the uncompressed bytes uploaded
                so far and the total (None when the source's size is unknown).

        Raises:
            ChunkUploadError: A chunk could not be uploaded; the upload was not completed.
        """
        config = self._client.config
        plan = upload_source(source, chunk_size or config.chunk_size)
        file_id = self._file_id(file)
        return self._run(
            core_files.upload(
                self._ctx, file_id, plan, workers or config.upload_workers, on_progress
            )
        )

    def iter_download(self, file: str) -> Iterator[bytes]:
        """The file's content, chunk by chunk (one chunk in memory at a time)."""
        result: list[int] = []
        return self._client._steps(core_files.download(self._ctx, self._file_id(file)), result)

    def download(self, file: str, dest: str | os.PathLike[str] | Any) -> int:
        """Write the file's content to a path or binary file object; returns the byte count."""
        return _write_all(self.iter_download(file), dest)

    def delete(self, file: str) -> None:
        """Remove your private content of a file."""
        self._run(core_files.delete(self._ctx, self._file_id(file)))


def _write_all(chunks: Iterator[bytes], dest: Any) -> int:
    total = 0
    if isinstance(dest, str | os.PathLike):
        path = Path(dest)
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                total += len(chunk)
        partial.replace(path)
        return total
    for chunk in chunks:
        dest.write(chunk)
        total += len(chunk)
    return total


class FailureDumps:
    """The failure dumps of a finished task, bound to a client.

    Attributes:
        task: Which task.
        available: The dumps it offers (one per nested import of a process).
    """

    def __init__(self, client: Client, ref: TaskRef, task: CompletedTask):
        self._client = client
        self.task = ref
        self.available: list[DumpRef] = core_dumps.dumps_of(ref, task)

    def _select(self, object_id: str | None) -> list[DumpRef]:
        if object_id is None:
            return self.available
        return [dump for dump in self.available if dump.object_id == object_id]

    def iter_bytes(self, object_id: str | None = None) -> Iterator[bytes]:
        """The dumps' bytes, chunk by chunk (one dump after another)."""
        for dump in self._select(object_id):
            yield from self._client._steps(core_dumps.download_dump(self._client._ctx, dump), [])

    def read(self, object_id: str | None = None) -> bytes:
        """A dump as bytes (all dumps concatenated when `object_id` is None)."""
        return b"".join(self.iter_bytes(object_id))

    def save(self, dest: str | os.PathLike[str] | Any, object_id: str | None = None) -> int:
        """Write the dump to a path or binary file object; returns the byte count."""
        return _write_all(self.iter_bytes(object_id), dest)

    def iter_rows(self, object_id: str | None = None) -> Iterator[DumpRow]:
        """The rejected and warned rows, streamed."""
        for dump in self._select(object_id):
            chunks = self._client._steps(core_dumps.download_dump(self._client._ctx, dump), [])
            yield from core_dumps.parse_dump_rows(chunks, object_id=dump.object_id)

    def rows(self, object_id: str | None = None) -> list[DumpRow]:
        """The rejected and warned rows: status, line number, error texts, source columns."""
        return list(self.iter_rows(object_id))


class _Actions(_Namespace):
    def __init__(self, client: Client, kind: ActionKind):
        super().__init__(client)
        self._kind: ActionKind = kind

    def list(self) -> list[Any]:
        """Every action of this kind in the model."""
        return self._run(core_actions.list_actions(self._ctx, self._kind))

    def get(self, action: str) -> Any:
        """An action by id or name; an unknown name raises `ActionNotFoundError` with hints."""
        return self._run(
            core_actions.resolve(self._ctx, self._kind, action, look_up=True)
        ).definition

    def _ref(self, action: str, task_id: str) -> TaskRef:
        resolved = self._run(core_actions.resolve(self._ctx, self._kind, action))
        return TaskRef(self._kind, resolved.id, task_id, resolved.name)

    def start(
        self,
        action: str,
        *,
        mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        locale: str | None = None,
    ) -> TaskRef:
        """Start a task (never twice because of a retry); returns which task to wait for."""
        resolved = self._run(core_actions.resolve(self._ctx, self._kind, action))
        body = tasks.start_body(locale or self._ctx.locale, mapping_parameters)
        status = self._run(tasks.start(self._ctx, self._kind, resolved.id, body))
        return TaskRef(self._kind, resolved.id, status.id, resolved.name)

    def status(self, action: str, task_id: str) -> BulkTaskStatus:
        """A task's current status."""
        return self._client.tasks.status(self._ref(action, task_id))

    def list_tasks(self, action: str) -> builtins.list[TaskListItem]:
        """The action's tasks, oldest first (everyone's)."""
        resolved = self._run(core_actions.resolve(self._ctx, self._kind, action))
        return self._run(tasks.list_tasks(self._ctx, self._kind, resolved.id))

    def cancel(self, action: str, task_id: str) -> BulkTaskStatus:
        """Ask the server to cancel a task."""
        return self._client.tasks.cancel(self._ref(action, task_id))

    def wait(self, task: TaskRef, **options: Any) -> CompletedTask:
        """Wait for a task started with `start()`; see `client.tasks.wait`."""
        return self._client.tasks.wait(task, **options)

    def _run_job(
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
        config = self._client.config
        return self._run(
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
                on_failure=self._client.tasks._failure,
                source=None if source is None else upload_source(source, config.chunk_size),
                workers=config.upload_workers,
                on_progress=on_progress,
            )
        )


class Imports(_Actions):
    """`client.imports`: import definitions and their tasks."""

    def run(
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
        return self._run_job(
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


class Exports(_Actions):
    """`client.exports`: export definitions and their tasks."""

    def run(
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
        task = self._run_job(
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
                or self._run(core_actions.resolve(self._ctx, "exports", action)).id
            )
            self._client.files.download(export_id, dest)
        return task


class Processes(_Actions):
    """`client.processes`: processes and their tasks."""

    def run(
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
        return self._run_job(
            action,
            mapping_parameters=mapping_parameters,
            locale=locale,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=cancel_on_interrupt,
            fail_on_rejected_rows=fail_on_rejected_rows,
        )


class Actions(_Actions):
    """`client.actions`: model actions such as delete-by-selection, and their tasks."""

    def run(
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
        return self._run_job(
            action,
            mapping_parameters=None,
            locale=locale,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=cancel_on_interrupt,
            fail_on_rejected_rows=fail_on_rejected_rows,
        )


class Tasks(_Namespace):
    """`client.tasks`: status, list, cancel and wait, given a `TaskRef`."""

    def _failure(self, ref: TaskRef, task: CompletedTask) -> TaskFailedError:
        return TaskFailedError(
            tasks.failure_message(ref, task),
            task=task,
            ref=ref,
            dumps=FailureDumps(self._client, ref, task),
        )

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
            return FailureDumps(self._client, tasks.ref_of(task), task)
        finished = status or self.status(task)
        if not isinstance(finished, CompletedTask):
            raise AnaplanError(f"{task.describe()} has not finished: {finished.describe()}")
        return FailureDumps(self._client, task, finished)
