"""The emulator's engine: people, places, files, the action catalogue and the task state machine.

Tasks run on one worker thread per model, one at a time, in the order they were created (later
ones stay `NOT_STARTED`). A task's data writes, dumps and final state commit in one transaction;
a cancel rolls them back. Live progress of a running task is kept in memory and read by status
polls; every state change is also written to the store, so a restart finds each task where it
was (an interrupted one ends failed, a queued one runs again).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from ...models import (
    BulkTaskStatus,
    CancelledTask,
    CancelledTaskSummary,
    ChunkInfo,
    CompletedTask,
    ExportAction,
    ExportMetadata,
    FileInfo,
    ImportAction,
    ImportMetadata,
    Model,
    ModelAction,
    Process,
    ProcessMetadata,
    Task,
    TaskListItem,
    TaskResult,
    TaskSummary,
    User,
    Workspace,
)
from .. import errors
from ..definitions import (
    Definition,
    FileDef,
    ModelDef,
    parse_definition,
)
from ..storage import (
    DataReader,
    DumpRecord,
    GrantRecord,
    ModelRecord,
    Store,
    TaskOutcome,
    TaskRecord,
    UserRecord,
    WorkspaceRecord,
)
from . import ids, results
from .catalog import ActionDef, ModelCatalog, structure_of, wanted_object_ids
from .clock import Clock, SystemClock
from .context import ActionContext, LiveTask, TaskCancelled
from .contract import ActionKind, MappingParameter, Page, Paged, Principal, Progression, TaskStart
from .runner import TaskOutput, run_process, run_single

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CHUNKS = 1000
"""Anaplan's limit on the chunks of one file (§4.4)."""

INTERRUPTED_TEXT = "The emulator stopped while this task ran; nothing was applied."
_POLL_WAIT_SECONDS = 60.0
_KIND_PREFIX = {"imports": "112", "exports": "116", "actions": "117", "processes": "118"}


def _page(items: Sequence[T], page: Page) -> Paged[T]:
    return Paged(
        items=list(items[page.offset : page.offset + page.limit]),
        total_size=len(items),
        offset=page.offset,
    )


class _ModelWorker:
    """The one thread that runs a model's tasks, first come first served."""

    def __init__(self, engine: EmulatorEngine, model_id: str):
        self.engine = engine
        self.model_id = model_id
        self.queue: deque[str] = deque()
        self.busy = False
        self.thread = threading.Thread(
            target=self._loop, name=f"emulator-model-{model_id[:8]}", daemon=True
        )
        self.thread.start()

    def _loop(self) -> None:
        engine = self.engine
        while True:
            with engine._cond:
                while not self.queue and not engine._stopping:
                    engine._cond.wait()
                if engine._stopping:
                    return
                task_id = self.queue.popleft()
                self.busy = True
            try:
                engine._run_task(task_id)
            except Exception:  # pragma: no cover - _run_task handles its own failures
                log.exception("task %s: unexpected failure in the worker", task_id)
            finally:
                with engine._cond:
                    self.busy = False
                    engine._cond.notify_all()


