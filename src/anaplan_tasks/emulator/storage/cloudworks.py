"""Where the emulator keeps CloudWorks: connections, integrations, schedules, notifications,
integration flows and their runs.

One SQLite database, `cloudworks.sqlite` beside the engine's databases (the engine's store
directory, which is a temporary one for an in-memory engine), WAL mode, `synchronous=FULL`
unless ephemeral: a method that acknowledges a write has committed it before it returns.

Each resource is one row holding its JSON document (CloudWorks' resources are documents: an
integration's jobs, a schedule, a notification configuration), keyed by its id, with `owner`
naming what it belongs to (a run's integration, a schedule's integration or flow, a step run's
flow run) and `seq` keeping creation order. What the documents mean is the engine's business
(`engine/cloudworks.py`); the store only keeps them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

Table = Literal[
    "connections", "integrations", "flows", "notifications", "schedules", "runs", "flow_runs"
]
"""The kinds of CloudWorks resource, one table each."""

TABLES: tuple[Table, ...] = (
    "connections",
    "integrations",
    "flows",
    "notifications",
    "schedules",
    "runs",
    "flow_runs",
)

_SCHEMA = "\n".join(
    f"""CREATE TABLE IF NOT EXISTS {table}(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, owner TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS {table}_by_owner ON {table}(owner, seq);"""
    for table in TABLES
)


class CloudWorksStore:
    """The CloudWorks tables on SQLite (thread-safe: one connection behind a lock).

    Args:
        path: The database file.
        durable: fsync every commit (`synchronous=FULL`); False for an ephemeral emulator.
    """

    def __init__(self, path: Path, *, durable: bool = True):
        self.path = path
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=120
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        self._db.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise sqlite3.ProgrammingError("the CloudWorks store is closed")
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes that commit together (or not at all)."""
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def put(self, table: Table, doc_id: str, doc: dict[str, Any], owner: str | None = None) -> None:
        """Create or replace one document (a replaced one keeps its place in the order)."""
        text = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            self._conn().execute(
                f"INSERT INTO {table}(id, owner, doc) VALUES(?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, owner = excluded.owner",
                (doc_id, owner, text),
            )

    def get(self, table: Table, doc_id: str) -> dict[str, Any] | None:
        """One document, or None."""
        with self._lock:
            row = (
                self._conn().execute(f"SELECT doc FROM {table} WHERE id = ?", (doc_id,)).fetchone()
            )
        return None if row is None else _loads(row[0])

    def all(self, table: Table, owner: str | None = None) -> list[dict[str, Any]]:
        """Every document of a table (or of one owner), oldest first."""
        with self._lock:
            if owner is None:
                rows = self._conn().execute(f"SELECT doc FROM {table} ORDER BY seq").fetchall()
            else:
                rows = (
                    self._conn()
                    .execute(
                        f"SELECT doc FROM {table} WHERE owner = ? ORDER BY seq",
                        (owner,),
                    )
                    .fetchall()
                )
        return [_loads(text) for (text,) in rows]

    def last(self, table: Table, owner: str) -> dict[str, Any] | None:
        """The newest document of one owner (a latest run), or None."""
        with self._lock:
            row = (
                self._conn()
                .execute(
                    f"SELECT doc FROM {table} WHERE owner = ? ORDER BY seq DESC LIMIT 1",
                    (owner,),
                )
                .fetchone()
            )
        return None if row is None else _loads(row[0])

    def delete(self, table: Table, doc_id: str) -> bool:
        """Remove one document; False when there was none."""
        with self._lock:
            cursor = self._conn().execute(f"DELETE FROM {table} WHERE id = ?", (doc_id,))
        return cursor.rowcount > 0

    def delete_owned(self, table: Table, owner: str) -> None:
        """Remove every document of one owner."""
        with self._lock:
            self._conn().execute(f"DELETE FROM {table} WHERE owner = ?", (owner,))

    def count(self, table: Table) -> int:
        """How many documents a table holds."""
        with self._lock:
            row = self._conn().execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        return int(row[0])

    def wipe(self) -> None:
        """Forget everything (the emulator's reset)."""
        with self.transaction():
            for table in TABLES:
                self._conn().execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Close the database (later calls raise `sqlite3.ProgrammingError`)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value
