"""Operators that run Anaplan tasks: import, export, process, model action, ALM sync.

Each one starts the task (never twice: see *durable* below), waits, and returns a JSON summary
(the `return_value` XCom): task id, outcome, failed rows, counts per detail and nested
results. It also pushes `anaplan_task_id`, and `failure_dumps` (where the rejected rows were
saved) when rows were rejected. A failed task fails the Airflow task with `TaskFailedError`,
whose message names the failing details and counts.

- `deferrable=True`: after the start, the wait moves to the triggerer (`AnaplanTaskTrigger`);
  the worker slot is free until the task ends, then the worker reads the result.
- `durable=True` (default): before the start POST the attempt is recorded in Airflow's task
  state store, and the task id right after it. A retry after a worker crash re-attaches to the
  same Anaplan task (or takes its result when it already succeeded); a crash between the POST
  and recording the id is covered too: the retry adopts the task created since the recorded
  attempt instead of starting another.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from airflow.sdk import BaseOperator, ObjectStoragePath
from airflow.sdk.exceptions import AirflowException

from ..client import AlmTaskRef, Client, TaskRef
from ..errors import AmbiguousStartError, AnaplanError, NotFoundError, TaskFailedError
from ..models import CancelledTask, CompletedSyncTask, CompletedTask, TaskListItem
from ._results import alm_summary, task_summary
from .hooks import AnaplanHook
from .triggers import AnaplanTaskTrigger

STATE_KEY = "anaplan_task"
"""The task state store key holding the attempt: `{"what", "since_ms", "task_id", "exclude"}`."""

ADOPT_CLOCK_MARGIN = 5.0
"""Seconds between this worker's clock and Anaplan's `creationTime` tolerated when adopting."""

Phase = Literal["active", "succeeded", "failed"]

_READ_SIZE = 1 << 20


class AnaplanTaskFailed(AirflowException):
    """The Anaplan task failed; the message is the client's `TaskFailedError` message."""


