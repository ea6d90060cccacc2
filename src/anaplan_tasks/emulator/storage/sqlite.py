"""The SQLite store: one `meta.sqlite` for people, structure, files and tasks, and one database per
model (`models/<model id>.sqlite`) for its data, dumps and task outcomes.

Why two kinds of database: SQLite has one writer per database. A long import holds its model's
write transaction for its whole run (so a cancel or a crash rolls it back); keeping chunk uploads
and task creation in another database means they are never blocked by it, and imports into
different models run in parallel.

Why the outcome lives in the model database: a task's data and its final state must commit
together. The model database's `outcomes` table is that final state; `meta.sqlite` copies it right
after. On restart, a task still `IN_PROGRESS` in `meta.sqlite` whose outcome committed is finished
from the outcome; one without an outcome applied nothing (SQLite rolled it back).

Every list item has an index, its number within the list (`item_index`, kept by triggers on
`items` whatever writes them: imports, initial items, the transactional API). The index never
repeats within a list until `reset_index`; the emulator derives Anaplan's numeric item ids from it.

Every database runs in WAL mode with `synchronous=FULL`: a method that acknowledges a write has
committed it to disk before it returns. The ephemeral mode (`memory=True`) keeps the same code
path in a temporary directory with `synchronous=OFF` (and no fsync of chunk files), deleted on
`close()`.

File content lives in chunk files beside the databases (`chunks/<random name>.chunk`), not in
SQLite: a 200 MB upload is written once, not copied through the WAL and checkpointed again. A
chunk's row in `meta.sqlite` (`chunks.path`) is what makes it visible, and it commits only after
its file was written under a temporary name, fsynced, renamed and the directory fsynced; so a
chunk file that a crash left without a row is never seen, and is removed when the store opens
(with any half-written temporary file). A file is never rewritten: a replaced or deleted chunk's
file is unlinked once no file snapshot that could still read it is open (see `_ChunkFiles`).
Rows written before chunk files existed keep their bytes in `chunks.data` and are read from there.
The ephemeral store keeps chunk bytes in memory instead of files (the rows stay in SQLite).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from ..definitions import ModelDef
from .protocol import EncodedRows
from .records import (
    OBJECT_ID_PREFIX,
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

_BUSY_TIMEOUT_MS = 120_000
KEY_SEPARATOR = "\x1f"
"""Joins the dimension item codes of a module cell row into one key."""

_META_SCHEMA = """
CREATE TABLE IF NOT EXISTS users(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, email TEXT UNIQUE NOT NULL,
    password TEXT, first_name TEXT NOT NULL, last_name TEXT NOT NULL, customer_id TEXT NOT NULL,
    certificate_pem TEXT);
