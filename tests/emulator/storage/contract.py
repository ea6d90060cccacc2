"""The contract every `Store` must meet. Subclass `StoreContract` and provide a `store` fixture."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from anaplan_tasks.emulator.definitions import FileDef, ModelDef
from anaplan_tasks.emulator.storage import (
    DumpRecord,
    EncodedRows,
    GrantRecord,
    ModelRecord,
    Store,
    TaskOutcome,
    TaskRecord,
    UserRecord,
    WorkspaceRecord,
)

MODEL = "A" * 32


def task(task_id: str, *, key: str | None = None, state: str = "NOT_STARTED") -> TaskRecord:
    return TaskRecord(
        id=task_id,
        model_id=MODEL,
        kind="imports",
        action_id="112000000000",
        user_id="u1",
        user_email="u1@example.com",
        created_ms=1000,
        state=state,
        locale="en_US",
        idempotency_key=key,
    )


def outcome(task_id: str) -> TaskOutcome:
    return TaskOutcome(
        task_id=task_id,
        state="COMPLETE",
        progress=1.0,
        current_step="Complete.",
        result_json="{}",
        cancelled_by=None,
        finished_ms=2000,
    )


class StoreContract:
    """Behaviour any store must show."""

    # -- directory ---------------------------------------------------------------------------
    def test_people_and_places_round_trip(self, store: Store) -> None:
        user = UserRecord("u1", "u1@example.com", "pw", "U", "One", "c1")
        store.add_user(user)
        store.add_workspace(WorkspaceRecord("w1", "Workspace"))
        store.add_workspace(WorkspaceRecord("w1", "Workspace"))
        store.grant(GrantRecord("w1", "u1", admin=False))
        store.grant(GrantRecord("w1", "u1", admin=True))
        assert store.users() == [user]
        assert store.workspaces() == [WorkspaceRecord("w1", "Workspace")]
        assert store.grants() == [GrantRecord("w1", "u1", admin=True)]

    def test_model_structure_is_versioned(self, store: Store) -> None:
        first = ModelDef(name="M", files=[FileDef(name="a.csv")])
        assert store.add_model(ModelRecord(MODEL, "w1", "M", 1), first) is True
        assert store.add_model(ModelRecord(MODEL, "w1", "M", 1), first) is False
        assert store.structure(MODEL) == (1, first)
        second = ModelDef(name="M", files=[FileDef(name="a.csv"), FileDef(name="b.csv")])
        assert store.save_structure(MODEL, second) == 2
        assert store.structure(MODEL) == (2, second)
        assert store.structure(MODEL, 1) == (1, first)
        with pytest.raises(KeyError):
            store.structure(MODEL, 3)
        store.set_model_state(MODEL, "ARCHIVED")
        assert store.models()[0].state == "ARCHIVED"

    def test_object_ids_count_up_per_kind_and_stay(self, store: Store) -> None:
        ids = store.assign_object_ids(MODEL, [("file", "a"), ("import", "x"), ("file", "b")])
        assert ids == {
            ("file", "a"): "113000000000",
            ("file", "b"): "113000000001",
            ("import", "x"): "112000000000",
        }
        more = store.assign_object_ids(MODEL, [("file", "b"), ("file", "c"), ("process", "p")])
        assert more[("file", "b")] == "113000000001"
        assert more[("file", "c")] == "113000000002"
        assert more[("process", "p")] == "118000000000"
        assert store.object_ids(MODEL) == more

    # -- files -------------------------------------------------------------------------------
    def test_chunks_are_per_user_and_a_declaration_starts_afresh(self, store: Store) -> None:
        store.declare_upload(MODEL, "113000000000", "u1", 2)
        store.put_chunk(MODEL, "113000000000", "u1", 1, b"world")
        store.put_chunk(MODEL, "113000000000", "u1", 0, b"hello ")
        store.put_chunk(MODEL, "113000000000", "u2", 0, b"other")
        state = store.upload_state(MODEL, "113000000000", "u1")
        assert state is not None
        assert (state.declared, state.chunk_indices, state.total_bytes) == (2, (0, 1), 11)
        assert state.readable
        assert store.read_chunk(MODEL, "113000000000", "u1", 1) == b"world"
        store.declare_upload(MODEL, "113000000000", "u1", 1)
        assert store.read_chunk(MODEL, "113000000000", "u1", 0) is None
        assert store.read_chunk(MODEL, "113000000000", "u2", 0) == b"other"

    def test_complete_freezes_an_open_upload(self, store: Store) -> None:
        store.declare_upload(MODEL, "f", "u1", -1)
        store.put_chunk(MODEL, "f", "u1", 0, b"a")
        open_state = store.upload_state(MODEL, "f", "u1")
        assert open_state is not None
        assert not open_state.completed
        state = store.complete_upload(MODEL, "f", "u1")
        assert (state.declared, state.completed, state.chunk_count) == (1, True, 1)

    def test_replace_and_delete_content(self, store: Store) -> None:
        assert store.replace_content(MODEL, "116000000000", "u1", [b"a", b"b", b"c"]) == 3
        state = store.upload_state(MODEL, "116000000000", "u1")
        assert state is not None
        assert state.chunk_count == 3
        store.delete_content(MODEL, "116000000000", "u1")
        assert store.upload_state(MODEL, "116000000000", "u1") is None

    def test_concurrent_chunk_writes_all_land(self, store: Store) -> None:
        store.declare_upload(MODEL, "f", "u1", 40)
        errors: list[BaseException] = []

        def put(index: int) -> None:
            try:
                store.put_chunk(MODEL, "f", "u1", index, bytes([index]) * 1000)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=put, args=(i,)) for i in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        state = store.upload_state(MODEL, "f", "u1")
        assert state is not None
        assert state.chunk_indices == tuple(range(40))

    # -- tasks -------------------------------------------------------------------------------
    def test_tasks_are_listed_oldest_first_and_updated(self, store: Store) -> None:
        store.create_task(task("T1"))
        store.create_task(task("T2"))
        store.update_task("T1", state="IN_PROGRESS", progress=0.5, current_step="half")
        assert [t.id for t in store.tasks_of_action(MODEL, "112000000000")] == ["T1", "T2"]
        assert [t.id for t in store.unfinished_tasks()] == ["T1", "T2"]
        store.update_task(
            "T1", state="COMPLETE", progress=1.0, current_step="Complete.", result_json="{}"
        )
        stored = store.task("T1")
        assert stored is not None
        assert (stored.state, stored.progress, stored.result_json) == ("COMPLETE", 1.0, "{}")
        assert [t.id for t in store.unfinished_tasks()] == ["T2"]
        assert [(t.id, t.state) for t in store.all_tasks()] == [
            ("T1", "COMPLETE"),
            ("T2", "NOT_STARTED"),
        ]
        assert store.task("nope") is None

    def test_an_idempotency_key_returns_the_first_task(self, store: Store) -> None:
        first = store.create_task(task("T1", key="k"))
        again = store.create_task(task("T2", key="k"))
        assert again.id == first.id == "T1"
        assert [t.id for t in store.tasks_of_action(MODEL, "112000000000")] == ["T1"]

    # -- model data --------------------------------------------------------------------------
    def test_items_upsert_keeps_unmapped_values(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.upsert_items(
                "L",
                with_name=True,
                with_parent=True,
                properties=[("N", "json"), ("B", "boolean")],
                rows=[("a", "Alpha", None, 1.5, "true"), ("b", "Beta", "a", None, "false")],
            )
            txn.upsert_items(
                "L",
                with_name=False,
                with_parent=False,
                properties=[("N", "json")],
                rows=[("a", 2.0), ("c", 3.0)],
            )
        assert list(data.items("L")) == [
            ("a", "Alpha", None, {"N": 2.0, "B": True}),
            ("b", "Beta", "a", {"B": False}),
            ("c", "c", None, {"N": 3.0}),
        ]
        assert data.item_keys("L") == {"a": "Alpha", "b": "Beta", "c": "c"}
        assert data.items_where("L", "B", True) == ["a"]

    def test_item_lookup_finds_items_by_code_then_by_name(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.upsert_items(
                "L",
                with_name=True,
                with_parent=False,
                properties=[],
                # b's name is a's code: the code wins. Two items share the name "Twin".
                rows=[("a", "Alpha"), ("b", "a"), ("c", "Twin"), ("d", "Twin")],
            )
        lookup = data.item_lookup("L")
        assert [lookup[text] for text in ("a", "b", "Alpha", "Twin")] == ["a", "b", "a", "d"]
        assert "Alpha" in lookup
        assert "c" in lookup
        assert "nope" not in lookup
        with pytest.raises(KeyError):
            lookup["nope"]

    def test_item_lookup_reads_names_from_another_thread_during_writes(self, store: Store) -> None:
        # An import's read-ahead thread looks names up while the transaction writes: it sees
        # the transaction's own items (a process's list import before a module import).
        data = store.model_data(MODEL)
        found: list[str] = []
        errors: list[BaseException] = []
        with data.transaction() as txn:
            txn.upsert_items(
                "L",
                with_name=True,
                with_parent=False,
                properties=[],
                rows=[(f"c{n}", f"Name {n}") for n in range(20_000)],
            )
            lookup = txn.item_lookup("L")

            def parse() -> None:
                try:
                    found.extend(lookup[f"Name {n}"] for n in range(0, 20_000, 97))
                except BaseException as error:
                    errors.append(error)

            parser = threading.Thread(target=parse)
            parser.start()
            txn.write_cells(
                "M",
                line_items=[("X", "json")],
                rows=((f"c{n}", float(n)) for n in range(50_000)),
            )
            parser.join()
        assert errors == []
        assert found == [f"c{n}" for n in range(0, 20_000, 97)]
        assert len(list(data.cells("M"))) == 50_000

    def test_encoded_rows_write_what_the_rows_would(self, store: Store) -> None:
        data = store.model_data(MODEL)
        items = [
            (f"i{n}", f"Item {n}", float(n), "true" if n % 2 else "false") for n in range(20_000)
        ]
        with data.transaction() as txn:
            txn.upsert_items(
                "L",
                with_name=True,
                with_parent=False,
                properties=[("N", "json"), ("B", "boolean")],
                rows=EncodedRows(txn.encode_rows(iter(items))),
            )
            txn.write_cells(
                "M",
                line_items=[("X", "json")],
                rows=EncodedRows(txn.encode_rows((code, n) for code, _, n, _ in items)),
            )
        assert list(data.items("L"))[-1] == (
            "i19999",
            "Item 19999",
            None,
            {"N": 19999.0, "B": True},
        )
        assert len(data.item_keys("L")) == 20_000
        assert list(data.cells("M"))[:2] == [(("i0",), {"X": 0.0}), (("i1",), {"X": 1.0})]

    def test_cells_merge_by_line_item_name(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.write_cells("M", line_items=[("X", "json")], rows=[("a\x1fv", 1.0)])
            txn.write_cells(
                "M", line_items=[("Y", "boolean")], rows=[("a\x1fv", "true"), ("b\x1fv", "false")]
            )
        assert list(data.cells("M")) == [
            (("a", "v"), {"X": 1.0, "Y": True}),
            (("b", "v"), {"Y": False}),
        ]
        assert data.cells_where("M", "Y", False) == [("b", "v")]

    def test_delete_items_takes_their_cells(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.upsert_items(
                "L", with_name=False, with_parent=False, properties=[], rows=[("a",), ("b",)]
            )
            txn.write_cells(
                "M", line_items=[("X", "json")], rows=[("a\x1fz", 1.0), ("b\x1fz", 2.0)]
            )
            assert txn.delete_items("L", ["a", "nope"], [("M", 0)]) == 1
        assert list(data.item_keys("L")) == ["b"]
        assert [key for key, _ in data.cells("M")] == [("b", "z")]

    def test_items_are_numbered_per_list_and_numbers_are_not_given_twice(
        self, store: Store
    ) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.upsert_items(
                "L", with_name=False, with_parent=False, properties=[], rows=[("a",), ("b",)]
            )
            txn.upsert_items("K", with_name=False, with_parent=False, properties=[], rows=[("x",)])
            txn.upsert_items(  # an update keeps the number
                "L", with_name=True, with_parent=False, properties=[], rows=[("a", "Alpha")]
            )
            txn.delete_items("L", ["b"], [])
            txn.upsert_items("L", with_name=False, with_parent=False, properties=[], rows=[("b",)])
        assert [(i, c) for i, c, *_ in data.indexed_items("L")] == [(1, "a"), (3, "b")]
        assert [(i, c) for i, c, *_ in data.indexed_items("K")] == [(1, "x")]
        assert data.last_index("L") == 3
        assert data.last_index("nothing") == 0

    def test_a_recoded_item_keeps_its_number_and_cells(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.upsert_items(
                "L", with_name=False, with_parent=False, properties=[], rows=[("a",), ("b",)]
            )
            txn.write_cells(
                "M", line_items=[("X", "json")], rows=[("z\x1fa", 1.0), ("z\x1fb", 2.0)]
            )
            txn.recode_item("L", "a", "A", [("M", 1)])
        assert [(i, c) for i, c, *_ in data.indexed_items("L")] == [(1, "A"), (2, "b")]
        assert list(data.cells("M")) == [(("z", "A"), {"X": 1.0}), (("z", "b"), {"X": 2.0})]
        assert list(data.cell_rows("M", ["z"])) == list(data.cells("M"))
        assert list(data.cell_rows("M", ["y"])) == []

    def test_cells_at_finds_the_rows_at_given_keys(self, store: Store) -> None:
        data = store.model_data(MODEL)
        rows = [(f"k{n}\x1fa", float(n)) for n in range(1200)]  # more than one query's worth
        with data.transaction() as txn:
            txn.write_cells("M", line_items=[("X", "json")], rows=rows)
        wanted = [(f"k{n}", "a") for n in range(0, 1200, 7)] + [("nope", "a")]
        found = data.cells_at("M", wanted)
        assert found == {(f"k{n}", "a"): {"X": float(n)} for n in range(0, 1200, 7)}
        assert data.cells_at("M", []) == {}

    def test_a_data_snapshot_never_sees_later_writes(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.write_cells("M", line_items=[("X", "json")], rows=[("a", 1.0)])
        with data.snapshot() as frozen:
            with data.transaction() as txn:
                txn.write_cells("M", line_items=[("X", "json")], rows=[("a", 2.0), ("b", 3.0)])
            assert list(frozen.cells("M")) == [(("a",), {"X": 1.0})]
            assert frozen.cells_at("M", [("a",), ("b",)]) == {("a",): {"X": 1.0}}
        assert data.cells_at("M", [("a",), ("b",)]) == {("a",): {"X": 2.0}, ("b",): {"X": 3.0}}

    def test_reset_index_numbers_from_one_again(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.upsert_items("L", with_name=False, with_parent=False, properties=[], rows=[("a",)])
            txn.delete_items("L", ["a"], [])
            txn.reset_index("L")
            txn.upsert_items("L", with_name=False, with_parent=False, properties=[], rows=[("b",)])
        assert [(i, c) for i, c, *_ in data.indexed_items("L")] == [(1, "b")]

    def test_a_failed_transaction_leaves_nothing(self, store: Store) -> None:
        data = store.model_data(MODEL)

        def cancelled_midway() -> None:
            with data.transaction() as txn:
                rows = [("a",)]
                txn.upsert_items("L", with_name=False, with_parent=False, properties=[], rows=rows)
                txn.record_outcome(outcome("T1"))
                txn.save_dump(DumpRecord("T1", "112000000000", "u1", (b"dump",)), "112000000000")
                raise RuntimeError("cancelled")

        with pytest.raises(RuntimeError):
            cancelled_midway()
        assert data.item_keys("L") == {}
        assert data.outcome("T1") is None
        assert data.dump_chunks("T1", "112000000000") is None

    def test_uncommitted_writes_are_invisible_to_readers(self, store: Store) -> None:
        data = store.model_data(MODEL)
        seen: list[dict[str, str]] = []
        with data.transaction() as txn:
            txn.upsert_items("L", with_name=False, with_parent=False, properties=[], rows=[("a",)])
            assert txn.item_keys("L") == {"a": "a"}  # the writer sees its own rows
            reader = threading.Thread(target=lambda: seen.append(data.item_keys("L")))
            reader.start()
            reader.join()
        assert seen == [{}]
        assert data.item_keys("L") == {"a": "a"}

    def test_outcome_commits_with_the_data(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.upsert_items("L", with_name=False, with_parent=False, properties=[], rows=[("a",)])
            txn.record_outcome(outcome("T1"))
        assert data.outcome("T1") == outcome("T1")

    def test_a_users_new_dump_replaces_the_old_one(self, store: Store) -> None:
        data = store.model_data(MODEL)
        with data.transaction() as txn:
            txn.save_dump(DumpRecord("T1", "112000000000", "u1", (b"a", b"b")), "112000000000")
            txn.save_dump(DumpRecord("T9", "112000000000", "u2", (b"z",)), "112000000000")
        assert data.dump_chunks("T1", "112000000000") == [b"a", b"b"]
        with data.transaction() as txn:
            txn.save_dump(DumpRecord("T2", "112000000000", "u1", (b"c",)), "112000000000")
        assert data.dump_chunks("T1", "112000000000") is None
        assert data.dump_chunks("T2", "112000000000") == [b"c"]
        assert data.dump_chunks("T9", "112000000000") == [b"z"]
        with data.transaction() as txn:
            txn.drop_dumps("u1", "112000000000")
        assert data.dump_chunks("T2", "112000000000") is None

    def test_wipe_forgets_everything(self, store: Store) -> None:
        store.create_task(task("T1"))
        with store.model_data(MODEL).transaction() as txn:
            txn.upsert_items("L", with_name=False, with_parent=False, properties=[], rows=[("a",)])
        store.wipe()
        assert store.task("T1") is None
        assert store.model_data(MODEL).item_keys("L") == {}

    def test_a_file_snapshot_never_sees_later_uploads(self, store: Store) -> None:
        store.declare_upload(MODEL, "f", "u1", 2)
        store.put_chunk(MODEL, "f", "u1", 0, b"old 0 ")
        store.put_chunk(MODEL, "f", "u1", 1, b"old 1")
        snapshot = store.file_snapshot()
        store.declare_upload(MODEL, "f", "u1", 1)  # a re-upload: the old chunks go
        store.put_chunk(MODEL, "f", "u1", 0, b"new")
        store.replace_content(MODEL, "e", "u1", [b"exported"])
        frozen = snapshot.upload_state(MODEL, "f", "u1")
        assert frozen is not None
        assert (frozen.declared, frozen.chunk_indices) == (2, (0, 1))
        assert [snapshot.read_chunk(MODEL, "f", "u1", i) for i in (0, 1)] == [b"old 0 ", b"old 1"]
        assert snapshot.upload_state(MODEL, "e", "u1") is None
        assert store.read_chunk(MODEL, "f", "u1", 0) == b"new"  # the store itself moved on
        snapshot.close()
        snapshot.close()  # idempotent
        again = store.file_snapshot()
        assert again.read_chunk(MODEL, "f", "u1", 0) == b"new"
        assert again.read_chunk(MODEL, "e", "u1", 0) == b"exported"
        again.close()

    def test_snapshots_still_open_are_closed_by_wipe(self, store: Store) -> None:
        store.replace_content(MODEL, "f", "u1", [b"x"])
        snapshot = store.file_snapshot()
        store.wipe()
        with pytest.raises(sqlite3.ProgrammingError):
            snapshot.read_chunk(MODEL, "f", "u1", 0)
        snapshot.close()
        assert store.upload_state(MODEL, "f", "u1") is None
