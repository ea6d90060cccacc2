"""Where the emulator keeps ALM state: revisions, where they were applied, ALM tasks, reports.

One SQLite database (`alm.sqlite` beside the engine's store, or a temporary one), WAL mode,
`synchronous=FULL` unless ephemeral: a method that acknowledges a write (a revision created, a
task started, a sync recorded) has committed it before it returns. A sync's structure change is
made by the engine; the ALM records (applied revision, task outcome) commit together in one
transaction right after.

Tables:

- `revisions`: one row per revision, with the model it was created in, its parent (the revision
  it was made on top of; see `compat`) and its structure snapshot as JSON.
- `applied`: each time a revision became a model's current revision (created there, synced
  there, or copied with the model), in order; a model's latest revision is its last row.
- `models`: the models ALM has seen and when each was created, so a reset that recreates a model
  with the same id is noticed and its stale ALM state dropped.
- `tasks`: sync, comparison and summary tasks; `reports`: the generated reports.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..definitions import ModelDef

TaskKind = Literal["syncTasks", "comparisonReportTasks", "summaryReportTasks"]
"""The three kinds of ALM task, named as their URL segment."""

ReportKind = Literal["comparison", "summary"]
"""The two kinds of report."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models(
    model_id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revisions(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, model_id TEXT NOT NULL,
    name TEXT NOT NULL, description TEXT, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL,
    creation_method TEXT NOT NULL, parent_id TEXT, structure TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applied(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, revision_id TEXT NOT NULL, model_id TEXT NOT NULL,
    applied_ms INTEGER NOT NULL, applied_by TEXT NOT NULL, method TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS applied_by_model ON applied(model_id, seq);
CREATE INDEX IF NOT EXISTS applied_by_revision ON applied(revision_id, seq);
CREATE TABLE IF NOT EXISTS tasks(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, kind TEXT NOT NULL,
    model_id TEXT NOT NULL, user_id TEXT NOT NULL, created_ms INTEGER NOT NULL,
    state TEXT NOT NULL, current_step TEXT NOT NULL, polls INTEGER NOT NULL DEFAULT 0,
    source_model_id TEXT NOT NULL, source_revision_id TEXT NOT NULL,
    target_revision_id TEXT NOT NULL, result TEXT, finished_ms INTEGER);
CREATE INDEX IF NOT EXISTS tasks_by_model ON tasks(model_id, kind, seq);
CREATE TABLE IF NOT EXISTS reports(
    model_id TEXT NOT NULL, kind TEXT NOT NULL, target_revision_id TEXT NOT NULL,
    source_revision_id TEXT NOT NULL, created_ms INTEGER NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY(model_id, kind, target_revision_id, source_revision_id));
"""


@dataclass(frozen=True)
class RevisionRecord:
    """A revision: a named snapshot of a model's structure."""

    id: str
    model_id: str
    name: str
    description: str | None
    created_ms: int
    created_by: str
    creation_method: str
    parent_id: str | None
    structure: ModelDef


@dataclass(frozen=True)
class AppliedRecord:
    """A revision becoming a model's current revision."""

    revision_id: str
    model_id: str
    applied_ms: int
    applied_by: str
    method: str


@dataclass(frozen=True)
class AlmTaskRecord:
    """An ALM task as persisted."""

    id: str
    kind: TaskKind
    model_id: str
    user_id: str
    created_ms: int
    state: str
    current_step: str
    polls: int
    source_model_id: str
    source_revision_id: str
    target_revision_id: str
    result: dict[str, Any] | None
    finished_ms: int | None


class AlmStore:
    """The ALM tables on SQLite (thread-safe: one connection behind a lock).

    Args:
        path: The database file; None for an ephemeral database in a temporary directory.
    """

    def __init__(self, path: Path | None = None):
        self._tmp: str | None = None
        if path is None:
            self._tmp = tempfile.mkdtemp(prefix="anaplan-emulator-alm-")
            path = Path(self._tmp) / "alm.sqlite"
        self.path = path
        self._lock = threading.RLock()
        self._connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=120
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(f"PRAGMA synchronous={'OFF' if self._tmp else 'FULL'}")
        self._connection.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed on normal exit and rolled back on an exception."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def _rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._connection.execute(sql, parameters))

    # -- models ------------------------------------------------------------------------------
    def known_models(self) -> dict[str, int]:
        """Models ALM has seen, with their creation time."""
        return {row[0]: row[1] for row in self._rows("SELECT model_id, created_ms FROM models")}

    def forget_model(self, model_id: str) -> None:
        """Drop a model's ALM state: revisions made in it, where anything was applied to it."""
        with self.transaction() as db:
            db.execute("DELETE FROM models WHERE model_id = ?", (model_id,))
            db.execute("DELETE FROM applied WHERE model_id = ?", (model_id,))
            db.execute("DELETE FROM tasks WHERE model_id = ?", (model_id,))
            db.execute("DELETE FROM reports WHERE model_id = ?", (model_id,))
            db.execute(
                "DELETE FROM applied WHERE revision_id IN "
                "(SELECT id FROM revisions WHERE model_id = ?)",
                (model_id,),
            )
            db.execute("DELETE FROM revisions WHERE model_id = ?", (model_id,))

    @staticmethod
    def remember_model(db: sqlite3.Connection, model_id: str, created_ms: int) -> None:
        """Note a model as seen (inside a transaction)."""
        db.execute(
            "INSERT OR REPLACE INTO models(model_id, created_ms) VALUES (?, ?)",
            (model_id, created_ms),
        )

    # -- revisions ---------------------------------------------------------------------------
    @staticmethod
    def add_revision(db: sqlite3.Connection, revision: RevisionRecord) -> None:
        """Store a revision (inside a transaction)."""
        db.execute(
            "INSERT INTO revisions(id, model_id, name, description, created_ms, created_by, "
            "creation_method, parent_id, structure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                revision.id,
                revision.model_id,
                revision.name,
                revision.description,
                revision.created_ms,
                revision.created_by,
                revision.creation_method,
                revision.parent_id,
                revision.structure.model_dump_json(),
            ),
        )

    @staticmethod
    def add_applied(db: sqlite3.Connection, applied: AppliedRecord) -> None:
        """Record a revision becoming a model's current one (inside a transaction)."""
        db.execute(
            "INSERT INTO applied(revision_id, model_id, applied_ms, applied_by, method) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                applied.revision_id,
                applied.model_id,
                applied.applied_ms,
                applied.applied_by,
                applied.method,
            ),
        )

    def revision(self, revision_id: str) -> RevisionRecord | None:
        """One revision, or None."""
        rows = self._rows(f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE id = ?", revision_id)
        return _revision(rows[0]) if rows else None

    def parents(self) -> dict[str, str | None]:
        """Every revision's parent."""
        return {row[0]: row[1] for row in self._rows("SELECT id, parent_id FROM revisions")}

    def applied_to_model(self, model_id: str) -> list[tuple[RevisionRecord, AppliedRecord]]:
        """The revisions applied to a model, oldest first (a revision applied twice: last time)."""
        rows = self._rows(
            f"SELECT {_REVISION_COLUMNS_JOINED}, a.revision_id, a.model_id, a.applied_ms, "
            "a.applied_by, a.method FROM applied a JOIN revisions r ON r.id = a.revision_id "
            "WHERE a.model_id = ? ORDER BY a.seq",
            model_id,
        )
        latest: dict[str, tuple[RevisionRecord, AppliedRecord]] = {}
        for row in rows:
            revision = _revision(row[:9])
            latest.pop(revision.id, None)
            latest[revision.id] = (revision, AppliedRecord(*row[9:]))
        return list(latest.values())

    def latest_of(self, model_id: str) -> tuple[RevisionRecord, AppliedRecord] | None:
        """A model's latest revision and when it was applied, or None."""
        applied = self.applied_to_model(model_id)
        return applied[-1] if applied else None

    def applications_of(self, revision_id: str) -> list[AppliedRecord]:
        """Every model a revision was applied to, in order."""
        return [
            AppliedRecord(*row)
            for row in self._rows(
                "SELECT revision_id, model_id, applied_ms, applied_by, method FROM applied "
                "WHERE revision_id = ? ORDER BY seq",
                revision_id,
            )
        ]

    # -- tasks -------------------------------------------------------------------------------
    def add_task(self, task: AlmTaskRecord) -> None:
        """Persist a new task."""
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO tasks({_TASK_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _task_values(task),
            )

    @staticmethod
    def finish_task(
        db: sqlite3.Connection,
        task_id: str,
        *,
        current_step: str,
        result: dict[str, Any],
        finished_ms: int,
    ) -> None:
        """Mark a task COMPLETE with its result (inside a transaction)."""
        db.execute(
            "UPDATE tasks SET state = 'COMPLETE', current_step = ?, result = ?, finished_ms = ? "
            "WHERE id = ?",
            (current_step, json.dumps(result), finished_ms, task_id),
        )

    def count_poll(self, task_id: str) -> None:
        """One more status read of a task."""
        with self.transaction() as db:
            db.execute("UPDATE tasks SET polls = polls + 1 WHERE id = ?", (task_id,))

    def task(self, task_id: str) -> AlmTaskRecord | None:
        """One task, or None."""
        rows = self._rows(f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = ?", task_id)
        return _task(rows[0]) if rows else None

    def tasks(self, model_id: str, kind: TaskKind) -> list[AlmTaskRecord]:
        """A model's tasks of one kind, newest first."""
        return [
            _task(row)
            for row in self._rows(
                f"SELECT {_TASK_COLUMNS} FROM tasks WHERE model_id = ? AND kind = ? "
                "ORDER BY seq DESC",
                model_id,
                kind,
            )
        ]

    def unfinished_tasks(self) -> list[AlmTaskRecord]:
        """Tasks not yet COMPLETE, oldest first."""
        return [
            _task(row)
            for row in self._rows(
                f"SELECT {_TASK_COLUMNS} FROM tasks WHERE state != 'COMPLETE' ORDER BY seq"
            )
        ]

    # -- reports -----------------------------------------------------------------------------
    @staticmethod
    def save_report(
        db: sqlite3.Connection,
        model_id: str,
        kind: ReportKind,
        target_revision_id: str,
        source_revision_id: str,
        created_ms: int,
        content: bytes,
    ) -> None:
        """Keep a generated report, replacing an earlier one (inside a transaction)."""
        db.execute(
            "INSERT OR REPLACE INTO reports(model_id, kind, target_revision_id, "
            "source_revision_id, created_ms, content) VALUES (?, ?, ?, ?, ?, ?)",
            (model_id, kind, target_revision_id, source_revision_id, created_ms, content),
        )

    def report(
        self, model_id: str, kind: ReportKind, target_revision_id: str, source_revision_id: str
    ) -> tuple[int, bytes] | None:
        """A report's creation time and content, or None."""
        rows = self._rows(
            "SELECT created_ms, content FROM reports WHERE model_id = ? AND kind = ? AND "
            "target_revision_id = ? AND source_revision_id = ?",
            model_id,
            kind,
            target_revision_id,
            source_revision_id,
        )
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def touch_report(
        self,
        model_id: str,
        kind: ReportKind,
        target_revision_id: str,
        source_revision_id: str,
        now_ms: int,
    ) -> None:
        """Note an access: a report is kept 48 hours after its last access."""
        with self.transaction() as db:
            db.execute(
                "UPDATE reports SET created_ms = ? WHERE model_id = ? AND kind = ? AND "
                "target_revision_id = ? AND source_revision_id = ?",
                (now_ms, model_id, kind, target_revision_id, source_revision_id),
            )

    # -- lifecycle ---------------------------------------------------------------------------
    def wipe(self) -> None:
        """Forget everything."""
        with self.transaction() as db:
            for table in ("models", "revisions", "applied", "tasks", "reports"):
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Close the database (and delete an ephemeral one)."""
        with self._lock:
            self._connection.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


_REVISION_COLUMNS_JOINED = (
    "r.id, r.model_id, r.name, r.description, r.created_ms, r.created_by, r.creation_method, "
    "r.parent_id, r.structure"
)
_REVISION_COLUMNS = _REVISION_COLUMNS_JOINED.replace("r.", "")
_TASK_COLUMNS = (
    "id, kind, model_id, user_id, created_ms, state, current_step, polls, source_model_id, "
    "source_revision_id, target_revision_id, result, finished_ms"
)


def _revision(row: tuple[Any, ...]) -> RevisionRecord:
    return RevisionRecord(
        id=row[0],
        model_id=row[1],
        name=row[2],
        description=row[3],
        created_ms=row[4],
        created_by=row[5],
        creation_method=row[6],
        parent_id=row[7],
        structure=ModelDef.model_validate_json(row[8]),
    )


def _task(row: tuple[Any, ...]) -> AlmTaskRecord:
    return AlmTaskRecord(
        id=row[0],
        kind=row[1],
        model_id=row[2],
        user_id=row[3],
        created_ms=row[4],
        state=row[5],
        current_step=row[6],
        polls=row[7],
        source_model_id=row[8],
        source_revision_id=row[9],
        target_revision_id=row[10],
        result=json.loads(row[11]) if row[11] is not None else None,
        finished_ms=row[12],
    )


def _task_values(task: AlmTaskRecord) -> tuple[Any, ...]:
    return (
        task.id,
        task.kind,
        task.model_id,
        task.user_id,
        task.created_ms,
        task.state,
        task.current_step,
        task.polls,
        task.source_model_id,
        task.source_revision_id,
        task.target_revision_id,
        json.dumps(task.result) if task.result is not None else None,
        task.finished_ms,
    )