CREATE TABLE IF NOT EXISTS workspaces(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grants(
    workspace_id TEXT NOT NULL, user_id TEXT NOT NULL, admin INTEGER NOT NULL,
    PRIMARY KEY(workspace_id, user_id));
CREATE TABLE IF NOT EXISTS models(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, workspace_id TEXT NOT NULL,
    name TEXT NOT NULL, created_ms INTEGER NOT NULL, state TEXT NOT NULL, origin TEXT);
CREATE TABLE IF NOT EXISTS structures(
    model_id TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY(model_id, version));
CREATE TABLE IF NOT EXISTS object_ids(
    model_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY(model_id, kind, name));
CREATE TABLE IF NOT EXISTS uploads(
    model_id TEXT NOT NULL, file_id TEXT NOT NULL, user_id TEXT NOT NULL,
    declared INTEGER NOT NULL, completed INTEGER NOT NULL,
    PRIMARY KEY(model_id, file_id, user_id));
CREATE TABLE IF NOT EXISTS chunks(
    model_id TEXT NOT NULL, file_id TEXT NOT NULL, user_id TEXT NOT NULL, idx INTEGER NOT NULL,
    data BLOB NOT NULL, path TEXT, size INTEGER, PRIMARY KEY(model_id, file_id, user_id, idx));
CREATE TABLE IF NOT EXISTS tasks(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, model_id TEXT NOT NULL,
    kind TEXT NOT NULL, action_id TEXT NOT NULL, user_id TEXT NOT NULL, user_email TEXT NOT NULL,
    created_ms INTEGER NOT NULL, state TEXT NOT NULL, locale TEXT NOT NULL,
    mapping TEXT NOT NULL, idempotency_key TEXT, progress REAL NOT NULL, current_step TEXT,
    result TEXT, cancelled_by TEXT, started_ms INTEGER, finished_ms INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_idempotency
    ON tasks(model_id, action_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_by_action ON tasks(model_id, action_id, seq);
CREATE INDEX IF NOT EXISTS tasks_by_state ON tasks(state, seq);
"""

_MODEL_SCHEMA = """
CREATE TABLE IF NOT EXISTS items(
    list TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, parent TEXT,
    props TEXT NOT NULL DEFAULT '{}', UNIQUE(list, code));
CREATE TABLE IF NOT EXISTS cells(
    module TEXT NOT NULL, key TEXT NOT NULL, vals TEXT NOT NULL DEFAULT '{}', UNIQUE(module, key));
CREATE TABLE IF NOT EXISTS item_index(
    list TEXT NOT NULL, code TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(list, code));
CREATE TABLE IF NOT EXISTS list_counters(list TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS items_indexed AFTER INSERT ON items BEGIN
    INSERT OR IGNORE INTO list_counters(list, last) VALUES(new.list, 0);
    UPDATE list_counters SET last = last + 1 WHERE list = new.list;
    INSERT OR REPLACE INTO item_index(list, code, idx)
        VALUES(new.list, new.code, (SELECT last FROM list_counters WHERE list = new.list));
END;
CREATE TRIGGER IF NOT EXISTS items_unindexed AFTER DELETE ON items BEGIN
    DELETE FROM item_index WHERE list = old.list AND code = old.code;
END;
CREATE TRIGGER IF NOT EXISTS items_recoded AFTER UPDATE OF code ON items BEGIN
    UPDATE item_index SET code = new.code WHERE list = old.list AND code = old.code;
END;
CREATE TABLE IF NOT EXISTS outcomes(
    task_id TEXT PRIMARY KEY, state TEXT NOT NULL, progress REAL NOT NULL, current_step TEXT,
    result TEXT, cancelled_by TEXT, started_ms INTEGER, finished_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dumps(
    task_id TEXT NOT NULL, object_id TEXT NOT NULL, user_id TEXT NOT NULL,
    import_id TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY(task_id, object_id, idx));
CREATE INDEX IF NOT EXISTS dumps_by_owner ON dumps(user_id, import_id);
"""

_TASK_COLUMNS = (
    "id, model_id, kind, action_id, user_id, user_email, created_ms, state, locale, mapping, "
    "idempotency_key, progress, current_step, result, cancelled_by, started_ms, finished_ms"
)


def _json_path(name: str) -> str:
    return '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field(number: int) -> str:
    """Field `number` (1-based) of the row `json_each` is at: an SQL value, as a bound one is."""
    return f"json_extract(value, '$[{number - 1}]')"


def _json_object_sql(names: Sequence[tuple[str, str]], first: int) -> tuple[str, int]:
    """`json_object('a', <field n>, 'b', json(<field n+1>), …)` and the next field number."""
    if not names:
        return "'{}'", first
    parts = []
    for offset, (name, kind) in enumerate(names):
        field = _field(first + offset)
        value = f"json({field})" if kind == "boolean" else field
        parts.append(f"{_sql_string(name)}, {value}")
    return f"json_object({', '.join(parts)})", first + len(names)


_BULK_ROWS = 8192
"""Rows per statement of a bulk write (one JSON array each)."""


def _encode_rows(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Rows as the JSON arrays `_execute_in_batches` takes, `_BULK_ROWS` per array."""
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, _BULK_ROWS)):
        yield json.dumps(batch, allow_nan=False)


def _execute_in_batches(
    connection: sqlite3.Connection,
    sql: str,
    rows: Iterable[Sequence[Any]] | EncodedRows,
    guard: threading.Lock,
) -> None:
    """Run `sql`, an INSERT … SELECT … FROM json_each(?1), once per batch of `rows`.

    One statement per batch instead of one per row: SQLite reads the batch's JSON and writes
    its rows in one step, without the GIL, so the thread producing the next rows (the import's
    CSV parser, which encodes them too when it passes `EncodedRows`) runs meanwhile. Each
    statement holds `guard`, which that thread takes to read through the same connection (an
    `ItemLookup` reading names).
    """
    batches = rows.batches if isinstance(rows, EncodedRows) else _encode_rows(rows)
    for text in batches:
        with guard:
            connection.execute(sql, (text,))


class _ItemLookup(dict[str, str]):
    """A list's items by code (`code → code`, read at once) and by name (read on the first text
    that is not a code): most files name items by code, and a million names cost a second."""

    def __init__(self, codes: list[str], read_names: Callable[[], dict[str, str]]):
        super().__init__(zip(codes, codes, strict=True))
        self._read_names = read_names
        self._names: dict[str, str] | None = None
        self._loading = threading.Lock()

    def _by_name(self) -> dict[str, str]:
        with self._loading:
            if self._names is None:
                self._names = self._read_names()
            return self._names

    def __missing__(self, text: str) -> str:
        return self._by_name()[text]

    def __contains__(self, text: object) -> bool:
        return dict.__contains__(self, text) or text in self._by_name()

    def get(self, text: str, default: str | None = None, /) -> str | None:  # type: ignore[override]
        """The code of the item whose code or name is `text`, else `default`."""
        try:
            return self[text]
        except KeyError:
            return default


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Connections:
    """One connection per thread to one database file, all closed together."""

    def __init__(self, path: Path, schema: str, synchronous: str):
        self._path = path
        self._schema = schema
        self._synchronous = synchronous
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._closed = False
        with self._lock:
            connection = self._open()
            connection.executescript(self._schema)

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, timeout=120
        )
        connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self._synchronous}")
        self._all.append(connection)
        self._local.connection = connection
        return connection

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def get(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            with self._lock:
                if self._closed:
                    raise sqlite3.ProgrammingError("the store is closed")
                connection = self._open()
        return connection

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A short immediate write transaction on this thread's connection."""
        connection = self.get()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for connection in self._all:
                connection.close()
            self._all.clear()


class _SqliteReader:
    def __init__(self, get: Any, guard: AbstractContextManager[object] | None = None):
        self._get = get
        # Held around a read that another thread may make through a connection shared with
        # the writer (a transaction's); readers with a connection per thread need none.
        self._guard = guard if guard is not None else nullcontext()

    def item_keys(self, list_name: str) -> dict[str, str]:
        rows = self._get().execute(
            "SELECT code, name FROM items WHERE list=? ORDER BY rowid", (list_name,)
        )
        return dict(rows)

    def item_lookup(self, list_name: str) -> _ItemLookup:
        with self._guard:
            (codes,) = (
                self._get()
                .execute("SELECT json_group_array(code) FROM items WHERE list=?", (list_name,))
                .fetchone()
            )

        def read_names() -> dict[str, str]:
            # Codes are looked up first, so where a name is another item's code, the code wins.
            # In the thread that asks (a reader's connection is per thread; a transaction's is
            # shared, under its guard).
            with self._guard:
                rows = self._get().execute(
                    "SELECT name, code FROM items WHERE list=? ORDER BY rowid", (list_name,)
                )
                return dict(rows)

        return _ItemLookup(json.loads(codes), read_names)

    def items(self, list_name: str) -> Iterator[tuple[str, str, str | None, dict[str, Any]]]:
        cursor = self._get().execute(
            "SELECT code, name, parent, props FROM items WHERE list=? ORDER BY rowid",
            (list_name,),
        )
        for code, name, parent, props in cursor:
            yield code, name, parent, json.loads(props)

    def cells(self, module: str) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        cursor = self._get().execute(
            "SELECT key, vals FROM cells WHERE module=? ORDER BY rowid", (module,)
        )
        for key, vals in cursor:
            yield tuple(key.split(KEY_SEPARATOR)), json.loads(vals)

    def cell_count(self, module: str) -> int:
        (count,) = (
            self._get().execute("SELECT count(*) FROM cells WHERE module=?", (module,)).fetchone()
        )
        return int(count)

    def items_where(self, list_name: str, prop: str, value: bool) -> list[str]:
        rows = self._get().execute(
            "SELECT code FROM items WHERE list=? AND json_extract(props, ?) = ? ORDER BY rowid",
            (list_name, _json_path(prop), 1 if value else 0),
        )
        return [code for (code,) in rows]

    def cells_where(self, module: str, line_item: str, value: bool) -> list[tuple[str, ...]]:
        rows = self._get().execute(
            "SELECT key FROM cells WHERE module=? AND json_extract(vals, ?) = ? ORDER BY rowid",
            (module, _json_path(line_item), 1 if value else 0),
        )
        return [tuple(key.split(KEY_SEPARATOR)) for (key,) in rows]

    def indexed_items(
        self, list_name: str
    ) -> Iterator[tuple[int, str, str, str | None, dict[str, Any]]]:
        cursor = self._get().execute(
            "SELECT coalesce(x.idx, 0), i.code, i.name, i.parent, i.props FROM items i "
            "LEFT JOIN item_index x ON x.list = i.list AND x.code = i.code "
            "WHERE i.list=? ORDER BY i.rowid",
            (list_name,),
        )
        for index, code, name, parent, props in cursor:
            yield int(index), code, name, parent, json.loads(props)

    def last_index(self, list_name: str) -> int:
        row = (
            self._get()
            .execute("SELECT last FROM list_counters WHERE list=?", (list_name,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def cell_rows(
        self, module: str, prefix: Sequence[str] = ()
    ) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        if not prefix:
            yield from self.cells(module)
            return
        start = KEY_SEPARATOR.join(prefix) + KEY_SEPARATOR
        cursor = self._get().execute(
            "SELECT key, vals FROM cells WHERE module=? AND key >= ? AND key < ? ORDER BY rowid",
            (module, start, start[:-1] + chr(0x20)),
        )
        for key, vals in cursor:
            yield tuple(key.split(KEY_SEPARATOR)), json.loads(vals)

    def cells_at(
        self, module: str, keys: Sequence[tuple[str, ...]]
    ) -> dict[tuple[str, ...], dict[str, Any]]:
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        connection = self._get()
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            part = [KEY_SEPARATOR.join(key) for key in keys[start : start + _KEYS_PER_QUERY]]
            marks = ",".join("?" * len(part))
            rows = connection.execute(
                f"SELECT key, vals FROM cells WHERE module=? AND key IN ({marks})",
                (module, *part),
            )
            for key, vals in rows:
                found[tuple(key.split(KEY_SEPARATOR))] = json.loads(vals)
        return found


_KEYS_PER_QUERY = 500
"""Keys one `cells_at` query looks up (SQLite allows 32,766 parameters; 500 keeps each small)."""


class _SqliteTransaction(_SqliteReader):
    def __init__(self, connection: sqlite3.Connection):
        self._lock = threading.Lock()
        super().__init__(lambda: connection, self._lock)
        self._connection = connection

    def encode_rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[str]:
        return _encode_rows(rows)

    def upsert_items(
        self,
        list_name: str,
        *,
        with_name: bool,
        with_parent: bool,
        properties: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]] | EncodedRows,
    ) -> None:
        # Fields of each row, numbered: 1 code, then name, parent and properties as mapped. A
        # new item without a mapped name takes its code as its name.
        number = 2
        name_sql = _field(1)
        if with_name:
            name_sql, number = _field(number), number + 1
        parent_sql = "NULL"
        if with_parent:
            parent_sql, number = _field(number), number + 1
        props_sql, number = _json_object_sql(properties, number)
        updates = ["props = json_patch(props, excluded.props)"]
        if with_name:
            updates.append("name = excluded.name")
        if with_parent:
            updates.append("parent = excluded.parent")
        sql = (
            f"INSERT INTO items(list, code, name, parent, props) "
            f"SELECT {_sql_string(list_name)}, {_field(1)}, {name_sql}, {parent_sql}, "
            f"json_patch('{{}}', {props_sql}) FROM json_each(?1) WHERE true "
            f"ON CONFLICT(list, code) DO UPDATE SET {', '.join(updates)}"
        )
        _execute_in_batches(self._connection, sql, rows, self._lock)

    def write_cells(
        self,
        module: str,
        *,
        line_items: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]] | EncodedRows,
    ) -> None:
        vals_sql, _ = _json_object_sql(line_items, 2)
        sql = (
            f"INSERT INTO cells(module, key, vals) "
            f"SELECT {_sql_string(module)}, {_field(1)}, json_patch('{{}}', {vals_sql}) "
            "FROM json_each(?1) WHERE true "
            "ON CONFLICT(module, key) DO UPDATE SET vals = json_patch(vals, excluded.vals)"
        )
        _execute_in_batches(self._connection, sql, rows, self._lock)

    def delete_items(
        self, list_name: str, codes: Sequence[str], modules: Sequence[tuple[str, int]]
    ) -> int:
        if not codes:
            return 0
        connection = self._connection
        connection.execute("CREATE TEMP TABLE IF NOT EXISTS doomed(code TEXT PRIMARY KEY)")
        connection.execute("DELETE FROM doomed")
        connection.executemany("INSERT OR IGNORE INTO doomed VALUES(?)", ((c,) for c in codes))
        deleted = connection.execute(
            "DELETE FROM items WHERE list=? AND code IN (SELECT code FROM doomed)", (list_name,)
        ).rowcount
        doomed = set(codes)
        for module, position in modules:
            keys = [
                key
                for (key,) in connection.execute("SELECT key FROM cells WHERE module=?", (module,))
                if _code_at(key, position) in doomed
            ]
            connection.executemany(
                "DELETE FROM cells WHERE module=? AND key=?", ((module, key) for key in keys)
            )
        connection.execute("DELETE FROM doomed")
        return deleted

    def recode_item(
        self, list_name: str, code: str, new_code: str, modules: Sequence[tuple[str, int]]
    ) -> None:
        connection = self._connection
        connection.execute(
            "UPDATE items SET code=? WHERE list=? AND code=?", (new_code, list_name, code)
        )
        for module, position in modules:
            moved = [
                (key, _with_code_at(key, position, new_code))
                for (key,) in connection.execute("SELECT key FROM cells WHERE module=?", (module,))
                if _code_at(key, position) == code
            ]
            connection.executemany(
                "UPDATE cells SET key=? WHERE module=? AND key=?",
                ((new_key, module, key) for key, new_key in moved),
            )

    def reset_index(self, list_name: str) -> None:
        self._connection.execute("UPDATE list_counters SET last=0 WHERE list=?", (list_name,))

    def save_dump(self, dump: DumpRecord, import_id: str) -> None:
        self.drop_dumps(dump.user_id, import_id)
        self._connection.executemany(
            "INSERT INTO dumps(task_id, object_id, user_id, import_id, idx, data) "
            "VALUES(?, ?, ?, ?, ?, ?)",
            (
                (dump.task_id, dump.object_id, dump.user_id, import_id, index, data)
                for index, data in enumerate(dump.chunks)
            ),
        )

    def drop_dumps(self, user_id: str, import_id: str) -> None:
        self._connection.execute(
            "DELETE FROM dumps WHERE user_id=? AND import_id=?", (user_id, import_id)
        )

    def record_outcome(self, outcome: TaskOutcome) -> None:
        self._connection.execute(
            "INSERT OR REPLACE INTO outcomes(task_id, state, progress, current_step, result, "
            "cancelled_by, started_ms, finished_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.task_id,
                outcome.state,
                outcome.progress,
                outcome.current_step,
                outcome.result_json,
                outcome.cancelled_by,
                outcome.started_ms,
                outcome.finished_ms,
            ),
        )


