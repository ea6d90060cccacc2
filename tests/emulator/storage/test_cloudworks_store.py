"""CloudWorks' tables: documents by id and owner, in creation order, durable, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from anaplan_tasks.emulator.storage import CloudWorksStore


def test_documents_by_id_and_owner_in_creation_order(tmp_path: Path) -> None:
    store = CloudWorksStore(tmp_path / "cw.sqlite")
    store.put("runs", "r1", {"n": 1}, owner="i1")
    store.put("runs", "r2", {"n": 2}, owner="i2")
    store.put("runs", "r3", {"n": 3}, owner="i1")
    store.put("runs", "r1", {"n": 10}, owner="i1")  # replaced in place: keeps its turn
    assert [d["n"] for d in store.all("runs")] == [10, 2, 3]
    assert [d["n"] for d in store.all("runs", "i1")] == [10, 3]
    assert store.last("runs", "i1") == {"n": 3}
    assert store.last("runs", "nobody") is None
    assert store.get("runs", "r2") == {"n": 2}
    assert store.count("runs") == 3
    store.delete_owned("runs", "i1")
    assert store.delete("runs", "r2") is True
    assert store.delete("runs", "r2") is False
    assert store.count("runs") == 0
    store.close()


def test_a_transaction_commits_all_or_nothing_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "cw.sqlite"
    store = CloudWorksStore(path)

    def half_way() -> None:
        with store.transaction():
            store.put("integrations", "a", {"name": "a"})
            raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        half_way()
    assert store.get("integrations", "a") is None
    with store.transaction():
        store.put("integrations", "b", {"name": "b"})
        store.put("notifications", "n", {"for": "b"}, owner="b")
    store.close()
    reopened = CloudWorksStore(path)
    assert reopened.get("integrations", "b") == {"name": "b"}
    assert reopened.all("notifications", "b") == [{"for": "b"}]
    reopened.wipe()
    assert reopened.count("integrations") == reopened.count("notifications") == 0
    reopened.close()
