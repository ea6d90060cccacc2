"""Plain records the store keeps: people, places, uploads and tasks.

Model structure is stored as a `ModelDef` document (versioned); model data (list items, module
cells, dumps) lives behind `ModelData` and is keyed by list, module and line-item *names*, so it
survives a structure swap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ObjectKind = Literal[
    "file",
    "import",
    "export",
    "action",
    "process",
    "list",
    "module",
    "line_item",
    "view",
    "version",
    "subset",
    "line_item_subset",
]
"""Model objects that get a 12-digit numeric id."""

OBJECT_ID_PREFIX: dict[ObjectKind, int] = {
    "list": 101,
    "module": 102,
    "version": 107,
    "subset": 109,
    "line_item_subset": 114,
    "line_item": 206,
    "view": 1186,
    "import": 112,
    "file": 113,
    "export": 116,
    "action": 117,
    "process": 118,
}
"""Anaplan's id prefix per object kind (§1.4): counters start at `<prefix>000000000`."""


@dataclass(frozen=True)
class UserRecord:
    """A user who can sign in."""

    id: str
    email: str
    password: str | None
    """The password's scrypt hash (`engine/passwords.py`), or None: certificates only."""
    first_name: str
    last_name: str
    customer_id: str
    certificate_pem: str | None = None


@dataclass(frozen=True)
class WorkspaceRecord:
    """A workspace."""

    id: str
    name: str


@dataclass(frozen=True)
class GrantRecord:
    """A user's membership of a workspace."""

    workspace_id: str
    user_id: str
    admin: bool


@dataclass(frozen=True)
class ModelRecord:
    """A model: where it lives and its state (its structure is a separate document)."""

    id: str
    workspace_id: str
    name: str
    created_ms: int
    state: str = "UNLOCKED"
    origin: str | None = None


@dataclass(frozen=True)
class UploadState:
    """A user's private content of one file: the declared chunk count and the chunks present."""

    declared: int
    chunk_indices: tuple[int, ...]
    completed: bool
    total_bytes: int

    @property
    def chunk_count(self) -> int:
        """The chunk count a listing shows: the declared count, or what arrived if still open."""
        if self.declared >= 0:
            return self.declared
        return len(self.chunk_indices)

    @property
    def readable(self) -> bool:
        """True when every declared chunk is present (an open `-1` upload counts what arrived)."""
        count = self.chunk_count
        return count > 0 and self.chunk_indices == tuple(range(count))


@dataclass(frozen=True)
class TaskRecord:
    """A bulk task as persisted."""

    id: str
    model_id: str
    kind: str
    action_id: str
    user_id: str
    user_email: str
    created_ms: int
    state: str
    locale: str
    mapping_json: str = "[]"
    idempotency_key: str | None = None
    progress: float = 0.0
    current_step: str | None = None
    result_json: str | None = None
    cancelled_by: str | None = None
    started_ms: int | None = None
    finished_ms: int | None = None


@dataclass(frozen=True)
class TaskOutcome:
    """The final state of a task, written in the same transaction as its data."""

    task_id: str
    state: str
    progress: float
    current_step: str | None
    result_json: str | None
    cancelled_by: str | None
    finished_ms: int
    started_ms: int | None = None


@dataclass(frozen=True)
class DumpRecord:
    """A failure dump of one import run (standalone, or nested in a process)."""

    task_id: str
    object_id: str
    user_id: str
    chunks: tuple[bytes, ...]