def _code_at(key: str, position: int) -> str | None:
    codes = key.split(KEY_SEPARATOR)
    return codes[position] if position < len(codes) else None


def _with_code_at(key: str, position: int, code: str) -> str:
    codes = key.split(KEY_SEPARATOR)
    codes[position] = code
    return KEY_SEPARATOR.join(codes)


class SqliteModelData(_SqliteReader):
    """One model's data in its own database file."""

    def __init__(self, path: Path, synchronous: str):
        self._connections = _Connections(path, _MODEL_SCHEMA, synchronous)
        super().__init__(self._connections.get)
        self._index_unindexed_items()

    def _index_unindexed_items(self) -> None:
        # A database written before items had indexes: number its items once, in list order.
        with self._connections.write() as connection:
            missing = connection.execute(
                "SELECT i.list, i.code FROM items i LEFT JOIN item_index x "
                "ON x.list = i.list AND x.code = i.code WHERE x.idx IS NULL ORDER BY i.rowid"
            ).fetchall()
            for list_name, code in missing:
                connection.execute(
                    "INSERT OR IGNORE INTO list_counters(list, last) VALUES(?, 0)", (list_name,)
                )
                connection.execute(
                    "UPDATE list_counters SET last = last + 1 WHERE list=?", (list_name,)
                )
                connection.execute(
                    "INSERT INTO item_index(list, code, idx) "
                    "SELECT ?, ?, last FROM list_counters WHERE list=?",
                    (list_name, code, list_name),
                )

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        """One write transaction; commits on normal exit, rolls back on an exception."""
        with self._connections.write() as connection:
            yield _SqliteTransaction(connection)

    def add_initial_items(self, list_name: str, items: Sequence[dict[str, Any]]) -> None:
        """Load a definition's initial items (once, when the model is created)."""
        with self._connections.write() as connection:
            for item in items:
                code = str(item.get("code", item.get("name", "")))
                name = str(item.get("name", code))
                parent = item.get("parent")
                props = {k: v for k, v in item.items() if k not in ("code", "name", "parent")}
                connection.execute(
                    "INSERT INTO items(list, code, name, parent, props) VALUES(?, ?, ?, ?, ?) "
                    "ON CONFLICT(list, code) DO UPDATE SET name=excluded.name, "
                    "parent=excluded.parent, props=excluded.props",
                    (list_name, code, name, parent, json.dumps(props)),
                )

    def outcome(self, task_id: str) -> TaskOutcome | None:
        """The committed outcome of a task, if its transaction committed."""
        row = (
            self._connections.get()
            .execute(
                "SELECT task_id, state, progress, current_step, result, cancelled_by, "
                "finished_ms, started_ms FROM outcomes WHERE task_id=?",
                (task_id,),
            )
            .fetchone()
        )
        return TaskOutcome(*row) if row else None

    def dump_chunks(self, task_id: str, object_id: str) -> list[bytes] | None:
        """The chunks of a kept dump, or None when there is none (or it was replaced)."""
        rows = (
            self._connections.get()
            .execute(
                "SELECT data FROM dumps WHERE task_id=? AND object_id=? ORDER BY idx",
                (task_id, object_id),
            )
            .fetchall()
        )
        return [bytes(data) for (data,) in rows] if rows else None

    @contextmanager
    def snapshot(self) -> Iterator[_SqliteReader]:
        """Reads of the data as of now: a read transaction on a connection of its own.

        WAL mode keeps a reader on the database as of its first read while writers commit; the
        WAL cannot be checkpointed past it, so hold a snapshot only as long as the read needs.
        """
        connection = sqlite3.connect(
            self._connections.path, isolation_level=None, check_same_thread=False, timeout=120
        )
        try:
            connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            connection.execute("BEGIN")
            connection.execute("SELECT count(*) FROM cells").fetchone()  # the snapshot starts
            yield _SqliteReader(lambda: connection)
        finally:
            connection.close()

    def close(self) -> None:
        """Close every connection."""
        self._connections.close()


