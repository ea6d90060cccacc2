"""The `Store` interface the engine talks to, and what every implementation promises.

Promises (checked by `tests/emulator/storage/contract.py` for any store):

- Every write method that acknowledges something to a caller (a chunk, an upload declaration, a
  task's creation) has committed it durably before it returns.
- A task's data writes, its dumps and its final state (`TaskOutcome`) commit in one transaction
  (`ModelData.transaction()`); leaving the block with an exception rolls everything back.
- Methods are safe to call from many threads at once.
- `file_snapshot()` freezes file content: what it reads never changes, whatever is uploaded,
  exported or deleted meanwhile, until it is closed. A running task reads its sources through
  one, so a re-upload can never mix two uploads into one import.
- `wipe()` and `close()` may close connections: the caller (the engine's lifecycle) calls them
  only when no other call is in flight.

Data is keyed by names (list, module, line item, property), never by position in the structure,
so it survives a structure swap (ALM sync).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..definitions import ModelDef
from .records import (
    DumpRecord,
    GrantRecord,
    ModelRecord,
    ObjectKind,
    TaskOutcome,
    TaskRecord,
    UploadState,
    UserRecord,
    WorkspaceRecord,
)

ValueKind = str
"""How a property or line-item value is stored: `json` (number/text/list/date as given) or
`boolean` (a `"true"`/`"false"` string stored as a JSON boolean)."""


class ItemLookup(Protocol):
    """A list's items by code or by name: `lookup[text]` is the item's code (KeyError when no
    item has that code or name; where one item's code is another's name, the code wins)."""

    def __getitem__(self, text: str, /) -> str:
        """The code of the item whose code or name is `text`."""
        ...

    def __contains__(self, text: object, /) -> bool:
        """Whether an item has `text` as its code or name."""
        ...


class DataReader(Protocol):
    """Reads of one model's data."""

    def item_keys(self, list_name: str) -> dict[str, str]:
        """Every item of a list as `code → name`, in list order."""
        ...

    def item_lookup(self, list_name: str) -> ItemLookup:
        """Every item of a list by code and by name (see `ItemLookup`).

        The names may be read when first needed, so use the lookup while the list does not
        change (during one import). It may be used from another thread while the caller writes
        in the same transaction (an import's read-ahead parser): the store keeps that safe.
        """
        ...

    def items(self, list_name: str) -> Iterator[tuple[str, str, str | None, dict[str, Any]]]:
        """Every item of a list as `(code, name, parent, properties)`, in list order."""
        ...

    def cells(self, module: str) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        """Every cell row of a module as `(dimension codes, line item → value)`."""
        ...

    def cell_count(self, module: str) -> int:
        """The number of cell rows of a module."""
        ...

    def items_where(self, list_name: str, prop: str, value: bool) -> list[str]:
        """Codes of the items whose boolean property equals `value`."""
        ...

    def cells_where(self, module: str, line_item: str, value: bool) -> list[tuple[str, ...]]:
        """Dimension codes of the cell rows whose boolean line item equals `value`."""
        ...

    def indexed_items(
        self, list_name: str
    ) -> Iterator[tuple[int, str, str, str | None, dict[str, Any]]]:
        """Every item of a list as `(index, code, name, parent, properties)`, in list order.

        The index numbers an item within its list from 1; it stays with the item (and its code
        changes) and is never given again until `reset_index`.
        """
        ...

    def last_index(self, list_name: str) -> int:
        """The last index given in a list (0 for a new or reset list)."""
        ...

    def cell_rows(
        self, module: str, prefix: Sequence[str] = ()
    ) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        """The cell rows of a module whose first dimension codes are `prefix`."""
        ...

    def cells_at(
        self, module: str, keys: Sequence[tuple[str, ...]]
    ) -> dict[tuple[str, ...], dict[str, Any]]:
        """The cell rows of a module at these dimension codes (keys without a row are left out)."""
        ...


class EncodedRows:
    """Rows a bulk write takes already encoded, batch by batch (from
    `DataTransaction.encode_rows`): the encoding then runs in the thread that produced them."""

    def __init__(self, batches: Iterable[str]):
        self.batches = batches