class EmulatorEngine:
    """The engine behind the emulator's HTTP layer (implements `contract.Engine`).

    Build one with `anaplan_tasks.emulator.engine.create_engine`.
    """

    def __init__(
        self,
        store: Store,
        *,
        definitions: Sequence[Definition] = (),
        progression: Progression | None = None,
        clock: Clock | None = None,
    ):
        self._store = store
        self._definitions = list(definitions)
        self._progression = progression or Progression()
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = False
        self._live: dict[str, LiveTask] = {}
        self._workers: dict[str, _ModelWorker] = {}
        self._poll_counts: dict[str, int] = {}
        self._users: dict[str, UserRecord] = {}
        self._users_by_id: dict[str, UserRecord] = {}
        self._workspaces: dict[str, WorkspaceRecord] = {}
        self._grants: dict[str, dict[str, bool]] = {}
        self._models: dict[str, ModelRecord] = {}
        self._catalogs: dict[str, ModelCatalog] = {}
        for definition in self._definitions:
            self._apply(definition)
        self._reload()
        self._recover()

    # == loading =============================================================================
    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)

    def _apply(self, definition: Definition) -> None:
        store = self._store
        for user in definition.users:
            store.add_user(
                UserRecord(
                    id=ids.user_id(user.email),
                    email=user.email,
                    password=user.password,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    customer_id=ids.CUSTOMER_ID,
                    certificate_pem=user.certificate_pem,
                )
            )
        for workspace in definition.workspaces:
            workspace_id = ids.workspace_id(workspace.name)
            store.add_workspace(WorkspaceRecord(workspace_id, workspace.name))
            for email in workspace.admins:
                store.grant(GrantRecord(workspace_id, ids.user_id(email), admin=True))
            for email in workspace.users:
                store.grant(GrantRecord(workspace_id, ids.user_id(email), admin=False))
            for model in workspace.models:
                model_id = ids.model_id(workspace.name, model.name)
                created = store.add_model(
                    ModelRecord(
                        id=model_id,
                        workspace_id=workspace_id,
                        name=model.name,
                        created_ms=self._now_ms(),
                        origin=model.origin,
                    ),
                    structure_of(model),
                )
                _, structure = store.structure(model_id)
                store.assign_object_ids(model_id, wanted_object_ids(structure))
                if created:
                    data = store.model_data(model_id)
                    for lst in model.lists:
                        if lst.items:
                            data.add_initial_items(lst.name, lst.items)

    def _reload(self) -> None:
        store = self._store
        with self._lock:
            self._users = {u.email.lower(): u for u in store.users()}
            self._users_by_id = {u.id: u for u in self._users.values()}
            self._workspaces = {w.id: w for w in store.workspaces()}
            self._grants = {}
            for grant in store.grants():
                self._grants.setdefault(grant.user_id, {})[grant.workspace_id] = grant.admin
            self._models = {m.id: m for m in store.models()}
            self._catalogs = {}
            for model_id in self._models:
                version, structure = store.structure(model_id)
                self._catalogs[model_id] = ModelCatalog(
                    structure, version, store.object_ids(model_id)
                )

    def _recover(self) -> None:
        """Finish what a previous process left: outcomes that committed, interrupted tasks."""
        requeue: list[TaskRecord] = []
        for task in self._store.unfinished_tasks():
            outcome = self._store.model_data(task.model_id).outcome(task.id)
            if outcome is not None:
                self._store.update_task(
                    task.id,
                    state=outcome.state,
                    progress=outcome.progress,
                    current_step=outcome.current_step,
                    result_json=outcome.result_json,
                    cancelled_by=outcome.cancelled_by,
                    finished_ms=outcome.finished_ms,
                )
            elif task.state == "NOT_STARTED":
                requeue.append(task)
            elif task.state == "CANCELLING":
                self._store.update_task(
                    task.id,
                    state="CANCELLED",
                    progress=task.progress,
                    current_step="Cancelled.",
                    result_json=_json(self._cancelled_result(task)),
                    finished_ms=self._now_ms(),
                )
            else:
                result = results.failed_to_run(task.action_id, "internalError", INTERRUPTED_TEXT)
                self._store.update_task(
                    task.id,
                    state="COMPLETE",
                    progress=1.0,
                    current_step="Failed.",
                    result_json=_json(result),
                    finished_ms=self._now_ms(),
                )
        with self._lock:
            for task in requeue:
                self._enqueue(task)

    # == people and places ===================================================================
    def authenticate_basic(self, email: str, password: str) -> Principal | None:
        """The user with these credentials, or None."""
        user = self._users.get(email.lower())
        if user is None or user.password is None:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        return self._principal(user)

    def authenticate_certificate(self, certificate_pem: bytes) -> Principal | None:
        """The user whose registered certificate this is, or None."""
        wanted = _pem_body(certificate_pem.decode("ascii", "replace"))
        for user in self._users.values():
            if user.certificate_pem and _pem_body(user.certificate_pem) == wanted:
                return self._principal(user)
        return None

    def _principal(self, user: UserRecord) -> Principal:
        return Principal(user_id=user.id, email=user.email, customer_id=user.customer_id)

    def user(self, principal: Principal) -> User:
        """The caller's user record (`GET /users/me`)."""
        user = self._users_by_id.get(principal.user_id)
        if user is None:
            raise errors.NotFound("User not found")
        return User(
            id=user.id,
            email=user.email,
            active=True,
            first_name=user.first_name,
            last_name=user.last_name,
            customer_id=user.customer_id,
        )

    def workspaces(self, principal: Principal, page: Page) -> Paged[Workspace]:
        """Workspaces granted to the caller."""
        granted = self._grants.get(principal.user_id, {})
        items = [
            Workspace(id=w.id, name=w.name, active=True)
            for w in self._workspaces.values()
            if w.id in granted
        ]
        return _page(items, page)

    def models(self, principal: Principal, workspace_id: str | None, page: Page) -> Paged[Model]:
        """Models the caller can see, in one workspace or all."""
        granted = self._grants.get(principal.user_id, {})
        if workspace_id is not None and workspace_id not in granted:
            raise errors.NotFound(f"Workspace {workspace_id} not found")
        items = [
            self._model_wire(m)
            for m in self._models.values()
            if m.workspace_id in granted and workspace_id in (None, m.workspace_id)
        ]
        return _page(items, page)

    def _model_wire(self, model: ModelRecord) -> Model:
        workspace = self._workspaces.get(model.workspace_id)
        return Model(
            id=model.id,
            name=model.name,
            active_state=model.state,
            current_workspace_id=model.workspace_id,
            current_workspace_name=workspace.name if workspace else None,
        )

    def model(self, principal: Principal, model_id: str) -> Model:
        """One model (404 when unknown or not visible)."""
        return self._model_wire(self._visible(principal, model_id))

    def resolve_model(self, principal: Principal, workspace_id: str | None, model_id: str) -> str:
        """Check the caller may use this model (and that it is in that workspace when given)."""
        model = self._visible(principal, model_id)
        if workspace_id is not None and model.workspace_id != workspace_id:
            raise errors.NotFound(f"Model {model_id} not found in workspace {workspace_id}")
        return model.id

    def _visible(self, principal: Principal, model_id: str) -> ModelRecord:
        model = self._models.get(model_id)
        if model is None or model.workspace_id not in self._grants.get(principal.user_id, {}):
            raise errors.NotFound(f"Model {model_id} not found")
        return model

    def is_workspace_admin(self, principal: Principal, workspace_id: str) -> bool:
        """True when the caller administers the workspace (ALM needs this)."""
        return self._grants.get(principal.user_id, {}).get(workspace_id, False)

    def _catalog(self, principal: Principal, model_id: str) -> ModelCatalog:
        self._visible(principal, model_id)
        return self._catalogs[model_id]

    # == files ===============================================================================
    def files(self, principal: Principal, model_id: str, page: Page) -> Paged[FileInfo]:
        """Import and export files with the caller's chunk counts."""
        catalog = self._catalog(principal, model_id)
        counts: dict[str, int] = {}
        for info in catalog.file_infos({}):
            state = self._store.upload_state(model_id, info.id, principal.user_id)
            if state is not None:
                counts[info.id] = state.chunk_count
        return _page(catalog.file_infos(counts), page)

    def _file_id(self, catalog: ModelCatalog, file_id: str, *, writable: bool = False) -> str:
        if catalog.file(file_id) is not None:
            return file_id
        if catalog.export(file_id) is not None:
            if writable:
                raise errors.BadRequest(
                    f"File {file_id} is an export's output: it cannot be uploaded to"
                )
            return file_id
        raise errors.NotFound(f"File {file_id} not found")

    def set_chunk_count(
        self, principal: Principal, model_id: str, file_ref: str, chunk_count: int
    ) -> FileInfo:
        """`POST /files/{id}`: start a new private upload; a name that is no file id creates one.

        A name that matches an existing file's name uses that file rather than adding a second.
        """
        catalog = self._catalog(principal, model_id)
        if chunk_count == 0 or chunk_count < -1 or chunk_count > MAX_CHUNKS:
            raise errors.BadRequest(
                f"chunkCount must be -1 (unknown) or between 1 and {MAX_CHUNKS}, not {chunk_count}"
            )
        if catalog.file(file_ref) is not None or catalog.export(file_ref) is not None:
            file_id = self._file_id(catalog, file_ref, writable=True)
        else:
            existing = catalog.file_named(file_ref)
            if existing is None:
                self._check_file_name(file_ref)
                structure = catalog.structure
                self.replace_structure(
                    model_id,
                    structure.model_copy(
                        update={"files": [*structure.files, FileDef(name=file_ref)]}
                    ),
                )
                catalog = self._catalogs[model_id]
            file_id = catalog.id_of("file", file_ref)
        self._store.declare_upload(model_id, file_id, principal.user_id, chunk_count)
        info = catalog.file_info(file_id, chunk_count if chunk_count > 0 else 0)
        assert info is not None
        return info

    @staticmethod
    def _check_file_name(name: str) -> None:
        if not name.strip() or len(name) > 255 or any(c in name for c in "/\\\x00"):
            raise errors.BadRequest(f"Not a valid file name: {name!r}")

    def put_chunk(
        self, principal: Principal, model_id: str, file_id: str, index: int, data: bytes
    ) -> None:
        """Store one (already decompressed, size-checked) chunk durably before returning."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id, writable=True)
        if index < 0 or index >= MAX_CHUNKS:
            raise errors.BadRequest(f"Chunk id must be between 0 and {MAX_CHUNKS - 1}")
        state = self._store.upload_state(model_id, file_id, principal.user_id)
        if state is not None and state.declared > 0 and index >= state.declared:
            raise errors.BadRequest(
                f"Chunk {index} is beyond the declared chunk count {state.declared}"
            )
        self._store.put_chunk(model_id, file_id, principal.user_id, index, data)

    def complete_upload(self, principal: Principal, model_id: str, file_id: str) -> FileInfo:
        """`POST /files/{id}/complete`: freeze the chunk count of a `-1` upload."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id, writable=True)
        state = self._store.upload_state(model_id, file_id, principal.user_id)
        if state is not None:
            present = state.chunk_indices
            expected = tuple(range(len(present))) if state.declared < 0 else None
            if expected is not None and present != expected:
                missing = sorted(set(range(max(present) + 1)) - set(present))
                raise errors.BadRequest(f"Cannot complete the upload: chunks {missing} are missing")
        state = self._store.complete_upload(model_id, file_id, principal.user_id)
        info = catalog.file_info(file_id, state.chunk_count)
        assert info is not None
        return info

    def file_chunks(self, principal: Principal, model_id: str, file_id: str) -> list[ChunkInfo]:
        """The caller's chunks of a file (empty when there is no content)."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        state = self._store.upload_state(model_id, file_id, principal.user_id)
        count = state.chunk_count if state is not None else 0
        return [ChunkInfo(id=str(index), name=f"Chunk {index}") for index in range(count)]

    def read_chunk(self, principal: Principal, model_id: str, file_id: str, index: int) -> bytes:
        """One chunk's bytes (404 when out of range)."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        data = self._store.read_chunk(model_id, file_id, principal.user_id, index)
        if data is None:
            raise errors.NotFound(f"Chunk {index} of file {file_id} not found")
        return data

    def read_file(self, principal: Principal, model_id: str, file_id: str) -> Iterator[bytes]:
        """The whole content, chunk after chunk (404 when there is none)."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        state = self._store.upload_state(model_id, file_id, principal.user_id)
        if state is None or not state.readable:
            raise errors.NotFound(f"File {file_id} has no content")
        user_id = principal.user_id
        store = self._store

        def chunks() -> Iterator[bytes]:
            for index in range(state.chunk_count):
                data = store.read_chunk(model_id, file_id, user_id, index)
                if data is None:
                    return
                yield data

        return chunks()

    def delete_file(self, principal: Principal, model_id: str, file_id: str) -> None:
        """Remove the caller's private content."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        self._store.delete_content(model_id, file_id, principal.user_id)

    # == the action catalogue ================================================================
    def imports(self, principal: Principal, model_id: str, page: Page) -> Paged[ImportAction]:
        """Import definitions."""
        return _page(self._catalog(principal, model_id).import_actions(), page)

    def import_metadata(
        self, principal: Principal, model_id: str, import_id: str
    ) -> ImportMetadata:
        """One import's metadata."""
        catalog = self._catalog(principal, model_id)
        definition = catalog.import_(import_id)
        if definition is None:
            raise errors.NotFound(f"Import {import_id} not found")
        return catalog.import_metadata(definition)

    def exports(self, principal: Principal, model_id: str, page: Page) -> Paged[ExportAction]:
        """Export definitions."""
        return _page(self._catalog(principal, model_id).export_actions(), page)

    def export_metadata(
        self, principal: Principal, model_id: str, export_id: str
    ) -> ExportMetadata:
        """One export's metadata (`rowCount` counts the rows it would write now)."""
        catalog = self._catalog(principal, model_id)
        definition = catalog.export(export_id)
        if definition is None:
            raise errors.NotFound(f"Export {export_id} not found")
        data = self._store.model_data(model_id)
        if definition.source_list is not None:
            rows = len(data.item_keys(definition.source_list))
        else:
            rows = sum(1 for _ in data.cells(definition.source_module or ""))
        return catalog.export_metadata(definition, rows)

    def actions(self, principal: Principal, model_id: str, page: Page) -> Paged[ModelAction]:
        """Other (`117…`) actions."""
        return _page(self._catalog(principal, model_id).model_actions(), page)

    def action(self, principal: Principal, model_id: str, action_id: str) -> ModelAction:
        """One action."""
        for action in self._catalog(principal, model_id).model_actions():
            if action.id == action_id:
                return action
        raise errors.NotFound(f"Action {action_id} not found")

    def processes(self, principal: Principal, model_id: str, page: Page) -> Paged[Process]:
        """Processes."""
        return _page(self._catalog(principal, model_id).process_entries(), page)

    def process_metadata(
        self, principal: Principal, model_id: str, process_id: str
    ) -> ProcessMetadata:
        """One process and its actions in order."""
        catalog = self._catalog(principal, model_id)
        definition = catalog.process(process_id)
        if definition is None:
            raise errors.NotFound(f"Process {process_id} not found")
        return catalog.process_metadata(definition)

    # == tasks ===============================================================================
    def _action(self, catalog: ModelCatalog, kind: ActionKind, action_id: str) -> Any:
        if kind == "imports":
            return catalog.import_(action_id)
        if kind == "exports":
            return catalog.export(action_id)
        if kind == "actions":
            return catalog.delete_action(action_id)
        return catalog.process(action_id)

    def start_task(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        start: TaskStart,
    ) -> BulkTaskStatus:
        """Create a task (durably) and queue it; the same idempotency key returns the same task."""
        model = self._visible(principal, model_id)
        if not start.locale_name:
            raise errors.BadRequest("localeName is required")
        if model.state == "ARCHIVED":
            raise errors.ModelArchived(f"Model {model_id} is archived")
        if model.state == "LOCKED":
            raise errors.ModelLocked(f"Model {model_id} is locked")
        if model.state == "OFFLINE":
            raise errors.ModelOffline(f"Model {model_id} is offline")
        catalog = self._catalogs[model_id]
        if self._action(catalog, kind, action_id) is None:
            raise errors.NotFound(f"{kind[:-1].capitalize()} {action_id} not found")
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
            worker = self._workers[task.model_id] = _ModelWorker(self, task.model_id)
        worker.queue.append(task.id)
        self._cond.notify_all()

    def _task_record(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> TaskRecord:
        self._visible(principal, model_id)
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
            self._visible(principal, model_id)
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
        return _page(items, page)

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
        """Ask a task to cancel; a finished task is returned unchanged."""
        record = self._task_record(principal, model_id, kind, action_id, task_id)
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
                        result_json=_json(self._cancelled_result(record)),
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
            live.state = "IN_PROGRESS"
            live.current_step = "Processing ..."
            live.started_at = self._clock.now()
        record = self._store.task(task_id)
        assert record is not None
        started_ms = self._now_ms()
        self._store.update_task(
            task_id,
            state="IN_PROGRESS",
            progress=0.0,
            current_step="Processing ...",
            started_ms=started_ms,
        )
        catalog = self._catalogs[record.model_id]
        data = self._store.model_data(record.model_id)
        final: TaskOutcome
        try:
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
                for file_id, chunks in output.exports.items():
                    self._store.replace_content(record.model_id, file_id, record.user_id, chunks)
                final = TaskOutcome(
                    task_id=task_id,
                    state="COMPLETE",
                    progress=1.0,
                    current_step="Complete." if output.ran else "Failed.",
                    result_json=_json(output.result),
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
                result_json=_json(self._cancelled_result(record)),
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
                result_json=_json(
                    results.failed_to_run(
                        record.action_id,
                        "internalError",
                        f"The emulator failed while running this task: {error}",
                    )
                ),
                cancelled_by=None,
                finished_ms=self._now_ms(),
            )
        self._store.update_task(
            task_id,
            state=final.state,
            progress=final.progress,
            current_step=final.current_step,
            result_json=final.result_json,
            cancelled_by=final.cancelled_by,
            finished_ms=final.finished_ms,
        )
        with self._cond:
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
        definition: ActionDef | None = self._action(
            catalog,
            record.kind,  # type: ignore[arg-type]
            record.action_id,
        )
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
        chunks = self._dump(principal, model_id, kind, action_id, task_id, object_id)
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
        chunks = self._dump(principal, model_id, kind, action_id, task_id, object_id)
        if not 0 <= index < len(chunks):
            raise errors.NotFound(f"Dump chunk {index} not found")
        return chunks[index]

    def _dump(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        object_id: str | None,
    ) -> list[bytes]:
        task = self._task_record(principal, model_id, kind, action_id, task_id)
        if task.user_id != principal.user_id:
            raise errors.NotFound(f"No dump for task {task_id}: it is another user's task")
        chunks = self._store.model_data(model_id).dump_chunks(task_id, object_id or action_id)
        if chunks is None:
            raise errors.NotFound(f"No failure dump for task {task_id}")
        return chunks

    # == control =============================================================================
    def reset(self) -> None:
        """Forget everything and load the configured definitions again."""
        self._stop_workers()
        with self._lock:
            self._store.wipe()
            self._live.clear()
            self._poll_counts.clear()
            self._stopping = False
        for definition in self._definitions:
            self._apply(definition)
        self._reload()

    def load_definition(self, text: str, *, source: str = "<request>") -> None:
        """Add the users, workspaces and models of a definition (JSON or TOML text)."""
        definition = parse_definition(text, source=source, known_users=list(self._users))
        self._apply(definition)
        self._reload()

    def set_progression(self, progression: Progression) -> None:
        """Change how tasks progress from now on."""
        with self._cond:
            self._progression = progression
            self._cond.notify_all()

    def advance(self, task_id: str | None = None) -> None:
        """In `manual` mode, let one task (or all queued tasks) run."""
        with self._cond:
            if task_id is None:
                for waiting in self._live.values():
                    waiting.released = True
            else:
                live = self._live.get(task_id)
                if live is None:
                    raise errors.NotFound(f"Task {task_id} is not waiting")
                live.released = True
            self._cond.notify_all()

    def poll_counts(self) -> dict[str, int]:
        """Status reads per task id."""
        with self._lock:
            return dict(self._poll_counts)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no task is queued or running (for tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._live:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def wait_settled(self, task_id: str, timeout: float = 30.0) -> bool:
        """Wait until a task is finished or held by the progression mode (for tests).

        Held means: waiting for `advance()` (manual), for more polls (polls) or for its time
        to pass (fixed). False on timeout.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                live = self._live.get(task_id)
                if live is None or live.at_gate:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)

    def model_data(self, model_id: str) -> DataReader:
        """Read access to a model's committed data (for tests and ALM)."""
        if model_id not in self._models:
            raise errors.NotFound(f"Model {model_id} not found")
        return self._store.model_data(model_id)

    def _stop_workers(self) -> None:
        with self._cond:
            self._stopping = True
            for live in self._live.values():
                live.cancel_requested = True
            self._cond.notify_all()
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.thread.join(timeout=30)

    def close(self) -> None:
        """Stop worker threads and close the store."""
        self._stop_workers()
        self._store.close()

    # == structure (for ALM) =================================================================
    def structure(self, model_id: str) -> ModelDef:
        """A model's current structure (lists, modules, line items, files, actions; no data)."""
        catalog = self._catalogs.get(model_id)
        if catalog is None:
            raise errors.NotFound(f"Model {model_id} not found")
        return catalog.structure

    def structure_version(self, model_id: str) -> int:
        """The number of a model's current structure version."""
        catalog = self._catalogs.get(model_id)
        if catalog is None:
            raise errors.NotFound(f"Model {model_id} not found")
        return catalog.version

    def replace_structure(self, model_id: str, new: ModelDef) -> None:
        """Make `new` the model's structure; data is kept wherever the new structure holds it.

        Objects keep their ids by name; new objects get the next id of their kind. Tasks already
        running finish on the structure they started with.
        """
        if model_id not in self._models:
            raise errors.NotFound(f"Model {model_id} not found")
        structure = structure_of(new)
        version = self._store.save_structure(model_id, structure)
        object_ids = self._store.assign_object_ids(model_id, wanted_object_ids(structure))
        with self._lock:
            self._catalogs[model_id] = ModelCatalog(structure, version, object_ids)

    def model_records(self) -> list[ModelRecord]:
        """Every model (all workspaces), for ALM."""
        return list(self._models.values())


def _json(result: TaskResult) -> str:
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


def _pem_body(pem: str) -> str:
    lines = [line.strip() for line in pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))
