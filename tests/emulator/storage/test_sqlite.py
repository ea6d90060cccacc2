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
        assert other.execute("SELECT data FROM chunks").fetchall() == [(b"data",)]
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
