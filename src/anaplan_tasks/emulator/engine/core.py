"""The emulator's engine: loading definitions, people and places, the action catalogue,
recovery after a restart, control for tests, and model structure for ALM.

Files are in `files.py`, tasks (queueing, running, status, cancel, dumps) in `tasks.py`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from ...models import (
    ExportAction,
    ExportMetadata,
    ImportAction,
    ImportMetadata,
    Model,
    ModelAction,
    Process,
    ProcessMetadata,
    User,
    Workspace,
)
from .. import errors
from ..definitions import BucketDef, Definition, ModelDef, OAuthClientDef, parse_definition
from ..storage import (
    DataReader,
    GrantRecord,
    ModelRecord,
    Store,
    TaskRecord,
    UserRecord,
    WorkspaceRecord,
)
from . import ids, results
from .base import page_of
from .catalog import ModelCatalog, structure_of, wanted_object_ids
from .clock import Clock, SystemClock
from .context import split_chunks
from .contract import Page, Paged, Principal, Progression, TaskTimes
from .files import DEFAULT_OWNER, FilesMixin, encode_default
from .lifecycle import Lifecycle
from .lists import initial_item
from .passwords import PasswordHasher
from .people import PeopleMixin, anaplan_time
from .readrequests import ReadRequests, ReadRequestSettings
from .tasks import TasksMixin, encode_result

INTERRUPTED_TEXT = "The emulator stopped while this task ran; nothing was applied."


WORKSPACE_SIZE_ALLOWANCE = 10 * 1024**3
"""The `sizeAllowance` every emulated workspace reports: 10 GiB, the reference's example value."""


MODEL_URL_BASE = "https://us1a.app.anaplan.com/anaplan/framework.jsp"
"""Where `modelUrl` points: Anaplan's page that opens a model (the emulator serves no UI)."""

LAST_SAVED_BASE = 2_000_000
"""`lastSavedSerialNumber` counts from here, one more per structure version."""


def _wire_state(state: str) -> str:
    """A model state as Anaplan's `activeState` says it.

    The engine stores an ALM offline model as `OFFLINE`; Anaplan's enum has no such value, and
    the reference reads `MAINTENANCE` as "standard mode, offline", so that is what clients see.
    """
    return "MAINTENANCE" if state == "OFFLINE" else state