class BaseAnaplanOperator(BaseOperator):
    """What every Anaplan operator shares: connection, deferral, durability, XCom, `on_kill`.

    Args:
        anaplan_conn_id: The connection (type `anaplan`).
        workspace: The workspace (id or name) when not the connection's.
        model: The model (id or name) when not the connection's.
        deferrable: Wait in the triggerer instead of the worker.
        durable: Record the attempt and task id in the task state store (see the module).
        wait_timeout: Seconds to wait for the task at most (None: no limit).
        cancel_on_timeout: Cancel the task on the server when `wait_timeout` passes.
    """

    template_fields: Sequence[str] = ("workspace", "model")
    ui_color = "#e6f1ff"
    kind: ClassVar[str] = ""

    def __init__(
        self,
        *,
        anaplan_conn_id: str = AnaplanHook.default_conn_name,
        workspace: str | None = None,
        model: str | None = None,
        deferrable: bool = False,
        durable: bool = True,
        wait_timeout: float | None = None,
        cancel_on_timeout: bool = True,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.anaplan_conn_id = anaplan_conn_id
        self.workspace = workspace
        self.model = model
        self.deferrable = deferrable
        self.durable = durable
        self.wait_timeout = wait_timeout
        self.cancel_on_timeout = cancel_on_timeout
        self._running: tuple[str, str] | None = None

    # -- what each operator defines --------------------------------------------------------
    def _target(self, client: Client) -> str:
        """The id the task runs under: the action's (bulk) or the target model's (ALM)."""
        raise NotImplementedError

    def _prepare(self, client: Client, target: str) -> None:
        """Work before a fresh start (an import's upload)."""

    def _start(self, client: Client, target: str) -> str:
        raise NotImplementedError

    def _listed(self, client: Client, target: str) -> list[TaskListItem]:
        raise NotImplementedError

    def _phase(self, client: Client, target: str, task_id: str) -> Phase:
        raise NotImplementedError

    def _finish(self, client: Client, target: str, task_id: str, context: Any) -> dict[str, Any]:
        raise NotImplementedError

    # -- the run ---------------------------------------------------------------------------
    def hook(self) -> AnaplanHook:
        """The hook for this operator's connection, workspace and model."""
        return AnaplanHook(self.anaplan_conn_id, workspace=self.workspace, model=self.model)

    def execute(self, context: Any) -> Any:
        """Start (or re-attach to) the task, then wait here or in the triggerer."""
        with self.hook().get_conn() as client:
            target = self._target(client)
            task_id = self._attach_or_start(client, target, context)
            self._running = (target, task_id)
            context["ti"].xcom_push(key="anaplan_task_id", value=task_id)
            if self.deferrable and self._phase(client, target, task_id) == "active":
                self.defer(
                    trigger=AnaplanTaskTrigger(
                        anaplan_conn_id=self.anaplan_conn_id,
                        kind=self.kind,
                        action_id=target,
                        task_id=task_id,
                        workspace=self.workspace,
                        model=self.model,
                        timeout=self.wait_timeout,
                        cancel_on_timeout=self.cancel_on_timeout,
                    ),
                    method_name="execute_complete",
                )
            return self._done(client, target, task_id, context)

    def execute_complete(self, context: Any, event: Mapping[str, Any]) -> Any:
        """Resume in the worker after the trigger fired: read the result, as a plain run."""
        task_id = str(event["task_id"])
        target = str(event["action_id"])
        if event.get("status") != "ended":
            raise AirflowException(
                f"waiting for Anaplan task {task_id} stopped: {event.get('message')}"
            )
        context["ti"].xcom_push(key="anaplan_task_id", value=task_id)  # kept across the deferral
        with self.hook().get_conn() as client:
            self._running = (target, task_id)
            return self._done(client, target, task_id, context)

    def _done(self, client: Client, target: str, task_id: str, context: Any) -> dict[str, Any]:
        summary = self._finish(client, target, task_id, context)
        self._running = None
        store = self._store(context)
        if store is not None:
            # Done: a later clear of this Airflow task runs the Anaplan task afresh.
            store.delete(STATE_KEY)
        return summary

    def on_kill(self) -> None:
        """Airflow kills the task: cancel the Anaplan task on the server."""
        running = self._running
        if running is None or self.kind not in ("imports", "exports", "actions", "processes"):
            return
        target, task_id = running
        with self.hook().get_conn() as client:
            status = client.tasks.cancel(TaskRef(self.kind, target, task_id))  # type: ignore[arg-type]
            self.log.info("cancelled Anaplan task %s: %s", task_id, status.describe())

    # -- durability ------------------------------------------------------------------------
    def _store(self, context: Any) -> Any:
        return context.get("task_state_store") if self.durable else None

    def _attach_or_start(self, client: Client, target: str, context: Any) -> str:
        store = self._store(context)
        what = f"{self.kind}/{target}"
        saved = store.get(STATE_KEY) if store is not None else None
        exclude: list[str] = []
        if isinstance(saved, dict) and saved.get("what") == what:
            exclude = [str(item) for item in saved.get("exclude") or []]
            task_id = saved.get("task_id") or self._adopt(
                client, target, float(saved["since_ms"]), exclude
            )
            if task_id:
                phase = self._phase_or_gone(client, target, str(task_id))
                if phase in ("active", "succeeded"):
                    self.log.info(
                        "re-attaching to Anaplan task %s (%s) of an earlier attempt", task_id, phase
                    )
                    if not saved.get("task_id"):
                        store.set(STATE_KEY, {**saved, "task_id": task_id})
                    return str(task_id)
                exclude.append(str(task_id))
                self.log.info("earlier Anaplan task %s failed; starting anew", task_id)
        self._prepare(client, target)
        attempt: dict[str, Any] = {
            "what": what,
            "since_ms": time.time() * 1000.0,
            "task_id": None,
            "exclude": exclude,
        }
        if store is not None:
            store.set(STATE_KEY, attempt)
        task_id = self._start(client, target)
        if store is not None:
            store.set(STATE_KEY, {**attempt, "task_id": task_id})
        self.log.info("started Anaplan task %s", task_id)
        return task_id

    def _adopt(
        self, client: Client, target: str, since_ms: float, exclude: list[str]
    ) -> str | None:
        """The task an earlier try created right before it died, if one can be proven.

        The candidates are the action's tasks created since the recorded attempt (within
        `ADOPT_CLOCK_MARGIN` of this worker's clock). None: the start never ran. One: it is
        adopted, as the client adopts a start whose answer was lost. More than one, or one
        while `RetryPolicy.shared_actions` says others start this action too: which is ours
        cannot be told, and `AmbiguousStartError` names them; nothing is started.
        """
        created = [
            item
            for item in self._listed(client, target)
            if item.creation_time >= since_ms - ADOPT_CLOCK_MARGIN * 1000.0
            and item.id not in exclude
        ]
        if not created:
            return None
        if len(created) > 1 or client.config.retry.shared_actions:
            names = ", ".join(f"{item.id} ({item.task_state})" for item in created)
            raise AmbiguousStartError(
                f"an earlier try of this Airflow task died right after starting {self.kind} "
                f"{target}; the task it started is one of: {names}. Check them before "
                "running the action again.",
                action=f"{self.kind} {target}",
                candidates=created,
                idempotency_key=None,
                cause=AnaplanError("the earlier try died before recording its task id"),
            )
        self.log.info("adopting Anaplan task %s, started by an attempt that died", created[0].id)
        return created[0].id

    def _phase_or_gone(self, client: Client, target: str, task_id: str) -> Phase:
        try:
            return self._phase(client, target, task_id)
        except NotFoundError:
            return "failed"


def _bulk_phase(status: Any) -> Phase:
    if isinstance(status, CompletedTask):
        return "succeeded" if status.result.successful else "failed"
    if isinstance(status, CancelledTask):
        return "failed"
    return "active"


def _readable(source: Any) -> Any:
    """What `files.upload` takes: a local path as is, an object storage path as a stream."""
    if isinstance(source, ObjectStoragePath):
        return _chunks(source)
    return os.fspath(source)


def _chunks(path: ObjectStoragePath) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while block := stream.read(_READ_SIZE):
            yield block


class _BulkOperator(BaseAnaplanOperator):
    """An import, export, process or model action, named by id or name."""

    template_fields: Sequence[str] = (
        *BaseAnaplanOperator.template_fields,
        "action",
        "dump_dir",
        "locale",
    )

    def __init__(
        self,
        *,
        action: str,
        fail_on_rejected_rows: bool = False,
        dump_dir: str | os.PathLike[str] | ObjectStoragePath | None = None,
        locale: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.action = action
        self.fail_on_rejected_rows = fail_on_rejected_rows
        self.dump_dir = dump_dir
        self.locale = locale

    def _namespace(self, client: Client) -> Any:
        return getattr(client, self.kind)

    def _target(self, client: Client) -> str:
        return str(self._namespace(client).get(self.action).id)

    def _ref(self, target: str, task_id: str) -> TaskRef:
        return TaskRef(self.kind, target, task_id, self.action)  # type: ignore[arg-type]

    def _start_options(self) -> dict[str, Any]:
        return {}

    def _start(self, client: Client, target: str) -> str:
        ref = self._namespace(client).start(target, locale=self.locale, **self._start_options())
        return str(ref.task_id)

    def _listed(self, client: Client, target: str) -> list[TaskListItem]:
        return list(client.tasks.list(self.kind, target))  # type: ignore[arg-type]

    def _phase(self, client: Client, target: str, task_id: str) -> Phase:
        return _bulk_phase(client.tasks.status(self._ref(target, task_id)))

    def _finish(self, client: Client, target: str, task_id: str, context: Any) -> dict[str, Any]:
        ref = self._ref(target, task_id)
        ti = context["ti"]
        try:
            task = client.tasks.wait(
                ref,
                timeout=self.wait_timeout,
                cancel_on_timeout=self.cancel_on_timeout,
                cancel_on_interrupt=False,
                fail_on_rejected_rows=self.fail_on_rejected_rows,
            )
        except TaskFailedError as failure:
            finished = failure.task
            if isinstance(finished, CompletedTask):
                summary = task_summary(ref, finished)
                ti.xcom_push(key="anaplan_summary", value=summary)
                self._push_dumps(client, ref, finished, context)
            raise AnaplanTaskFailed(str(failure)) from failure
        summary = task_summary(ref, task)
        self._push_dumps(client, ref, task, context)
        self._after(client, ref, task, context, summary)
        self.log.info("%s", task.describe())
        return summary

    def _after(
        self,
        client: Client,
        ref: TaskRef,
        task: CompletedTask,
        context: Any,
        summary: dict[str, Any],
    ) -> None:
        """Work after a successful task (an export's download)."""

    def _dump_dir(self, context: Any) -> Any:
        if self.dump_dir is not None:
            return self.dump_dir
        ti = context["ti"]
        return os.path.join(
            tempfile.gettempdir(), "anaplan-dumps", ti.dag_id, ti.run_id, ti.task_id
        )

    def _push_dumps(self, client: Client, ref: TaskRef, task: CompletedTask, context: Any) -> None:
        """Save the failure dumps (rows rejected) and push where they are.

        A dump that cannot be saved is logged, not raised: the task's own outcome stands.
        """
        if task.result.failed_row_count == 0:
            return
        dumps = client.tasks.dumps(ref, task)
        folder = self._dump_dir(context)
        saved: list[str] = []
        for dump in dumps.available:
            name = f"{ref.task_id}-{dump.object_id}.csv" if dump.object_id else f"{ref.task_id}.csv"
            try:
                if isinstance(folder, ObjectStoragePath):
                    folder.mkdir(parents=True, exist_ok=True)
                    target_path = folder / name
                    with target_path.open("wb") as stream:
                        dumps.save(stream, dump.object_id)
                    saved.append(str(target_path))
                else:
                    os.makedirs(folder, exist_ok=True)
                    local = os.path.join(folder, name)
                    dumps.save(local, dump.object_id)
                    saved.append(local)
            except (OSError, AnaplanError) as error:
                self.log.warning("could not save the failure dump %s: %s", name, error)
        if saved:
            self.log.info("rows rejected; failure dumps saved to %s", ", ".join(saved))
            context["ti"].xcom_push(key="failure_dumps", value=saved)


class AnaplanImportOperator(_BulkOperator):
    """Run an import, optionally uploading its source file first.

    Args:
        action: The import, by id or name.
        source: A local path or an `ObjectStoragePath` to upload to the import's file first.
        file: The file to upload to (default: the import's source file).
        mapping_parameters: `{"dimension": "item"}` (or a list of `entityType`/`entityName`
            mappings) for imports that ask for them.
        fail_on_rejected_rows: Fail also when the import succeeded but rejected rows.
        dump_dir: Where to save failure dumps (a local folder or an `ObjectStoragePath`;
            default a folder per DAG run under the temporary directory).
        **kwargs: See `BaseAnaplanOperator`.
    """

    kind = "imports"
    template_fields: Sequence[str] = (
        *_BulkOperator.template_fields,
        "source",
        "file",
        "mapping_parameters",
    )

    def __init__(
        self,
        *,
        source: str | os.PathLike[str] | ObjectStoragePath | None = None,
        file: str | None = None,
        mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.source = source
        self.file = file
        self.mapping_parameters = mapping_parameters

    def _prepare(self, client: Client, target: str) -> None:
        if self.source is None:
            return
        file = self.file or client.imports.get(target).import_data_source_id
        if not file:
            raise AirflowException(f"import {self.action!r} names no source file to upload to")
        info = client.files.upload(file, _readable(self.source))
        self.log.info("uploaded %s to file %s (%s)", self.source, info.name, info.id)

    def _start_options(self) -> dict[str, Any]:
        return {"mapping_parameters": self.mapping_parameters}


class AnaplanExportOperator(_BulkOperator):
    """Run an export and download its file to `dest` (a local path or `ObjectStoragePath`).

    The summary gains `dest` and `bytes`.
    """

    kind = "exports"
    template_fields: Sequence[str] = (*_BulkOperator.template_fields, "dest")

    def __init__(
        self, *, dest: str | os.PathLike[str] | ObjectStoragePath | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.dest = dest

    def _after(
        self,
        client: Client,
        ref: TaskRef,
        task: CompletedTask,
        context: Any,
        summary: dict[str, Any],
    ) -> None:
        if self.dest is None:
            return
        file_id = task.result.object_id or ref.action_id
        if isinstance(self.dest, ObjectStoragePath):
            with self.dest.open("wb") as stream:
                size = client.files.download(file_id, stream)
        else:
            size = client.files.download(file_id, os.fspath(self.dest))
        summary["dest"] = str(self.dest)
        summary["bytes"] = size
        self.log.info("downloaded %d bytes to %s", size, self.dest)


class AnaplanProcessOperator(_BulkOperator):
    """Run a process; the summary's `result.nested_results` has one entry per action."""

    kind = "processes"
    template_fields: Sequence[str] = (*_BulkOperator.template_fields, "mapping_parameters")

    def __init__(
        self,
        *,
        mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.mapping_parameters = mapping_parameters

    def _start_options(self) -> dict[str, Any]:
        return {"mapping_parameters": self.mapping_parameters}


class AnaplanActionOperator(_BulkOperator):
    """Run a model action, such as a delete-by-selection."""

    kind = "actions"


class AnaplanAlmSyncOperator(BaseAnaplanOperator):
    """Sync a revision of a source model into this operator's model (the target).

    Args:
        source_model: The source model's id.
        source_revision_id: The revision to sync (default: the newest syncable one).
        target_revision_id: The target's revision to sync over (default: its latest).
        **kwargs: See `BaseAnaplanOperator`; `model` is the target model.

    ALM tasks cannot be cancelled: `on_kill` and timeouts leave the sync running on the server.
    """

    kind = "syncTasks"
    template_fields: Sequence[str] = (
        *BaseAnaplanOperator.template_fields,
        "source_model",
        "source_revision_id",
        "target_revision_id",
    )

    def __init__(
        self,
        *,
        source_model: str,
        source_revision_id: str | None = None,
        target_revision_id: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.source_model = source_model
        self.source_revision_id = source_revision_id
        self.target_revision_id = target_revision_id

    def _target(self, client: Client) -> str:
        model = client.config.model_id
        if not model:
            raise AirflowException("the ALM sync needs a target model (connection or `model`)")
        if model.isalnum() and len(model) == 32:
            return model
        return next(m.id for m in client.models.list() if model in (m.id, m.name))

    def _ref(self, target: str, task_id: str) -> AlmTaskRef:
        return AlmTaskRef("syncTasks", target, task_id)

    def _start(self, client: Client, target: str) -> str:
        target_revision = self.target_revision_id
        if target_revision is None:
            latest = client.alm.latest_revision(target)
            if latest is None:
                raise AirflowException(f"model {target} has no revision to sync onto")
            target_revision = latest.id
        source_revision = self.source_revision_id
        if source_revision is None:
            candidates = client.alm.syncable_revisions(self.source_model, model_id=target)
            if not candidates:
                raise AirflowException(
                    f"model {self.source_model} has no revision that can be synced into {target}"
                )
            source_revision = candidates[0].id
        ref = client.alm.start(
            "syncTasks", self.source_model, source_revision, target_revision, model_id=target
        )
        return ref.task_id

    def _listed(self, client: Client, target: str) -> list[TaskListItem]:
        return client.alm.list_tasks("syncTasks", target)

    def _phase(self, client: Client, target: str, task_id: str) -> Phase:
        status = client.alm.status(self._ref(target, task_id))
        if isinstance(status, CompletedSyncTask):
            return "succeeded" if status.result.successful else "failed"
        if isinstance(status, CancelledTask):
            return "failed"
        return "active"

    def _finish(self, client: Client, target: str, task_id: str, context: Any) -> dict[str, Any]:
        ref = self._ref(target, task_id)
        try:
            task = client.alm.wait(ref, timeout=self.wait_timeout)
        except TaskFailedError as failure:
            if isinstance(failure.task, CompletedSyncTask):
                context["ti"].xcom_push(key="anaplan_summary", value=alm_summary(ref, failure.task))
            raise AnaplanTaskFailed(str(failure)) from failure
        self.log.info("%s", task.describe())
        return alm_summary(ref, task)
