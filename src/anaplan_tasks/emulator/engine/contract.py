"""The seam between the emulator's HTTP layer and its task engine.

The HTTP layer (`emulator.api`) parses requests and calls an `Engine`; the engine
(`emulator.engine`)
owns the task state machine and model data and talks to a `Store` (`emulator.storage`). Neither the
HTTP layer nor the engine writes SQL; neither the engine nor the store knows HTTP.

Every method raises an `anaplan_tasks.emulator.errors.EmulatorError` subclass for a request Anaplan
would refuse (unknown id → `NotFound`, missing localeName → `BadRequest`, …). Wire payloads are the
shared models of `anaplan_tasks.models`, serialised by the HTTP layer with `.to_wire()`.

Methods are synchronous: the HTTP layer calls them from a worker thread. The engine runs tasks on
its own worker threads (one queue per model) and is safe to call from many threads at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

from ...models import (
    BulkTaskStatus,
    ChunkInfo,
    ExportAction,
    ExportMetadata,
    FileInfo,
    ImportAction,
    ImportMetadata,
    Model,
    ModelAction,
    Process,
    ProcessMetadata,
    TaskListItem,
    User,
    Workspace,
)
from ..definitions import OAuthClientDef

if TYPE_CHECKING:
    from .readrequests import ReadRequestSettings

ActionKind = Literal["imports", "exports", "actions", "processes"]

T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as resolved from a token."""

    user_id: str  # 32 lower-case hex guid
    email: str
    customer_id: str


@dataclass(frozen=True)
class MappingParameter:
    """A runtime mapping parameter: `entityType`, `entityName`, optional `importId`."""

    entity_type: str
    entity_name: str
    import_id: str | None = None