class DataTransaction(DataReader, Protocol):
    """Writes of one task: all visible to its own reads, none to others until commit."""

    def encode_rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[str]:
        """`rows` encoded for a bulk write (`upsert_items`, `write_cells`), one batch at a time.

        An import produces its rows in a thread of its own and encodes them there too, so the
        write's thread spends its time in the store (`EncodedRows(batches)`).
        """
        ...

    def upsert_items(
        self,
        list_name: str,
        *,
        with_name: bool,
        with_parent: bool,
        properties: Sequence[tuple[str, ValueKind]],
        rows: Iterable[Sequence[Any]] | EncodedRows,
    ) -> None:
        """Create or update items from rows `(code, [name], [parent], *property values)`.

        Unmapped columns keep their values on update; a new item without a name takes its code.
        A None property value removes that property.
        """
        ...

    def write_cells(
        self,
        module: str,
        *,
        line_items: Sequence[tuple[str, ValueKind]],
        rows: Iterable[Sequence[Any]] | EncodedRows,
    ) -> None:
        """Write cell rows `(dimension key, *line item values)`; the key joins codes with \\x1f."""
        ...

    def delete_items(
        self, list_name: str, codes: Sequence[str], modules: Sequence[tuple[str, int]]
    ) -> int:
        """Delete items and their cells in `(module, dimension position)`; returns items deleted."""
        ...

    def recode_item(
        self, list_name: str, code: str, new_code: str, modules: Sequence[tuple[str, int]]
    ) -> None:
        """Give an item a new code, keeping its index and its cells in `(module, position)`."""
        ...

    def reset_index(self, list_name: str) -> None:
        """Number the list's next item 1 again."""
        ...

    def save_dump(self, dump: DumpRecord, import_id: str) -> None:
        """Keep a dump; the same user's older dumps of the same import are dropped (§7.3)."""
        ...

    def drop_dumps(self, user_id: str, import_id: str) -> None:
        """Drop the user's dumps of an import (its next run succeeded without errors)."""
        ...

    def record_outcome(self, outcome: TaskOutcome) -> None:
        """Write the task's final state; it commits with the data or not at all."""
        ...


class ModelData(DataReader, Protocol):
    """One model's data: reads of committed state, and write transactions."""

    def transaction(self) -> AbstractContextManager[DataTransaction]:
        """One write transaction; commits on normal exit, rolls back on an exception."""
        ...

    def add_initial_items(self, list_name: str, items: Sequence[dict[str, Any]]) -> None:
        """Load a definition's initial items (once, when the model is created)."""
        ...

    def outcome(self, task_id: str) -> TaskOutcome | None:
        """The committed outcome of a task, if its transaction committed."""
        ...

    def dump_chunks(self, task_id: str, object_id: str) -> list[bytes] | None:
        """The chunks of a kept dump, or None when there is none (or it was replaced)."""
        ...

    def snapshot(self) -> AbstractContextManager[DataReader]:
        """Reads of the data frozen as it is now, for as long as the block lasts (writers go on
        committing meanwhile)."""
        ...


class FileReader(Protocol):
    """Read access to file content (a store, or a snapshot of it)."""

    def upload_state(self, model_id: str, file_id: str, user_id: str) -> UploadState | None:
        """The user's private content of a file, or None."""
        ...

    def read_chunk(self, model_id: str, file_id: str, user_id: str, index: int) -> bytes | None:
        """One chunk's bytes, or None."""
        ...


class FileSnapshot(FileReader, Protocol):
    """File content as it was when the snapshot was taken; close it when done."""

    def close(self) -> None:
        """Let go of the snapshot (idempotent)."""
        ...