_CHUNK_SUFFIX = ".chunk"
_TEMP_SUFFIX = ".tmp"


class _ChunkFiles:
    """The directory of chunk files: written once under a fresh name, unlinked when unreachable.

    A chunk file is reachable from the row that names it and from every file snapshot opened
    before that row was replaced or deleted. `retire` unlinks at once the files no open snapshot
    can reach, and keeps the others until the last snapshot that could read them closes.
    Snapshots are registered (`opened`) under the store's lock before their read transaction
    starts, and `retire` runs under the same lock after the commit that unlinked the rows, so a
    snapshot either counts or already sees the new rows.
    """

    def __init__(self, directory: Path, durable: bool):
        self.directory = directory
        self._durable = durable
        self._open: set[object] = set()
        self._waiting: list[tuple[set[object], list[str]]] = []
        self._memory: dict[str, bytes] | None = None if durable else {}
        """An ephemeral store keeps chunk bytes in memory: nothing of them outlives the process."""

    def write(self, data: bytes) -> str:
        """Write a new chunk file durably (an ephemeral store: keep the bytes); returns its name."""
        name = secrets.token_hex(16) + _CHUNK_SUFFIX
        if self._memory is not None:
            self._memory[name] = data
            return name
        temporary = self.directory / (name + _TEMP_SUFFIX)
        with temporary.open("wb") as handle:
            handle.write(data)
            if self._durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.rename(temporary, self.directory / name)
        if self._durable:
            descriptor = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return name

    def read(self, name: str) -> bytes | None:
        """A chunk file's bytes, or None when it is gone."""
        if self._memory is not None:
            return self._memory.get(name)
        try:
            with (self.directory / name).open("rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def discard(self, name: str) -> None:
        """Unlink a file no row ever named (its commit failed)."""
        self._unlink([name])

    def opened(self, snapshot: object) -> None:
        """A snapshot is about to start (call under the store's lock)."""
        self._open.add(snapshot)

    def closed(self, snapshot: object) -> None:
        """A snapshot ended: unlink what only it (and other closed ones) could still read."""
        self._open.discard(snapshot)
        still: list[tuple[set[object], list[str]]] = []
        for readers, names in self._waiting:
            readers.discard(snapshot)
            if readers:
                still.append((readers, names))
            else:
                self._unlink(names)
        self._waiting = still

    def retire(self, names: Sequence[str | None]) -> None:
        """Files whose rows were just deleted (call under the store's lock, after the commit)."""
        files = [name for name in names if name]
        if not files:
            return
        if self._open:
            self._waiting.append((set(self._open), files))
        else:
            self._unlink(files)

    def _unlink(self, names: Sequence[str]) -> None:
        for name in names:
            if self._memory is not None:
                self._memory.pop(name, None)
            else:
                (self.directory / name).unlink(missing_ok=True)

    def sweep(self, referenced: set[str]) -> None:
        """Remove temporary files and chunk files no row names (left by a crash)."""
        for path in self.directory.iterdir():
            if path.name.endswith(_TEMP_SUFFIX) or (
                path.name.endswith(_CHUNK_SUFFIX) and path.name not in referenced
            ):
                path.unlink(missing_ok=True)


def _upload_state(
    db: sqlite3.Connection, model_id: str, file_id: str, user_id: str
) -> UploadState | None:
    row = db.execute(
        "SELECT declared, completed FROM uploads WHERE model_id=? AND file_id=? AND user_id=?",
        (model_id, file_id, user_id),
    ).fetchone()
    if row is None:
        return None
    chunks = db.execute(
        "SELECT idx, coalesce(size, length(data)) FROM chunks "
        "WHERE model_id=? AND file_id=? AND user_id=? ORDER BY idx",
        (model_id, file_id, user_id),
    ).fetchall()
    return UploadState(
        declared=int(row[0]),
        chunk_indices=tuple(int(index) for index, _ in chunks),
        completed=bool(row[1]),
        total_bytes=sum(int(size) for _, size in chunks),
    )


def _chunk_row(
    db: sqlite3.Connection, model_id: str, file_id: str, user_id: str, index: int
) -> tuple[str | None, bytes] | None:
    row = db.execute(
        "SELECT path, data FROM chunks WHERE model_id=? AND file_id=? AND user_id=? AND idx=?",
        (model_id, file_id, user_id, index),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _chunk_paths(db: sqlite3.Connection, model_id: str, file_id: str, user_id: str) -> list[str]:
    rows = db.execute(
        "SELECT path FROM chunks WHERE model_id=? AND file_id=? AND user_id=? AND path IS NOT NULL",
        (model_id, file_id, user_id),
    )
    return [path for (path,) in rows]


def _insert_chunk(
    db: sqlite3.Connection,
    model_id: str,
    file_id: str,
    user_id: str,
    index: int,
    name: str,
    size: int,
) -> None:
    db.execute(
        "INSERT OR REPLACE INTO chunks(model_id, file_id, user_id, idx, data, path, size) "
        "VALUES(?, ?, ?, ?, x'', ?, ?)",
        (model_id, file_id, user_id, index, name, size),
    )


class SqliteFileSnapshot:
    """File content as of the snapshot's first read (see `SqliteStore.file_snapshot`).

    Used by one thread at a time; `close` may come from the store (reset, close) or its user.
    """

    def __init__(
        self,
        path: Path,
        files: _ChunkFiles,
        store_lock: threading.Lock,
        registry: set[SqliteFileSnapshot],
    ):
        self._files = files
        self._store_lock = store_lock
        self._registry = registry
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=120
        )
        self._connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        self._connection.execute("BEGIN")
        self._connection.execute("SELECT count(*) FROM uploads").fetchone()  # the snapshot starts

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise sqlite3.ProgrammingError("the file snapshot is closed")
        return self._connection

    def upload_state(self, model_id: str, file_id: str, user_id: str) -> UploadState | None:
        """The user's private content of a file as of the snapshot, or None."""
        return _upload_state(self._db(), model_id, file_id, user_id)

    def read_chunk(self, model_id: str, file_id: str, user_id: str, index: int) -> bytes | None:
        """One chunk's bytes as of the snapshot, or None."""
        row = _chunk_row(self._db(), model_id, file_id, user_id, index)
        if row is None:
            return None
        path, data = row
        if path is None:
            return bytes(data)
        content = self._files.read(path)  # kept for this snapshot until it closes
        if content is None:
            self._db()  # closed (reset) meanwhile: say so, as for any read after close
            raise sqlite3.ProgrammingError(f"chunk file {path} is missing")
        return content

    def close(self) -> None:
        """End the read transaction and close the connection (idempotent)."""
        self.end()
        with self._store_lock:
            self._registry.discard(self)
            self._files.closed(self)  # unlink the chunk files only this snapshot still reached

    def end(self) -> None:
        """Close the connection only (the store does this, under its lock, on reset and close)."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class SqliteStore:
    """The emulator's store on SQLite (see the module docstring for the layout and promises)."""

    def __init__(self, data_dir: Path | None = None, *, memory: bool = False):
        if memory:
            self._tmp: str | None = tempfile.mkdtemp(prefix="anaplan-emulator-")
            root = Path(self._tmp)
        elif data_dir is None:
            raise ValueError("give a data directory or memory=True")
        else:
            self._tmp = None
            root = Path(data_dir)
        self.root = root
        self.memory = memory
        self._synchronous = "OFF" if memory else "FULL"
        self._lock = threading.Lock()
        self._snapshots: set[SqliteFileSnapshot] = set()
        self._open()

    def _open(self) -> None:
        (self.root / "models").mkdir(parents=True, exist_ok=True)
        (self.root / "chunks").mkdir(exist_ok=True)
        self._meta = _Connections(self.root / "meta.sqlite", _META_SCHEMA, self._synchronous)
        self._model_data: dict[str, SqliteModelData] = {}
        self._files = _ChunkFiles(self.root / "chunks", durable=not self.memory)
        db = self._meta.get()
        columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
        for column in ("path TEXT", "size INTEGER"):  # a database from before chunk files
            if column.split()[0] not in columns:
                db.execute(f"ALTER TABLE chunks ADD COLUMN {column}")
        referenced = {
            path for (path,) in db.execute("SELECT path FROM chunks WHERE path IS NOT NULL")
        }
        self._files.sweep(referenced)

    # -- directory ---------------------------------------------------------------------------
    def add_user(self, user: UserRecord) -> None:
        """Add or replace a user (by email)."""
        with self._meta.write() as db:
            db.execute(
                "INSERT INTO users(id, email, password, first_name, last_name, customer_id, "
                "certificate_pem) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(email) DO UPDATE SET "
                "password=excluded.password, first_name=excluded.first_name, "
                "last_name=excluded.last_name, certificate_pem=excluded.certificate_pem",
                (
                    user.id,
                    user.email,
                    user.password,
                    user.first_name,
                    user.last_name,
                    user.customer_id,
                    user.certificate_pem,
                ),
            )

    def users(self) -> list[UserRecord]:
        """Every user, in the order added."""
        rows = self._meta.get().execute(
            "SELECT id, email, password, first_name, last_name, customer_id, certificate_pem "
            "FROM users ORDER BY seq"
        )
        return [UserRecord(*row) for row in rows]

    def add_workspace(self, workspace: WorkspaceRecord) -> None:
        """Add a workspace (no-op when it exists)."""
        with self._meta.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO workspaces(id, name) VALUES(?, ?)",
                (workspace.id, workspace.name),
            )

    def workspaces(self) -> list[WorkspaceRecord]:
        """Every workspace, in the order added."""
        rows = self._meta.get().execute("SELECT id, name FROM workspaces ORDER BY seq")
        return [WorkspaceRecord(*row) for row in rows]

    def grant(self, grant: GrantRecord) -> None:
        """Make a user a member (or admin) of a workspace."""
        with self._meta.write() as db:
            db.execute(
                "INSERT INTO grants(workspace_id, user_id, admin) VALUES(?, ?, ?) "
                "ON CONFLICT(workspace_id, user_id) DO UPDATE SET admin=max(admin, excluded.admin)",
                (grant.workspace_id, grant.user_id, int(grant.admin)),
            )

    def grants(self) -> list[GrantRecord]:
        """Every membership."""
        rows = self._meta.get().execute("SELECT workspace_id, user_id, admin FROM grants")
        return [GrantRecord(ws, user, bool(admin)) for ws, user, admin in rows]

    def add_model(self, model: ModelRecord, structure: ModelDef) -> bool:
        """Add a model with its first structure version; False (no change) when it exists."""
        with self._meta.write() as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO models(id, workspace_id, name, created_ms, state, origin) "
                "VALUES(?, ?, ?, ?, ?, ?)",
                (
                    model.id,
                    model.workspace_id,
                    model.name,
                    model.created_ms,
                    model.state,
                    model.origin,
                ),
            ).rowcount
            if inserted:
                db.execute(
                    "INSERT INTO structures(model_id, version, doc) VALUES(?, 1, ?)",
                    (model.id, structure.model_dump_json()),
                )
        return bool(inserted)

    def models(self) -> list[ModelRecord]:
        """Every model, in the order added."""
        rows = self._meta.get().execute(
            "SELECT id, workspace_id, name, created_ms, state, origin FROM models ORDER BY seq"
        )
        return [ModelRecord(*row) for row in rows]

    def set_model_state(self, model_id: str, state: str) -> None:
        """Change a model's state (UNLOCKED, LOCKED, ARCHIVED, OFFLINE)."""
        with self._meta.write() as db:
            db.execute("UPDATE models SET state=? WHERE id=?", (state, model_id))

    def delete_model(self, model_id: str) -> None:
        """Forget a model: its record, structure, ids, files, tasks and data."""
        with self._meta.write() as db:
            old = [
                path
                for (path,) in db.execute(
                    "SELECT path FROM chunks WHERE model_id=? AND path IS NOT NULL", (model_id,)
                )
            ]
            for table in ("structures", "object_ids", "uploads", "chunks", "tasks"):
                db.execute(f"DELETE FROM {table} WHERE model_id=?", (model_id,))
            db.execute("DELETE FROM models WHERE id=?", (model_id,))
        self._retire(old)  # its chunk files go too (once no snapshot can read them)
        with self._lock:
            data = self._model_data.pop(model_id, None)
        if data is not None:
            data.close()
        if model_id.isalnum():
            for suffix in ("", "-wal", "-shm"):
                (self.root / "models" / f"{model_id}.sqlite{suffix}").unlink(missing_ok=True)

    # -- structure ---------------------------------------------------------------------------
    def structure(self, model_id: str, version: int | None = None) -> tuple[int, ModelDef]:
        """A structure version of a model (the latest by default) and its document."""
        db = self._meta.get()
        if version is None:
            row = db.execute(
                "SELECT version, doc FROM structures WHERE model_id=? "
                "ORDER BY version DESC LIMIT 1",
                (model_id,),
            ).fetchone()
        else:
            row = db.execute(
                "SELECT version, doc FROM structures WHERE model_id=? AND version=?",
                (model_id, version),
            ).fetchone()
        if row is None:
            raise KeyError(model_id if version is None else f"{model_id} version {version}")
        return int(row[0]), ModelDef.model_validate_json(row[1])

    def save_structure(self, model_id: str, structure: ModelDef) -> int:
        """Store a new structure version; returns its number."""
        with self._meta.write() as db:
            (latest,) = db.execute(
                "SELECT coalesce(max(version), 0) FROM structures WHERE model_id=?", (model_id,)
            ).fetchone()
            version = int(latest) + 1
            db.execute(
                "INSERT INTO structures(model_id, version, doc) VALUES(?, ?, ?)",
                (model_id, version, structure.model_dump_json()),
            )
        return version

    def object_ids(self, model_id: str) -> dict[tuple[ObjectKind, str], str]:
        """Ids assigned to the model's objects, by (kind, name)."""
        rows = self._meta.get().execute(
            "SELECT kind, name, id FROM object_ids WHERE model_id=?", (model_id,)
        )
        return {(kind, name): object_id for kind, name, object_id in rows}

    def assign_object_ids(
        self, model_id: str, wanted: Sequence[tuple[ObjectKind, str]]
    ) -> dict[tuple[ObjectKind, str], str]:
        """Give each (kind, name) without an id the next id of its kind; returns all ids."""
        with self._meta.write() as db:
            existing = {
                (kind, name): object_id
                for kind, name, object_id in db.execute(
                    "SELECT kind, name, id FROM object_ids WHERE model_id=?", (model_id,)
                )
            }
            for kind, name in wanted:
                if (kind, name) in existing:
                    continue
                prefix = OBJECT_ID_PREFIX[kind]
                used = [int(oid) for (k, _), oid in existing.items() if k == kind]
                next_id = str(max(used) + 1 if used else prefix * 1_000_000_000)
                db.execute(
                    "INSERT INTO object_ids(model_id, kind, name, id) VALUES(?, ?, ?, ?)",
                    (model_id, kind, name, next_id),
                )
                existing[(kind, name)] = next_id
        return existing

    # -- files -------------------------------------------------------------------------------
    def declare_upload(self, model_id: str, file_id: str, user_id: str, chunk_count: int) -> None:
        """Start a new private upload: forget earlier content, declare the chunk count."""
        with self._meta.write() as db:
            old = _chunk_paths(db, model_id, file_id, user_id)
            db.execute(
                "DELETE FROM chunks WHERE model_id=? AND file_id=? AND user_id=?",
                (model_id, file_id, user_id),
            )
            db.execute(
                "INSERT OR REPLACE INTO uploads(model_id, file_id, user_id, declared, completed) "
                "VALUES(?, ?, ?, ?, 0)",
                (model_id, file_id, user_id, chunk_count),
            )
        self._retire(old)

    def put_chunk(self, model_id: str, file_id: str, user_id: str, index: int, data: bytes) -> None:
        """Store one chunk (replacing one of the same index): its file, then its row."""
        name = self._files.write(data)
        try:
            with self._meta.write() as db:
                db.execute(
                    "INSERT OR IGNORE INTO uploads(model_id, file_id, user_id, declared, "
                    "completed) VALUES(?, ?, ?, -1, 0)",
                    (model_id, file_id, user_id),
                )
                old = _chunk_row(db, model_id, file_id, user_id, index)
                _insert_chunk(db, model_id, file_id, user_id, index, name, len(data))
        except BaseException:
            self._files.discard(name)
            raise
        self._retire([old[0] if old else None])

    def _retire(self, paths: Sequence[str | None]) -> None:
        with self._lock:
            self._files.retire(paths)

    def complete_upload(self, model_id: str, file_id: str, user_id: str) -> UploadState:
        """Freeze an open upload's chunk count at the number of chunks received."""
        with self._meta.write() as db:
            (count,) = db.execute(
                "SELECT count(*) FROM chunks WHERE model_id=? AND file_id=? AND user_id=?",
                (model_id, file_id, user_id),
            ).fetchone()
            db.execute(
                "INSERT INTO uploads(model_id, file_id, user_id, declared, completed) "
                "VALUES(?, ?, ?, ?, 1) ON CONFLICT(model_id, file_id, user_id) DO UPDATE SET "
                "declared=CASE WHEN declared < 0 THEN excluded.declared ELSE declared END, "
                "completed=1",
                (model_id, file_id, user_id, int(count)),
            )
        state = self.upload_state(model_id, file_id, user_id)
        assert state is not None
        return state

    def upload_state(self, model_id: str, file_id: str, user_id: str) -> UploadState | None:
        """The user's private content of a file, or None."""
        return _upload_state(self._meta.get(), model_id, file_id, user_id)

    def read_chunk(self, model_id: str, file_id: str, user_id: str, index: int) -> bytes | None:
        """One chunk's bytes, or None."""
        db = self._meta.get()
        missing = None
        while True:
            row = _chunk_row(db, model_id, file_id, user_id, index)
            if row is None:
                return None
            path, data = row
            if path is None:
                return bytes(data)
            if path == missing:
                raise FileNotFoundError(f"chunk file {path} is missing")
            content = self._files.read(path)
            if content is not None:
                return content
            missing = path  # replaced and unlinked between the row and the file: read anew

    def replace_content(
        self, model_id: str, file_id: str, user_id: str, chunks: Iterable[bytes]
    ) -> int:
        """Replace the user's content with complete chunks (an export); returns the count."""
        written: list[tuple[str, int]] = []
        try:
            for data in chunks:  # files first: the transaction below stays short
                written.append((self._files.write(data), len(data)))
            with self._meta.write() as db:
                old = _chunk_paths(db, model_id, file_id, user_id)
                db.execute(
                    "DELETE FROM chunks WHERE model_id=? AND file_id=? AND user_id=?",
                    (model_id, file_id, user_id),
                )
                for index, (name, size) in enumerate(written):
                    _insert_chunk(db, model_id, file_id, user_id, index, name, size)
                db.execute(
                    "INSERT OR REPLACE INTO uploads(model_id, file_id, user_id, declared, "
                    "completed) VALUES(?, ?, ?, ?, 1)",
                    (model_id, file_id, user_id, len(written)),
                )
        except BaseException:
            for name, _ in written:
                self._files.discard(name)
            raise
        self._retire(old)
        return len(written)

    def delete_content(self, model_id: str, file_id: str, user_id: str) -> None:
        """Forget the user's private content."""
        with self._meta.write() as db:
            old = _chunk_paths(db, model_id, file_id, user_id)
            db.execute(
                "DELETE FROM chunks WHERE model_id=? AND file_id=? AND user_id=?",
                (model_id, file_id, user_id),
            )
            db.execute(
                "DELETE FROM uploads WHERE model_id=? AND file_id=? AND user_id=?",
                (model_id, file_id, user_id),
            )
        self._retire(old)

    def file_snapshot(self) -> SqliteFileSnapshot:
        """Every file's content frozen as it is now: a read transaction on its own connection.

        WAL mode gives a reader the database as of its first read for as long as its transaction
        lasts, while writers go on committing; so a snapshot costs no copy. (The WAL cannot be
        checkpointed past an open snapshot, so it grows while one is held.) Chunk files its rows
        name stay on disk until it closes, even when their rows are replaced or deleted.
        """
        with self._lock:
            snapshot = SqliteFileSnapshot(
                self.root / "meta.sqlite", self._files, self._lock, self._snapshots
            )
            self._files.opened(snapshot)
            self._snapshots.add(snapshot)
            return snapshot

    # -- tasks -------------------------------------------------------------------------------
    def create_task(self, task: TaskRecord) -> TaskRecord:
        """Persist a new task; with an idempotency key already used for the action, the first."""
        with self._meta.write() as db:
            if task.idempotency_key is not None:
                row = db.execute(
                    f"SELECT {_TASK_COLUMNS} FROM tasks WHERE model_id=? AND action_id=? "
                    "AND idempotency_key=?",
                    (task.model_id, task.action_id, task.idempotency_key),
                ).fetchone()
                if row is not None:
                    return _task_record(row)
            db.execute(
                f"INSERT INTO tasks({_TASK_COLUMNS}) "
                "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.id,
                    task.model_id,
                    task.kind,
                    task.action_id,
                    task.user_id,
                    task.user_email,
                    task.created_ms,
                    task.state,
                    task.locale,
                    task.mapping_json,
                    task.idempotency_key,
                    task.progress,
                    task.current_step,
                    task.result_json,
                    task.cancelled_by,
                    task.started_ms,
                    task.finished_ms,
                ),
            )
        return task

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
        with self._meta.write() as db:
            db.execute(
                "UPDATE tasks SET state=?, progress=?, current_step=?, "
                "result=coalesce(?, result), cancelled_by=coalesce(?, cancelled_by), "
                "started_ms=coalesce(?, started_ms), finished_ms=coalesce(?, finished_ms) "
                "WHERE id=?",
                (
                    state,
                    progress,
                    current_step,
                    result_json,
                    cancelled_by,
                    started_ms,
                    finished_ms,
                    task_id,
                ),
            )

    def task(self, task_id: str) -> TaskRecord | None:
        """One task."""
        row = (
            self._meta.get()
            .execute(f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id=?", (task_id,))
            .fetchone()
        )
        return _task_record(row) if row else None

    def tasks_of_action(self, model_id: str, action_id: str) -> list[TaskRecord]:
        """Tasks of an action, oldest first."""
        rows = self._meta.get().execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE model_id=? AND action_id=? ORDER BY seq",
            (model_id, action_id),
        )
        return [_task_record(row) for row in rows]

    def unfinished_tasks(self) -> list[TaskRecord]:
        """Tasks not COMPLETE or CANCELLED, oldest first (for recovery)."""
        rows = self._meta.get().execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks "
            "WHERE state NOT IN ('COMPLETE', 'CANCELLED') ORDER BY seq"
        )
        return [_task_record(row) for row in rows]

    def all_tasks(self) -> list[TaskRecord]:
        """Every task of every model, oldest first (for the control routes)."""
        rows = self._meta.get().execute(f"SELECT {_TASK_COLUMNS} FROM tasks ORDER BY seq")
        return [_task_record(row) for row in rows]

    # -- model data --------------------------------------------------------------------------
    def model_data(self, model_id: str) -> SqliteModelData:
        """The data of one model."""
        with self._lock:
            data = self._model_data.get(model_id)
            if data is None:
                if not model_id.isalnum():
                    raise ValueError(f"not a model id: {model_id!r}")
                data = SqliteModelData(
                    self.root / "models" / f"{model_id}.sqlite", self._synchronous
                )
                self._model_data[model_id] = data
            return data

    # -- lifecycle ---------------------------------------------------------------------------
    def integrity_problems(self) -> list[str]:
        """`PRAGMA integrity_check` of every database file; empty when all are sound."""
        problems: list[str] = []
        files = [self.root / "meta.sqlite", *sorted((self.root / "models").glob("*.sqlite"))]
        for path in files:
            connection = sqlite3.connect(path)
            try:
                rows = connection.execute("PRAGMA integrity_check").fetchall()
            finally:
                connection.close()
            problems += [f"{path.name}: {row[0]}" for row in rows if row[0] != "ok"]
        return problems

    def wipe(self) -> None:
        """Forget everything (reset)."""
        with self._lock:
            self._close_connections()
            shutil.rmtree(self.root / "models", ignore_errors=True)
            shutil.rmtree(self.root / "chunks", ignore_errors=True)
            for name in ("meta.sqlite", "meta.sqlite-wal", "meta.sqlite-shm"):
                (self.root / name).unlink(missing_ok=True)
            self._open()

    def _close_connections(self) -> None:
        for snapshot in list(self._snapshots):
            snapshot.end()
        self._snapshots.clear()
        self._meta.close()
        for data in self._model_data.values():
            data.close()
        self._model_data.clear()

    def close(self) -> None:
        """Close every connection (and delete an ephemeral store's files)."""
        with self._lock:
            self._close_connections()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)


def _task_record(row: Sequence[Any]) -> TaskRecord:
    (
        task_id,
        model_id,
        kind,
        action_id,
        user_id,
        user_email,
        created_ms,
        state,
        locale,
        mapping,
        idempotency_key,
        progress,
        current_step,
        result,
        cancelled_by,
        started_ms,
        finished_ms,
    ) = row
    return TaskRecord(
        id=task_id,
        model_id=model_id,
        kind=kind,
        action_id=action_id,
        user_id=user_id,
        user_email=user_email,
        created_ms=created_ms,
        state=state,
        locale=locale,
        mapping_json=mapping,
        idempotency_key=idempotency_key,
        progress=progress,
        current_step=current_step,
        result_json=result,
        cancelled_by=cancelled_by,
        started_ms=started_ms,
        finished_ms=finished_ms,
    )
