"""Files: per-user chunked content, declared counts, `-1` uploads, creation by name."""

from __future__ import annotations

import threading

import pytest

from anaplan_tasks.emulator import errors
from anaplan_tasks.emulator.engine import EmulatorEngine
from anaplan_tasks.emulator.engine.contract import Page, TaskStart

from .conftest import DemoModel, FakeClock, another_member


def chunk_count(dev: DemoModel, file_id: str) -> int:
    files = dev.engine.files(dev.principal, dev.model_id, Page()).items
    return next(f.chunk_count for f in files if f.id == file_id)


def test_declared_upload_lists_its_chunks_and_reads_back_in_order(dev: DemoModel) -> None:
    engine, p, m, f = dev.engine, dev.principal, dev.model_id, dev.file_id
    info = engine.set_chunk_count(p, m, f, 3)
    assert info.chunk_count == 3
    assert [c.id for c in engine.file_chunks(p, m, f)] == ["0", "1", "2"]
    for index in (2, 0, 1):  # out of order, as parallel uploaders do
        engine.put_chunk(p, m, f, index, f"part{index};".encode())
    assert b"".join(engine.read_file(p, m, f)) == b"part0;part1;part2;"
    assert engine.read_chunk(p, m, f, 1) == b"part1;"
    assert chunk_count(dev, f) == 3
    with pytest.raises(errors.NotFound):
        engine.read_chunk(p, m, f, 3)
    with pytest.raises(errors.BadRequest):
        engine.put_chunk(p, m, f, 3, b"beyond the declared count")


def test_open_upload_is_frozen_by_complete(dev: DemoModel) -> None:
    engine, p, m, f = dev.engine, dev.principal, dev.model_id, dev.file_id
    engine.set_chunk_count(p, m, f, -1)
    engine.put_chunk(p, m, f, 0, b"a")
    engine.put_chunk(p, m, f, 1, b"b")
    assert engine.complete_upload(p, m, f).chunk_count == 2
    assert b"".join(engine.read_file(p, m, f)) == b"ab"


def test_complete_refuses_a_gap(dev: DemoModel) -> None:
    engine, p, m, f = dev.engine, dev.principal, dev.model_id, dev.file_id
    engine.set_chunk_count(p, m, f, -1)
    engine.put_chunk(p, m, f, 0, b"a")
    engine.put_chunk(p, m, f, 2, b"c")
    with pytest.raises(errors.BadRequest, match=r"\[1\]"):
        engine.complete_upload(p, m, f)


def test_a_new_declaration_forgets_the_old_content(dev: DemoModel) -> None:
    engine, p, m, f = dev.engine, dev.principal, dev.model_id, dev.file_id
    dev.upload(b"old content")
    engine.set_chunk_count(p, m, f, 1)
    assert engine.file_chunks(p, m, f)[0].name == "Chunk 0"
    with pytest.raises(errors.NotFound):
        engine.read_chunk(p, m, f, 0)
    with pytest.raises(errors.NotFound):
        engine.read_file(p, m, f)  # declared but not all there


def test_content_is_per_user_and_delete_removes_only_mine(dev: DemoModel) -> None:
    engine, p, m, f = dev.engine, dev.principal, dev.model_id, dev.file_id
    other = another_member(engine)
    dev.upload(b"mine")
    engine.set_chunk_count(other, m, f, 1)
    engine.put_chunk(other, m, f, 0, b"theirs")
    engine.delete_file(p, m, f)
    assert chunk_count(dev, f) == 0
    with pytest.raises(errors.NotFound):
        engine.read_file(p, m, f)
    assert b"".join(engine.read_file(other, m, f)) == b"theirs"


def test_posting_to_a_name_creates_a_file_once(dev: DemoModel) -> None:
    engine, p, m = dev.engine, dev.principal, dev.model_id
    created = engine.set_chunk_count(p, m, "budget.csv", 1)
    assert created.name == "budget.csv"
    assert created.id.startswith("113")
    assert created.id != dev.file_id
    again = engine.set_chunk_count(p, m, "budget.csv", 1)
    assert again.id == created.id
    names = [f.name for f in engine.files(p, m, Page()).items]
    assert names.count("budget.csv") == 1
    with pytest.raises(errors.BadRequest):
        engine.set_chunk_count(p, m, "  ", 1)