class EmulatorEngine(FilesMixin, TasksMixin, PeopleMixin):
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
        self._lifecycle = Lifecycle()
        self._passwords = PasswordHasher()
        self._definitions = list(definitions)
        self._progression = progression or Progression()
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = False
        self._live = {}
        self._workers = {}
        self._poll_counts = {}
        self._file_access = {}
        self._users = {}
        self._users_by_id = {}
        self._workspaces = {}
        self._grants = {}
        self._models = {}
        self._catalogs = {}
        self._last_login = {}
        self._closed_models = set()
        self._log_reads = {}
        self._oauth_clients: dict[str, OAuthClientDef] = {}
        self._buckets: list[BucketDef] = []
        self._cloudworks_roles: dict[str, str] = {}
        self._read_requests = ReadRequests(self, self._clock, self._lifecycle.admit)
        for definition in self._definitions:
            self._apply(definition)
        self._reload()
        self._recover()

    # == loading =============================================================================
    def _apply(self, definition: Definition) -> None:
        store = self._store
        # OAuth clients live in memory: definitions are applied again at every start.
        self._oauth_clients.update({c.client_id: c for c in definition.oauth_clients})
        # So do CloudWorks' buckets and roles (a later definition's bucket of the same name wins).
        for bucket in definition.buckets:
            key = (bucket.type, bucket.account, bucket.name)
            kept = [b for b in self._buckets if (b.type, b.account, b.name) != key]
            self._buckets = [*kept, bucket]
        for user in definition.users:
            if user.cloudworks_role is not None:
                self._cloudworks_roles[user.email.lower()] = user.cloudworks_role
        for user in definition.users:
            store.add_user(
                UserRecord(
                    id=ids.user_id(user.email),
                    email=user.email,
                    password=(
                        None
                        if user.password is None
                        else self._passwords.hashed(user.email, user.password)
                    ),
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
                object_ids = store.assign_object_ids(model_id, wanted_object_ids(structure))
                if created:
                    data = store.model_data(model_id)
                    for lst in model.lists:
                        if lst.items:
                            data.add_initial_items(
                                lst.name,
                                [initial_item(lst, i, item) for i, item in enumerate(lst.items)],
                            )
                    for source in model.files:
                        if source.default_content is not None:
                            store.replace_content(
                                model_id,
                                object_ids[("file", source.name)],
                                DEFAULT_OWNER,
                                split_chunks(encode_default(source)),
                            )

    def _reload(self) -> None:
        # Requests read these maps without the lock: build new ones, then swap them in, the
        # catalogues before the models, so a reader never finds a model without its catalogue.
        store = self._store
        with self._lock:
            users = {u.email.lower(): u for u in store.users()}
            grants: dict[str, dict[str, bool]] = {}
            for grant in store.grants():
                grants.setdefault(grant.user_id, {})[grant.workspace_id] = grant.admin
            models = {m.id: m for m in store.models()}
            catalogs = dict(self._catalogs)
            for model_id in models:
                version, structure = store.structure(model_id)
                catalogs[model_id] = ModelCatalog(structure, version, store.object_ids(model_id))
            self._catalogs = catalogs
            self._workspaces = {w.id: w for w in store.workspaces()}
            self._users_by_id = {u.id: u for u in users.values()}
            self._users = users
            self._grants = grants
            self._models = models
            self._catalogs = {model_id: catalogs[model_id] for model_id in models}

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
                    result_json=encode_result(self._cancelled_result(task)),
                    finished_ms=self._now_ms(),
                )
            else:
                result = results.failed_to_run(task.action_id, "internalError", INTERRUPTED_TEXT)
                self._store.update_task(
                    task.id,
                    state="COMPLETE",
                    progress=1.0,
                    current_step="Failed.",
                    result_json=encode_result(result),
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
        if not self._passwords.verify(user.email, user.password, password):
            return None
        return self._principal(user)

    def authenticate_certificate(self, certificate_pem: bytes) -> Principal | None:
        """The user whose registered certificate this is, or None."""
        wanted = _pem_body(certificate_pem.decode("ascii", "replace"))
        for user in self._users.values():
            if user.certificate_pem and _pem_body(user.certificate_pem) == wanted:
                return self._principal(user)
        return None

    def oauth_client(self, client_id: str) -> OAuthClientDef | None:
        """The registered OAuth client with this id, or None."""
        return self._oauth_clients.get(client_id)

    def buckets(self) -> list[BucketDef]:
        """The local directories the definitions name as cloud storage (for CloudWorks)."""
        return list(self._buckets)

    def cloudworks_role(self, principal: Principal) -> str:
        """The caller's CloudWorks role: `integration_admin`, `restricted_integration_user` or
        `none` (a definition names it, else it follows the caller's workspace grants)."""
        named = self._cloudworks_roles.get(principal.email.lower())
        if named is not None:
            return named
        granted = self._grants.get(principal.user_id, {})
        if any(granted.values()):
            return "integration_admin"
        return "restricted_integration_user" if granted else "none"

    def _principal(self, user: UserRecord) -> Principal:
        self._note_login(user.id)
        return Principal(user_id=user.id, email=user.email, customer_id=user.customer_id)

    def user(self, principal: Principal) -> User:
        """The caller's user record (`GET /users/me`)."""
        user = self._users_by_id.get(principal.user_id)
        if user is None:
            raise errors.NotFound("User not found")
        return self._user_wire(user)

    def workspaces(self, principal: Principal, page: Page) -> Paged[Workspace]:
        """Workspaces granted to the caller."""
        granted = self._grants.get(principal.user_id, {})
        items = [
            Workspace(
                id=w.id,
                name=w.name,
                active=True,
                size_allowance=WORKSPACE_SIZE_ALLOWANCE,
                current_size=self._workspace_bytes(w.id),
            )
            for w in self._workspaces.values()
            if w.id in granted
        ]
        return page_of(items, page)

    def _workspace_bytes(self, workspace_id: str) -> int:
        """`currentSize`: the bytes of file content (every user's and the defaults) stored for
        the workspace's models. The emulator has no model memory to weigh, so data is not counted.
        """
        owners = [DEFAULT_OWNER, *(user.id for user in self._users.values())]
        total = 0
        for model in self._models.values():
            catalog = self._catalogs.get(model.id)
            if model.workspace_id != workspace_id or catalog is None:
                continue
            for info in catalog.file_infos({}):
                for owner in owners:
                    state = self._store.upload_state(model.id, info.id, owner)
                    total += state.total_bytes if state is not None else 0
        return total

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
        return page_of(items, page)

    def _model_wire(self, model: ModelRecord) -> Model:
        workspace = self._workspaces.get(model.workspace_id)
        with self._cond:
            running = any(
                live.model_id == model.id and live.state == "IN_PROGRESS"
                for live in self._live.values()
            )
        created = datetime.fromtimestamp(model.created_ms / 1000, tz=UTC)
        catalog = self._catalogs.get(model.id)
        admins = [
            user_id for user_id, granted in self._grants.items() if granted.get(model.workspace_id)
        ]
        return Model(
            id=model.id,
            name=model.name,
            active_state=_wire_state(model.state),
            current_workspace_id=model.workspace_id,
            current_workspace_name=workspace.name if workspace else None,
            model_url=(
                f"{MODEL_URL_BASE}?selectedWorkspaceId={model.workspace_id}"
                f"&takeAction=modelDrillDown&selectedModelId={model.id}"
            ),
            category_values=[],
            last_saved_serial_number=LAST_SAVED_BASE + (catalog.version if catalog else 1),
            last_modified_by_user_guid=admins[0] if admins else "",
            memory_usage=0,
            iso_creation_date=created.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            last_modified=anaplan_time(model.created_ms),
            model_transaction_running=running,
        )

    def model(self, principal: Principal, model_id: str) -> Model:
        """One model (404 when unknown or not visible)."""
        return self._model_wire(self._visible(principal, model_id))

    def resolve_model(self, principal: Principal, workspace_id: str | None, model_id: str) -> str:
        """Check the caller may use this model (and that it is in that workspace when given).

        A member whose model role is No Access gets a 404, as from Anaplan.
        """
        model, _ = self._usable(principal, model_id)
        if workspace_id is not None and model.workspace_id != workspace_id:
            raise errors.NotFound(f"Model {model_id} not found in workspace {workspace_id}")
        return model.id

    def is_workspace_admin(self, principal: Principal, workspace_id: str) -> bool:
        """True when the caller administers the workspace (ALM needs this)."""
        return self._grants.get(principal.user_id, {}).get(workspace_id, False)

    def imports(self, principal: Principal, model_id: str, page: Page) -> Paged[ImportAction]:
        """Import definitions."""
        return page_of(self._catalog(principal, model_id).import_actions(), page)

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
        return page_of(self._catalog(principal, model_id).export_actions(), page)

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
            rows = data.cell_count(definition.source_module or "")
        return catalog.export_metadata(definition, rows)

    def actions(self, principal: Principal, model_id: str, page: Page) -> Paged[ModelAction]:
        """Other (`117…`) actions."""
        return page_of(self._catalog(principal, model_id).model_actions(), page)

    def action(self, principal: Principal, model_id: str, action_id: str) -> ModelAction:
        """One action."""
        for action in self._catalog(principal, model_id).model_actions():
            if action.id == action_id:
                return action
        raise errors.NotFound(f"Action {action_id} not found")

    def processes(self, principal: Principal, model_id: str, page: Page) -> Paged[Process]:
        """Processes."""
        return page_of(self._catalog(principal, model_id).process_entries(), page)

    def process_metadata(
        self, principal: Principal, model_id: str, process_id: str
    ) -> ProcessMetadata:
        """One process and its actions in order."""
        catalog = self._catalog(principal, model_id)
        definition = catalog.process(process_id)
        if definition is None:
            raise errors.NotFound(f"Process {process_id} not found")
        return catalog.process_metadata(definition)

    # == control =============================================================================
    def use(self) -> AbstractContextManager[None]:
        """Hold the store for one call: a reset or close waits until the call is done.

        Every HTTP route takes this around its engine work; see `lifecycle.py`.
        """
        return self._lifecycle.shared()

    def reset(self) -> None:
        """Forget everything and load the configured definitions again.

        Safe while requests run: new calls wait, running tasks are cancelled (they apply
        nothing), calls in flight finish, and only then is the data replaced.
        """
        with self._lifecycle.exclusive(self._signal_stop, new_generation=True):
            self._join_workers()
            self._read_requests.clear()
            with self._lock:
                self._store.wipe()
                self._live.clear()
                self._poll_counts.clear()
                self._file_access.clear()
                self._last_login.clear()
                self._closed_models.clear()
                self._log_reads.clear()
                self._buckets = []
                self._cloudworks_roles.clear()
                self._stopping = False
            for definition in self._definitions:
                self._apply(definition)
            self._reload()

    def load_definition(self, text: str, *, source: str = "<request>") -> None:
        """Add the users, workspaces and models of a definition (JSON or TOML text).

        Holds the store like a request: a reset waits for it, and it for a reset.
        """
        definition = parse_definition(text, source=source, known_users=list(self._users))
        with self._lifecycle.shared():
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

    @property
    def read_requests(self) -> ReadRequests:
        """The large-volume reads of every model (`readrequests.py`)."""
        return self._read_requests

    def read_request_settings(self) -> ReadRequestSettings:
        """Page size, pacing, quota and retention of large-volume reads."""
        return self._read_requests.settings

    def set_read_request_settings(self, settings: ReadRequestSettings) -> None:
        """Change page size, pacing, quota or retention of read requests started from now on."""
        self._read_requests.settings = settings

    def poll_counts(self) -> dict[str, int]:
        """Status reads per task id."""
        with self._lock:
            return dict(self._poll_counts)

    def task_times(self) -> list[TaskTimes]:
        """When every bulk task was created, started and finished, oldest first."""
        return [
            TaskTimes(
                task_id=task.id,
                model_id=task.model_id,
                action_id=task.action_id,
                state=task.state,
                created_ms=task.created_ms,
                started_ms=task.started_ms,
                finished_ms=task.finished_ms,
            )
            for task in self._store.all_tasks()
        ]

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

    def _signal_stop(self) -> None:
        """Ask every worker and running task to stop, and release waiting status reads."""
        with self._cond:
            self._stopping = True
            for live in self._live.values():
                live.cancel_requested = True
                live.done.set()  # release status reads waiting in `polls` mode
            self._cond.notify_all()
        self._read_requests.cancel_all()

    def _join_workers(self) -> None:
        """Wait for the worker threads to end (after `_signal_stop`, with no task running)."""
        with self._cond:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.thread.join()

    def close(self) -> None:
        """Stop worker threads and close the store, once calls in flight are done."""
        with self._lifecycle.exclusive(self._signal_stop, close=True):
            self._join_workers()
            self._read_requests.close()
            self._store.close()

    # == structure (for ALM) =================================================================
    def structure(self, model_id: str, version: int | None = None) -> ModelDef:
        """A model's structure (lists, modules, line items, files, actions; no data).

        The current one by default; `version` reads an earlier one (each `replace_structure`
        adds a version, numbered from 1).
        """
        catalog = self._catalogs.get(model_id)
        if catalog is None:
            raise errors.NotFound(f"Model {model_id} not found")
        if version is None or version == catalog.version:
            return catalog.structure
        try:
            return self._store.structure(model_id, version)[1]
        except KeyError:
            raise errors.NotFound(f"Model {model_id} has no structure version {version}") from None

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
        current = self._catalogs.get(model_id)
        if current is not None:
            # Who has which role is the model's own, not structure: an ALM sync keeps it.
            new = new.model_copy(update={"members": current.structure.members})
        structure = structure_of(new)
        version = self._store.save_structure(model_id, structure)
        object_ids = self._store.assign_object_ids(model_id, wanted_object_ids(structure))
        with self._lock:
            self._catalogs[model_id] = ModelCatalog(structure, version, object_ids)

    def set_model_state(self, model_id: str, state: str) -> None:
        """Set a model's state: UNLOCKED, LOCKED, ARCHIVED or OFFLINE (ALM online status).

        Starting a task on a model that is not UNLOCKED answers 423, 422 or 424.
        """
        if model_id not in self._models:
            raise errors.NotFound(f"Model {model_id} not found")
        self._store.set_model_state(model_id, state)
        with self._lock:
            model = self._models[model_id]
            self._models[model_id] = ModelRecord(
                id=model.id,
                workspace_id=model.workspace_id,
                name=model.name,
                created_ms=model.created_ms,
                state=state,
                origin=model.origin,
            )

    def catalog_of(self, model_id: str) -> ModelCatalog:
        """A model's current structure with its object ids (for tests and ALM)."""
        catalog = self._catalogs.get(model_id)
        if catalog is None:
            raise errors.NotFound(f"Model {model_id} not found")
        return catalog

    @property
    def store(self) -> Store:
        """The store behind this engine (for tests and ALM)."""
        return self._store

    def model_records(self) -> list[ModelRecord]:
        """Every model (all workspaces), for ALM."""
        return list(self._models.values())


def _pem_body(pem: str) -> str:
    lines = [line.strip() for line in pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))
