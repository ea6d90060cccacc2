"""Durability: reopening a data directory finds every acknowledged thing, and no half-done task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.engine import INTERRUPTED_TEXT
from anaplan_tasks.emulator.storage import SqliteStore, TaskOutcome, TaskRecord
from anaplan_tasks.models import CompletedTask

from .conftest import FakeClock, demo_model, open_engine

SRC = Path(__file__).resolve().parents[3] / "src"


def _task(dev_model_id: str, action_id: str, state: str, task_id: str) -> TaskRecord:
    return TaskRecord(
        id=task_id,
        model_id=dev_model_id,
        kind="imports",
        action_id=action_id,
        user_id="u",
        user_email="demo@example.com",
        created_ms=1,
        state=state,
        locale="en_US",
    )


def test_uploads_and_tasks_survive_a_reopen(tmp_path: Path, clock: FakeClock) -> None:
    engine = open_engine(tmp_path, clock)
    dev = demo_model(engine)
    dev.upload(b"".join(generate_employees_csv(50)), chunk_size=1000)
    done = dev.run("imports", "Load Employees")
    engine.close()

    reopened = open_engine(tmp_path, clock)
    again = demo_model(reopened)
    try:
        assert again.ids == dev.ids  # ids are stable across restarts
        assert len(again.items()) == 50
        status = again.status("imports", "Load Employees", done.id)
        assert status.to_wire() == done.to_wire()
        content = b"".join(reopened.read_file(again.principal, again.model_id, again.file_id))
        assert content == b"".join(generate_employees_csv(50))
    finally:
        reopened.close()


def test_interrupted_task_ends_failed_and_queued_one_runs(tmp_path: Path, clock: FakeClock) -> None:
    engine = open_engine(tmp_path, clock)
    dev = demo_model(engine)
    dev.upload(b"".join(generate_employees_csv(20)))
    engine.close()
    store = SqliteStore(tmp_path)
    running = _task(dev.model_id, dev.ids["Load Employees"], "IN_PROGRESS", "A" * 32)
    queued = _task(dev.model_id, dev.ids["Load Employees"], "NOT_STARTED", "B" * 32)
    store.create_task(running)
    store.create_task(queued.__class__(**{**queued.__dict__, "user_id": dev.principal.user_id}))
    store.close()

    reopened = open_engine(tmp_path, clock)
    try:
        again = demo_model(reopened)
        assert reopened.wait_idle()
        interrupted = again.status("imports", "Load Employees", "A" * 32)
        assert isinstance(interrupted, CompletedTask)
        assert interrupted.current_step == "Failed."
        assert interrupted.result.successful is False
        detail = interrupted.result.details[0]
        assert (detail.type, detail.local_message_text) == ("internalError", INTERRUPTED_TEXT)
        requeued = again.status("imports", "Load Employees", "B" * 32)
        assert isinstance(requeued, CompletedTask)
        assert requeued.result.successful is True
        assert len(again.items()) == 20
    finally:
        reopened.close()


def test_a_committed_outcome_wins_over_a_stale_state(tmp_path: Path, clock: FakeClock) -> None:
    engine = open_engine(tmp_path, clock)
    dev = demo_model(engine)
    engine.close()
    store = SqliteStore(tmp_path)
    store.create_task(_task(dev.model_id, dev.ids["Load Employees"], "IN_PROGRESS", "C" * 32))
    with store.model_data(dev.model_id).transaction() as txn:
        txn.record_outcome(
            TaskOutcome(
                task_id="C" * 32,
                state="COMPLETE",
                progress=1.0,
                current_step="Complete.",
                result_json='{"successful": true, "failureDumpAvailable": false}',
                cancelled_by=None,
                finished_ms=2,
            )
        )
    store.close()

    reopened = open_engine(tmp_path, clock)
    try:
        status = demo_model(reopened).status("imports", "Load Employees", "C" * 32)
        assert isinstance(status, CompletedTask)
        assert status.result.successful is True
    finally:
        reopened.close()


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from anaplan_tasks.emulator.demo import generate_employees_csv
    from anaplan_tasks.emulator.engine import create_engine
    from anaplan_tasks.emulator.engine.contract import Page, Progression, TaskStart

    engine = create_engine(data_dir=Path(sys.argv[1]), demo=True)
    p = engine.authenticate_basic("demo@example.com", "demo")
    model = engine.models(p, None, Page()).items[0]
    ids = {i.name: i.id for i in engine.imports(p, model.id, Page()).items}
    file_id = engine.files(p, model.id, Page()).items[0].id

    def upload(data):
        engine.set_chunk_count(p, model.id, file_id, 1)
        engine.put_chunk(p, model.id, file_id, 0, data)

    upload(b"".join(generate_employees_csv(30)))
    engine.start_task(p, model.id, "imports", ids["Load Employees"], TaskStart("en_US"))
    assert engine.wait_idle()
    upload(b"".join(generate_employees_csv(400, seed=5)))
    engine.set_progression(Progression(mode="polls", polls=1000))
    running = engine.start_task(p, model.id, "imports", ids["Load Employees"], TaskStart("en_US"))
    queued = engine.start_task(p, model.id, "imports", ids["Load Headcount"], TaskStart("en_US"))
    assert engine.wait_settled(running.id)
    print(running.id, queued.id, flush=True)
    sys.stdin.read()
    """
)


def test_kill_9_during_an_import_applies_nothing(tmp_path: Path, clock: FakeClock) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        running_id, queued_id = child.stdout.readline().decode().split()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.stdin is not None
        child.stdin.close()
        if child.stdout is not None:
            child.stdout.close()

    engine = open_engine(tmp_path, clock)
    try:
        dev = demo_model(engine)
        assert engine.wait_idle()
        interrupted = dev.status("imports", "Load Employees", running_id)
        assert isinstance(interrupted, CompletedTask)
        assert interrupted.current_step == "Failed."
        # The 400-row import was never committed: the list still has the first 30 items.
        assert len(dev.items()) == 30
        # The task queued behind it ran after the restart, on the 400-row upload.
        queued = dev.status("imports", "Load Headcount", queued_id)
        assert isinstance(queued, CompletedTask)
        assert queued.result.details[0].value_map["rowCount"] == 30
        assert queued.result.details[0].value_map["failureCount"] == 370
    finally:
        engine.close()
    store = SqliteStore(tmp_path)
    try:
        assert store.integrity_problems() == []
    finally:
        store.close()


def test_an_idempotency_key_is_remembered_across_a_restart(
    tmp_path: Path, clock: FakeClock
) -> None:
    engine = open_engine(tmp_path, clock)
    first = demo_model(engine).start("exports", "Headcount Export", idempotency_key="nightly-1")
    engine.wait_idle()
    engine.close()
    reopened = open_engine(tmp_path, clock)
    try:
        again = demo_model(reopened).start(
            "exports", "Headcount Export", idempotency_key="nightly-1"
        )
        assert again == first
    finally:
        reopened.close()
