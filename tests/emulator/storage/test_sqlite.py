"""The SQLite store meets the store contract, on disk and ephemeral, and is durable on disk."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from anaplan_tasks.emulator.storage import SqliteStore

from .contract import MODEL, StoreContract, task


class TestSqliteStoreOnDisk(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqliteStore]:
        opened = SqliteStore(tmp_path)
        yield opened
        opened.close()


class TestSqliteStoreInMemory(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[SqliteStore]:
        opened = SqliteStore(memory=True)
        yield opened
        opened.close()


def test_acknowledged_writes_are_on_disk_when_the_method_returns(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    store.declare_upload(MODEL, "f", "u1", 1)
    store.put_chunk(MODEL, "f", "u1", 0, b"data")
    store.create_task(task("T1"))
    # A second, independent connection (another process would see the same) finds them.
    other = sqlite3.connect(tmp_path / "meta.sqlite")
    try:
        [(name,)] = other.execute("SELECT path FROM chunks").fetchall()
        assert (tmp_path / "chunks" / name).read_bytes() == b"data"
        assert other.execute("SELECT id FROM tasks").fetchall() == [("T1",)]
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()
        store.close()


def test_every_connection_commits_with_full_sync(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            synchronous = txn._connection.execute("PRAGMA synchronous").fetchone()
        assert synchronous == (2,)  # FULL
    finally:
        store.close()


def test_memory_store_leaves_nothing_behind() -> None:
    store = SqliteStore(memory=True)
    root = store.root
    store.create_task(task("T1"))
    store.close()
    assert not root.exists()


def test_a_data_directory_is_required_unless_ephemeral() -> None:
    with pytest.raises(ValueError, match="memory=True"):
        SqliteStore(None)


def _chunk_files(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "chunks").iterdir())


def test_chunk_content_is_in_files_and_survives_a_restart(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    store.declare_upload(MODEL, "f", "u1", 2)
    store.put_chunk(MODEL, "f", "u1", 0, b"first ")
    store.put_chunk(MODEL, "f", "u1", 1, b"second")
    store.replace_content(MODEL, "e", "u1", [b"exported"])
    assert len(_chunk_files(tmp_path)) == 3
    store.close()
    reopened = SqliteStore(tmp_path)
    try:
        assert [reopened.read_chunk(MODEL, "f", "u1", i) for i in (0, 1)] == [b"first ", b"second"]
        assert reopened.read_chunk(MODEL, "e", "u1", 0) == b"exported"
        state = reopened.upload_state(MODEL, "f", "u1")
        assert state is not None
        assert state.total_bytes == 12
        assert len(_chunk_files(tmp_path)) == 3
    finally:
        reopened.close()


def test_a_chunk_file_a_crash_left_unacknowledged_is_never_seen(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    store.declare_upload(MODEL, "f", "u1", 2)
    store.put_chunk(MODEL, "f", "u1", 0, b"acknowledged")
    kept = _chunk_files(tmp_path)
    # What a kill -9 leaves: a chunk file renamed but its row never committed, and a temporary
    # file half written. The store is not closed (its process died).
    store._files.write(b"chunk 1, never acknowledged")
    (tmp_path / "chunks" / "0123abcd.chunk.tmp").write_bytes(b"half")
    assert len(_chunk_files(tmp_path)) == 3
    reopened = SqliteStore(tmp_path)
    try:
        state = reopened.upload_state(MODEL, "f", "u1")
        assert state is not None
        assert state.chunk_indices == (0,)
        assert reopened.read_chunk(MODEL, "f", "u1", 1) is None
        assert reopened.read_chunk(MODEL, "f", "u1", 0) == b"acknowledged"
        assert _chunk_files(tmp_path) == kept  # the strays are gone
    finally:
        reopened.close()
        store.close()


def test_replaced_and_deleted_chunks_leave_no_files(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        store.declare_upload(MODEL, "f", "u1", 1)
        store.put_chunk(MODEL, "f", "u1", 0, b"one")
        store.put_chunk(MODEL, "f", "u1", 0, b"two")  # the same index again
        assert len(_chunk_files(tmp_path)) == 1
        assert store.read_chunk(MODEL, "f", "u1", 0) == b"two"
        store.declare_upload(MODEL, "f", "u1", 1)  # a new upload forgets the old chunks
        assert _chunk_files(tmp_path) == []
        store.replace_content(MODEL, "e", "u1", [b"a", b"b"])
        store.replace_content(MODEL, "e", "u1", [b"c"])
        assert len(_chunk_files(tmp_path)) == 1
        store.delete_content(MODEL, "e", "u1")
        assert _chunk_files(tmp_path) == []
    finally:
        store.close()


def test_a_snapshot_keeps_the_files_it_can_read_until_it_closes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        store.declare_upload(MODEL, "f", "u1", 1)
        store.put_chunk(MODEL, "f", "u1", 0, b"old")
        first = store.file_snapshot()
        store.put_chunk(MODEL, "f", "u1", 0, b"middle")
        second = store.file_snapshot()
        store.declare_upload(MODEL, "f", "u1", 1)
        store.put_chunk(MODEL, "f", "u1", 0, b"new")
        assert len(_chunk_files(tmp_path)) == 3
        first.close()
        assert len(_chunk_files(tmp_path)) == 2  # "old" went; "middle" is still readable
        assert second.read_chunk(MODEL, "f", "u1", 0) == b"middle"
        second.close()
        assert len(_chunk_files(tmp_path)) == 1
        assert store.read_chunk(MODEL, "f", "u1", 0) == b"new"
    finally:
        store.close()


def test_reset_removes_every_chunk_file(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        store.declare_upload(MODEL, "f", "u1", 1)
        store.put_chunk(MODEL, "f", "u1", 0, b"data")
        snapshot = store.file_snapshot()
        store.declare_upload(MODEL, "f", "u1", 1)  # the old file waits for the snapshot
        store.put_chunk(MODEL, "f", "u1", 0, b"more")
        assert len(_chunk_files(tmp_path)) == 2
        store.wipe()
        assert _chunk_files(tmp_path) == []
        snapshot.close()
        store.put_chunk(MODEL, "f", "u1", 0, b"after")
        assert store.read_chunk(MODEL, "f", "u1", 0) == b"after"
    finally:
        store.close()


def test_chunks_stored_as_blobs_by_an_older_version_still_read(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "meta.sqlite")
    old.executescript(
        """
        CREATE TABLE uploads(
            model_id TEXT NOT NULL, file_id TEXT NOT NULL, user_id TEXT NOT NULL,
            declared INTEGER NOT NULL, completed INTEGER NOT NULL,
            PRIMARY KEY(model_id, file_id, user_id));
        CREATE TABLE chunks(
            model_id TEXT NOT NULL, file_id TEXT NOT NULL, user_id TEXT NOT NULL,
            idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(model_id, file_id, user_id, idx));
        """
    )
    old.execute(f"INSERT INTO uploads VALUES('{MODEL}', 'f', 'u1', 2, 1)")
    old.execute(f"INSERT INTO chunks VALUES('{MODEL}', 'f', 'u1', 0, x'6f6c6420')")
    old.commit()
    old.close()
    store = SqliteStore(tmp_path)
    try:
        assert store.read_chunk(MODEL, "f", "u1", 0) == b"old "
        store.put_chunk(MODEL, "f", "u1", 1, b"new")
        state = store.upload_state(MODEL, "f", "u1")
        assert state is not None
        assert (state.chunk_indices, state.total_bytes) == ((0, 1), 7)
        snapshot = store.file_snapshot()
        assert [snapshot.read_chunk(MODEL, "f", "u1", i) for i in (0, 1)] == [b"old ", b"new"]
        snapshot.close()
    finally:
        store.close()


def test_deleting_a_model_removes_its_chunk_files(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        store.declare_upload(MODEL, "f", "u1", 1)
        store.put_chunk(MODEL, "f", "u1", 0, b"data")
        store.replace_content("OTHER", "f", "u1", [b"kept"])
        store.delete_model(MODEL)
        assert len(_chunk_files(tmp_path)) == 1
        assert store.read_chunk("OTHER", "f", "u1", 0) == b"kept"
    finally:
        store.close()