@dataclass(frozen=True)
class TaskStart:
    """A validated `POST …/tasks` body plus the caller's idempotency key, if any."""

    locale_name: str
    mapping_parameters: Sequence[MappingParameter] = field(default_factory=tuple)
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Page:
    """Paging asked for by `limit`/`offset` (limit defaults to 5000 like Anaplan)."""

    limit: int = 5000
    offset: int = 0


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list plus the total size, for `meta.paging`."""

    items: list[T]
    total_size: int
    offset: int


ProgressionMode = Literal["real", "fixed", "polls", "manual"]


@dataclass(frozen=True)
class TaskTimes:
    """When a bulk task was created, started running and finished (ms since the epoch)."""

    task_id: str
    model_id: str
    action_id: str
    state: str
    created_ms: int
    started_ms: int | None
    finished_ms: int | None


@dataclass(frozen=True)
class Progression:
    """How tasks progress (a control knob for tests, moto-style).

    - `real`: as fast as the work goes (default).
    - `fixed`: each task takes `seconds` of wall time (progress spread over it).
    - `polls`: a task advances only when polled; it completes after `polls` status reads.
    - `manual`: tasks stay NOT_STARTED until `advance()` is called.
    """

    mode: ProgressionMode = "real"
    seconds: float = 0.0
    polls: int = 0


class Engine(Protocol):
    """What the HTTP layer may ask of the emulator's engine."""

    def use(self) -> AbstractContextManager[None]:
        """Hold the store for one call (every route's engine work runs inside one)."""
        ...

    # -- people and places -------------------------------------------------------------------
    def authenticate_basic(self, email: str, password: str) -> Principal | None:
        """The user with these credentials, or None."""
        ...

    def authenticate_certificate(self, certificate_pem: bytes) -> Principal | None:
        """The user whose registered certificate this is, or None."""
        ...

    def oauth_client(self, client_id: str) -> OAuthClientDef | None:
        """The registered OAuth client with this id, or None."""
        ...

    def user(self, principal: Principal) -> User:
        """The caller's user record (`GET /users/me`)."""
        ...

    def workspaces(self, principal: Principal, page: Page) -> Paged[Workspace]:
        """Workspaces granted to the caller."""
        ...

    def models(self, principal: Principal, workspace_id: str | None, page: Page) -> Paged[Model]:
        """Models the caller can see, in one workspace or all."""
        ...

    def model(self, principal: Principal, model_id: str) -> Model:
        """One model (404 when unknown or not visible)."""
        ...

    def resolve_model(self, principal: Principal, workspace_id: str | None, model_id: str) -> str:
        """Check the caller may use this model (and that it is in that workspace when given).

        Returns the model id; raises NotFound otherwise. Workspace-less paths pass None.
        """
        ...

    # -- files -------------------------------------------------------------------------------
    def files(self, principal: Principal, model_id: str, page: Page) -> Paged[FileInfo]:
        """Import and export files with the caller's chunk counts."""
        ...

    def set_chunk_count(
        self, principal: Principal, model_id: str, file_ref: str, chunk_count: int
    ) -> FileInfo:
        """`POST /files/{id}`: start a new private upload; a name that is no file id creates one."""
        ...

    def put_chunk(
        self, principal: Principal, model_id: str, file_id: str, index: int, data: bytes
    ) -> None:
        """Store one (already decompressed, size-checked) chunk durably before returning."""
        ...

    def complete_upload(self, principal: Principal, model_id: str, file_id: str) -> FileInfo:
        """`POST /files/{id}/complete`: freeze the chunk count of a `-1` upload."""
        ...

    def file_chunks(self, principal: Principal, model_id: str, file_id: str) -> list[ChunkInfo]:
        """The caller's chunks of a file (empty when there is no content)."""
        ...

    def read_chunk(self, principal: Principal, model_id: str, file_id: str, index: int) -> bytes:
        """One chunk's bytes (404 when out of range)."""
        ...

    def read_file(self, principal: Principal, model_id: str, file_id: str) -> Iterator[bytes]:
        """The whole content, chunk after chunk (404 when there is none)."""
        ...

    def delete_file(self, principal: Principal, model_id: str, file_id: str) -> None:
        """Remove the caller's private content."""
        ...

    # -- the action catalogue ----------------------------------------------------------------
    def imports(self, principal: Principal, model_id: str, page: Page) -> Paged[ImportAction]:
        """Import definitions."""
        ...

    def import_metadata(
        self, principal: Principal, model_id: str, import_id: str
    ) -> ImportMetadata:
        """One import's metadata."""
        ...

    def exports(self, principal: Principal, model_id: str, page: Page) -> Paged[ExportAction]:
        """Export definitions."""
        ...

    def export_metadata(
        self, principal: Principal, model_id: str, export_id: str
    ) -> ExportMetadata:
        """One export's metadata."""
        ...

    def actions(self, principal: Principal, model_id: str, page: Page) -> Paged[ModelAction]:
        """Other (`117…`) actions."""
        ...

    def action(self, principal: Principal, model_id: str, action_id: str) -> ModelAction:
        """One action."""
        ...

    def processes(self, principal: Principal, model_id: str, page: Page) -> Paged[Process]:
        """Processes."""
        ...

    def process_metadata(
        self, principal: Principal, model_id: str, process_id: str
    ) -> ProcessMetadata:
        """One process and its actions in order."""
        ...

    # -- tasks -------------------------------------------------------------------------------
    def start_task(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        start: TaskStart,
    ) -> BulkTaskStatus:
        """Create a task (durably) and queue it; the same idempotency key returns the same task."""
        ...

    def tasks(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, page: Page
    ) -> Paged[TaskListItem]:
        """Tasks of one action, oldest first (unknown action → empty, like Anaplan)."""
        ...

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
        ...

    def cancel_task(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> BulkTaskStatus:
        """Ask a task to cancel; a finished task is returned unchanged."""
        ...

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
        ...

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
        ...

    def dump_content(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        object_id: str | None,
    ) -> list[bytes]:
        """Every chunk of a failure dump (404 when there is none)."""
        ...

    # -- control (outside Anaplan's paths) ---------------------------------------------------
    def reset(self) -> None:
        """Forget everything and load the configured definitions again."""
        ...

    def load_definition(self, text: str, *, source: str = "<request>") -> None:
        """Add the users, workspaces and models of a definition (JSON or TOML text)."""
        ...

    def set_progression(self, progression: Progression) -> None:
        """Change how tasks progress from now on."""
        ...

    def advance(self, task_id: str | None = None) -> None:
        """In `manual` mode, let one task (or all queued tasks) run."""
        ...

    def poll_counts(self) -> dict[str, int]:
        """Status reads per task id."""
        ...

    def task_times(self) -> list[TaskTimes]:
        """When every bulk task was created, started and finished, oldest first."""
        ...

    def read_request_settings(self) -> ReadRequestSettings:
        """Page size, pacing, quota and retention of large-volume reads."""
        ...

    def set_read_request_settings(self, settings: ReadRequestSettings) -> None:
        """Change them for read requests started from now on."""
        ...

    def close(self) -> None:
        """Stop worker threads and close the store."""
        ...
