"""What an action sees while it runs inside a task, and what it hands back."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...models import TaskResult
from ..storage import DataTransaction, FileReader, Store
from .catalog import ModelCatalog
from .contract import MappingParameter

CHUNK_SIZE = 10 * 1024 * 1024
"""Export output files and dumps are served in chunks of this size (§4.8)."""


class TaskCancelled(Exception):
    """Raised inside a running action when its task was asked to cancel."""


class LiveTask:
    """The in-memory state of a queued or running task: what status polls read while it runs."""

    def __init__(self, task_id: str, model_id: str):
        self.task_id = task_id
        self.model_id = model_id
        self.state = "NOT_STARTED"
        self.progress = 0.0
        self.current_step: str | None = None
        self.cancel_requested = False
        self.cancelled_by: str | None = None
        self.polls = 0
        self.released = False
        self.at_gate = False
        self.started_at: float | None = None
        self.cancel_progress = 0.0
        self.done = threading.Event()


@dataclass
class ActionOutcome:
    """The result of one action, and what it leaves to write when the task commits."""

    result: TaskResult
    ran: bool = True
    dump: list[bytes] | None = None
    export: tuple[str, list[bytes]] | None = None
    log: bytes | None = None  # an optimizer's solution log


@dataclass
class ActionContext:
    """Everything an action needs: the task, its transaction and where to report progress."""

    task_id: str
    model_id: str
    user_id: str
    catalog: ModelCatalog
    store: Store
    txn: DataTransaction
    live: LiveTask
    mapping: Sequence[MappingParameter] = field(default_factory=tuple)
    base: float = 0.0
    span: float = 1.0
    files: FileReader | None = None
    """The file content the task reads: the store frozen when the task began (None: live)."""

    @property
    def sources(self) -> FileReader:
        """Where the task reads its source files (its snapshot, else the live store)."""
        return self.files if self.files is not None else self.store

    def tick(self, fraction: float, step: str) -> None:
        """Report progress within this action (0..1); raises TaskCancelled if asked to stop."""
        self.live.progress = round(self.base + self.span * min(max(fraction, 0.0), 1.0), 4)
        self.live.current_step = step
        if self.live.cancel_requested:
            raise TaskCancelled

    def check_cancel(self) -> None:
        """Raise TaskCancelled if the task was asked to stop."""
        if self.live.cancel_requested:
            raise TaskCancelled


def split_chunks(data: bytes, size: int = CHUNK_SIZE) -> list[bytes]:
    """Cut content into chunks of at most `size` bytes (one empty chunk for empty content)."""
    if not data:
        return [b""]
    return [data[start : start + size] for start in range(0, len(data), size)]