def test_files_created_at_once_from_many_threads_all_exist(dev: DemoModel) -> None:
    engine, p, m = dev.engine, dev.principal, dev.model_id
    names = [f"made-{index}.csv" for index in range(24)]
    barrier = threading.Barrier(8)

    def create(mine: list[str]) -> None:
        barrier.wait()
        for name in mine:
            engine.set_chunk_count(p, m, name, 1)
            engine.set_chunk_count(p, m, names[0], 1)  # and one name they all share

    threads = [threading.Thread(target=create, args=(names[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = [f.name for f in engine.files(p, m, Page()).items]
    assert sorted(name for name in listed if name.startswith("made-")) == sorted(names)


@pytest.mark.parametrize("count", [0, -2, 1001])
def test_bad_chunk_counts_are_refused(dev: DemoModel, count: int) -> None:
    with pytest.raises(errors.BadRequest):
        dev.engine.set_chunk_count(dev.principal, dev.model_id, dev.file_id, count)


def test_export_files_cannot_be_uploaded_to(dev: DemoModel) -> None:
    with pytest.raises(errors.BadRequest):
        dev.engine.set_chunk_count(dev.principal, dev.model_id, dev.ids["Headcount Export"], 1)


def test_unknown_file_is_not_found(dev: DemoModel) -> None:
    with pytest.raises(errors.NotFound):
        dev.engine.file_chunks(dev.principal, dev.model_id, "113999999999")


def test_people_and_places(dev: DemoModel) -> None:
    engine = dev.engine
    assert engine.authenticate_basic("demo@example.com", "wrong") is None
    assert engine.authenticate_basic("DEMO@example.com", "demo") == dev.principal
    me = engine.user(dev.principal)
    assert me.email == "demo@example.com"
    assert len(me.id) == 32
    (workspace,) = engine.workspaces(dev.principal, Page()).items
    assert workspace.name == "Demo Workspace"
    assert workspace.id == workspace.id.lower()
    assert len(workspace.id) == 32
    models = engine.models(dev.principal, workspace.id, Page()).items
    assert [m.name for m in models] == ["FP&A Dev", "FP&A Prod"]
    assert all(m.id == m.id.upper() and len(m.id) == 32 for m in models)
    assert engine.resolve_model(dev.principal, workspace.id, dev.model_id) == dev.model_id
    with pytest.raises(errors.NotFound):
        engine.resolve_model(dev.principal, "0" * 32, dev.model_id)
    with pytest.raises(errors.NotFound):
        engine.model(dev.principal, "F" * 32)
    assert engine.models(dev.principal, None, Page(limit=1, offset=1)).items == models[1:]


def test_default_content_is_served_until_a_user_uploads_their_own(engine: EmulatorEngine) -> None:
    engine.load_definition(
        """
[[users]]
email = "d@example.com"
password = "d"
[[workspaces]]
name = "Defaults"
admins = ["d@example.com"]
[[workspaces.models]]
name = "M"
[[workspaces.models.lists]]
name = "Cities"
[[workspaces.models.files]]
name = "cities.csv"
default_content = "City\\nOslo\\nBergen\\n"
[[workspaces.models.imports]]
name = "Load Cities"
file = "cities.csv"
target_list = "Cities"
mapping = { code = "City" }
""",
        source="defaults.toml",
    )
    principal = engine.authenticate_basic("d@example.com", "d")
    assert principal is not None
    model_id = engine.models(principal, None, Page()).items[0].id
    (info,) = engine.files(principal, model_id, Page()).items
    assert info.chunk_count == 1
    assert b"".join(engine.read_file(principal, model_id, info.id)) == b"City\nOslo\nBergen\n"
    assert engine.structure(model_id).files[0].default_content is None  # data, not structure

    import_id = engine.imports(principal, model_id, Page()).items[0].id
    engine.start_task(principal, model_id, "imports", import_id, TaskStart("en_US"))
    assert engine.wait_idle()
    assert list(engine.model_data(model_id).item_keys("Cities")) == ["Oslo", "Bergen"]

    engine.set_chunk_count(principal, model_id, info.id, 1)
    engine.put_chunk(principal, model_id, info.id, 0, b"City\nTromso\n")
    assert b"".join(engine.read_file(principal, model_id, info.id)) == b"City\nTromso\n"
    engine.delete_file(principal, model_id, info.id)
    assert engine.read_chunk(principal, model_id, info.id, 0) == b"City\nOslo\nBergen\n"


def _content(dev: DemoModel, file_id: str) -> bytes | None:
    try:
        return b"".join(dev.engine.read_file(dev.principal, dev.model_id, file_id))
    except errors.NotFound:
        return None


def test_private_content_unused_for_48_hours_gives_way_to_the_default(
    dev: DemoModel, clock: FakeClock
) -> None:
    engine, p, m, f = dev.engine, dev.principal, dev.model_id, dev.file_id
    default = _content(dev, f)
    dev.upload(b"mine\n")
    clock.advance(47 * 3600)
    assert _content(dev, f) == b"mine\n"  # a download is an access: the timer starts again
    clock.advance(47 * 3600)
    assert [c.id for c in engine.file_chunks(p, m, f)] == ["0"]
    clock.advance(48 * 3600 + 1)
    assert chunk_count(dev, f) == (0 if default is None else 1)
    assert _content(dev, f) == default
    with pytest.raises(errors.NotFound):
        engine.read_chunk(p, m, f, 1)


def test_starting_a_task_keeps_private_content_and_exports_expire_too(
    dev: DemoModel, clock: FakeClock
) -> None:
    engine, p, m = dev.engine, dev.principal, dev.model_id
    export_id = dev.ids["Headcount Export"]
    dev.run("exports", "Headcount Export")
    exported = _content(dev, export_id)
    assert exported
    dev.upload(b"mine\n")
    clock.advance(40 * 3600)
    dev.start("exports", "Headcount Export")  # a task on the model counts as an access
    assert engine.wait_idle(30)
    clock.advance(40 * 3600)
    assert _content(dev, dev.file_id) == b"mine\n"
    clock.advance(48 * 3600 + 1)
    engine.files(p, m, Page())
    assert _content(dev, export_id) is None