class Store(Protocol):
    """Everything the emulator persists."""

    # -- directory ---------------------------------------------------------------------------
    def add_user(self, user: UserRecord) -> None:
        """Add or replace a user (by email)."""
        ...

    def users(self) -> list[UserRecord]:
        """Every user, in the order added."""
        ...

    def add_workspace(self, workspace: WorkspaceRecord) -> None:
        """Add a workspace (no-op when it exists)."""
        ...

    def workspaces(self) -> list[WorkspaceRecord]:
        """Every workspace, in the order added."""
        ...

    def grant(self, grant: GrantRecord) -> None:
        """Make a user a member (or admin) of a workspace."""
        ...

    def grants(self) -> list[GrantRecord]:
        """Every membership."""
        ...

    def add_model(self, model: ModelRecord, structure: ModelDef) -> bool:
        """Add a model with its first structure version; False (no change) when it exists."""
        ...

    def models(self) -> list[ModelRecord]:
        """Every model, in the order added."""
        ...

    def set_model_state(self, model_id: str, state: str) -> None:
        """Change a model's state (UNLOCKED, LOCKED, ARCHIVED, OFFLINE)."""
        ...

    def delete_model(self, model_id: str) -> None:
        """Forget a model: its record, structure, ids, files, tasks and data."""
        ...

    # -- structure ---------------------------------------------------------------------------
    def structure(self, model_id: str, version: int | None = None) -> tuple[int, ModelDef]:
        """A structure version of a model (the latest by default) and its document."""
        ...

    def save_structure(self, model_id: str, structure: ModelDef) -> int:
        """Store a new structure version; returns its number."""
        ...

    def object_ids(self, model_id: str) -> dict[tuple[ObjectKind, str], str]:
        """Ids assigned to the model's objects, by (kind, name)."""
        ...

    def assign_object_ids(
        self, model_id: str, wanted: Sequence[tuple[ObjectKind, str]]
    ) -> dict[tuple[ObjectKind, str], str]:
        """Give each (kind, name) without an id the next id of its kind; returns all ids."""
        ...

    # -- files -------------------------------------------------------------------------------
    def declare_upload(self, model_id: str, file_id: str, user_id: str, chunk_count: int) -> None:
        """Start a new private upload: forget earlier content, declare the chunk count."""
        ...

    def put_chunk(self, model_id: str, file_id: str, user_id: str, index: int, data: bytes) -> None:
        """Store one chunk (replacing one of the same index)."""
        ...

    def complete_upload(self, model_id: str, file_id: str, user_id: str) -> UploadState:
        """Freeze an open upload's chunk count at the number of chunks received."""
        ...

    def upload_state(self, model_id: str, file_id: str, user_id: str) -> UploadState | None:
        """The user's private content of a file, or None."""
        ...

    def read_chunk(self, model_id: str, file_id: str, user_id: str, index: int) -> bytes | None:
        """One chunk's bytes, or None."""
        ...

    def replace_content(
        self, model_id: str, file_id: str, user_id: str, chunks: Iterable[bytes]
    ) -> int:
        """Replace the user's content with complete chunks (an export); returns the count."""
        ...

    def delete_content(self, model_id: str, file_id: str, user_id: str) -> None:
        """Forget the user's private content."""
        ...

    def file_snapshot(self) -> FileSnapshot:
        """Every file's content frozen as it is now (see the module docstring)."""
        ...

    # -- tasks -------------------------------------------------------------------------------
    def create_task(self, task: TaskRecord) -> TaskRecord:
        """Persist a new task; with an idempotency key already used for the action, the first."""
        ...

    def update_task(
        self,
        task_id: str,
        *,
        state: str,
        progress: float,
        current_step: str | None,
        result_json: str | None = None,
        cancelled_by: str | None = None,
        started_ms: int | None = None,
        finished_ms: int | None = None,
    ) -> None:
        """Record a task's new state."""
        ...

    def task(self, task_id: str) -> TaskRecord | None:
        """One task."""
        ...

    def tasks_of_action(self, model_id: str, action_id: str) -> list[TaskRecord]:
        """Tasks of an action, oldest first."""
        ...

    def unfinished_tasks(self) -> list[TaskRecord]:
        """Tasks not COMPLETE or CANCELLED, oldest first (for recovery)."""
        ...

    def all_tasks(self) -> list[TaskRecord]:
        """Every task of every model, oldest first (for the control routes)."""
        ...

    # -- model data --------------------------------------------------------------------------
    def model_data(self, model_id: str) -> ModelData:
        """The data of one model."""
        ...

    # -- lifecycle ---------------------------------------------------------------------------
    def wipe(self) -> None:
        """Forget everything (reset)."""
        ...

    def close(self) -> None:
        """Close every connection (and delete an ephemeral store's files)."""
        ...
