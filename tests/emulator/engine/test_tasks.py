"""The task state machine: queueing, progression modes, cancel, idempotency."""

from __future__ import annotations

import threading

import pytest

from anaplan_tasks.emulator import errors
from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.engine import EmulatorEngine
from anaplan_tasks.emulator.engine.contract import Page, Progression, TaskStart
from anaplan_tasks.models import BulkTaskStatus, CancelledTask, CompletedTask, Task

from .conftest import DemoModel, FakeClock, polls


def state(status: BulkTaskStatus) -> str:
    return str(status.task_state)


CSV = b"".join(generate_employees_csv(300))


def test_a_new_task_is_not_started_then_completes(dev: DemoModel) -> None:
    dev.upload(CSV)
    dev.engine.set_progression(Progression(mode="manual"))
    task_id = dev.start("imports", "Load Employees")

    assert dev.engine.wait_settled(task_id)
    queued = dev.status("imports", "Load Employees", task_id)
    assert isinstance(queued, Task)
    assert queued.to_wire() == {
        "taskId": task_id,
        "taskState": "NOT_STARTED",
        "creationTime": queued.creation_time,
        "progress": 0.0,
    }
    assert len(task_id) == 32
    assert task_id == task_id.upper()

    dev.engine.advance(task_id)
    assert dev.engine.wait_idle()
    done = dev.status("imports", "Load Employees", task_id)
    assert isinstance(done, CompletedTask)
    assert done.progress == 1.0
    assert done.current_step == "Complete."
    assert done.result.object_id == dev.ids["Load Employees"]


def test_tasks_of_one_model_run_one_at_a_time_in_order(dev: DemoModel) -> None:
    dev.upload(CSV)
    dev.engine.set_progression(polls(1))
    first = dev.start("imports", "Load Employees")
    second = dev.start("imports", "Load Headcount")
    third = dev.start("exports", "Headcount Export")

    assert dev.engine.wait_settled(first)
    assert state(dev.status("imports", "Load Headcount", second)) == "NOT_STARTED"
    assert state(dev.status("exports", "Headcount Export", third)) == "NOT_STARTED"
    # Polling the first lets it finish; only then does the second start.
    assert state(dev.status("imports", "Load Employees", first)) == "COMPLETE"
    assert dev.engine.wait_settled(second)
    assert state(dev.status("exports", "Headcount Export", third)) == "NOT_STARTED"
    assert state(dev.status("imports", "Load Headcount", second)) == "COMPLETE"
    assert dev.engine.wait_settled(third)
    assert state(dev.status("exports", "Headcount Export", third)) == "COMPLETE"
    # The module import saw the list import's items: it ran strictly after it.
    assert len(dev.cells()) == 300


def test_tasks_of_different_models_run_side_by_side(dev: DemoModel, prod: DemoModel) -> None:
    dev.upload(CSV)
    prod.upload(CSV)
    dev.engine.set_progression(polls(2))
    in_dev = dev.start("imports", "Load Employees")
    in_prod = prod.start("imports", "Load Employees")
    assert dev.engine.wait_settled(in_dev)
    assert dev.engine.wait_settled(in_prod)
    assert state(dev.status("imports", "Load Employees", in_dev)) == "IN_PROGRESS"
    assert state(prod.status("imports", "Load Employees", in_prod)) == "IN_PROGRESS"


def test_polls_mode_completes_on_the_nth_status_read(dev: DemoModel) -> None:
    dev.upload(CSV)
    dev.engine.set_progression(polls(3))
    task_id = dev.start("imports", "Load Employees")
    assert dev.engine.wait_settled(task_id)

    first = dev.status("imports", "Load Employees", task_id)
    second = dev.status("imports", "Load Employees", task_id)
    third = dev.status("imports", "Load Employees", task_id)

    assert isinstance(first, Task)
    assert (first.task_state, first.progress) == ("IN_PROGRESS", 0.3333)
    assert (second.task_state, second.progress) == ("IN_PROGRESS", 0.6667)
    assert state(third) == "COMPLETE"
    assert dev.engine.poll_counts()[task_id] == 3


def test_fixed_mode_spreads_progress_over_the_duration(dev: DemoModel, clock: FakeClock) -> None:
    dev.upload(CSV)
    dev.engine.set_progression(Progression(mode="fixed", seconds=10))
    task_id = dev.start("imports", "Load Employees")
    assert dev.engine.wait_settled(task_id)

    clock.advance(4)
    running = dev.status("imports", "Load Employees", task_id)
    assert isinstance(running, Task)
    assert running.task_state == "IN_PROGRESS"
    assert running.progress == pytest.approx(0.4)
    assert dev.items() == []  # nothing is visible before the task commits

    clock.advance(6)
    assert dev.engine.wait_idle()
    assert state(dev.status("imports", "Load Employees", task_id)) == "COMPLETE"
    assert len(dev.items()) == 300


def test_cancel_a_queued_task_at_once(dev: DemoModel) -> None:
    dev.upload(CSV)
    dev.engine.set_progression(Progression(mode="manual"))
    task_id = dev.start("imports", "Load Employees")

    cancelled = dev.engine.cancel_task(
        dev.principal, dev.model_id, "imports", dev.ids["Load Employees"], task_id
    )

    assert isinstance(cancelled, CancelledTask)
    assert cancelled.task_state == "CANCELLED"
    assert cancelled.cancelled_by == "demo@example.com"
    dev.engine.advance()
    assert dev.engine.wait_idle()
    assert dev.items() == []
    listed = dev.engine.tasks(
        dev.principal, dev.model_id, "imports", dev.ids["Load Employees"], Page()
    )
    assert [t.task_state for t in listed.items] == ["CANCELLED"]


def test_cancel_a_running_import_rolls_it_back(dev: DemoModel) -> None:
    dev.upload(b"".join(generate_employees_csv(100)))
    dev.run("imports", "Load Employees")
    before = dev.items()
    dev.upload(b"".join(generate_employees_csv(500, seed=7)))
    dev.engine.set_progression(polls(5))
    task_id = dev.start("imports", "Load Employees")
    assert dev.engine.wait_settled(task_id)
    dev.status("imports", "Load Employees", task_id)  # 1 of 5 polls: 20 %

    cancelling = dev.engine.cancel_task(
        dev.principal, dev.model_id, "imports", dev.ids["Load Employees"], task_id
    )
    assert cancelling.task_state in ("CANCELLING", "CANCELLED")
    assert dev.engine.wait_idle()

    final = dev.status("imports", "Load Employees", task_id)
    assert isinstance(final, CancelledTask)
    assert final.task_state == "CANCELLED"
    assert final.cancelled_by == "demo@example.com"
    assert final.progress == pytest.approx(0.2)
    assert final.result is not None
    assert final.result.details[0].type == "msgImportCancelled"
    assert dev.items() == before  # the model is exactly as it was


def test_cancel_a_finished_task_returns_it_unchanged(dev: DemoModel) -> None:
    dev.upload(CSV)
    done = dev.run("imports", "Load Employees")
    again = dev.engine.cancel_task(
        dev.principal, dev.model_id, "imports", dev.ids["Load Employees"], done.id
    )
    assert again.to_wire() == done.to_wire()


def test_cancel_a_running_export_says_export_cancelled(dev: DemoModel) -> None:
    dev.engine.set_progression(polls(2))
    task_id = dev.start("exports", "Headcount Export")
    assert dev.engine.wait_settled(task_id)
    dev.engine.cancel_task(
        dev.principal, dev.model_id, "exports", dev.ids["Headcount Export"], task_id
    )
    assert dev.engine.wait_idle()
    final = dev.status("exports", "Headcount Export", task_id)
    assert isinstance(final, CancelledTask)
    assert final.result is not None
    assert final.result.details[0].type == "msgExportCancelled"
    files = dev.engine.files(dev.principal, dev.model_id, Page()).items
    assert next(f for f in files if f.id == dev.ids["Headcount Export"]).chunk_count == 0


def test_same_idempotency_key_returns_the_same_task(dev: DemoModel) -> None:
    dev.engine.set_progression(Progression(mode="manual"))
    first = dev.start("exports", "Headcount Export", idempotency_key="k-1")
    second = dev.start("exports", "Headcount Export", idempotency_key="k-1")
    other = dev.start("exports", "Headcount Export", idempotency_key="k-2")
    assert first == second
    assert other != first
    listed = dev.engine.tasks(
        dev.principal, dev.model_id, "exports", dev.ids["Headcount Export"], Page()
    )
    assert [t.id for t in listed.items] == [first, other]


def test_task_list_pages_oldest_first(dev: DemoModel, clock: FakeClock) -> None:
    ids = []
    for _ in range(3):
        ids.append(dev.run("exports", "Headcount Export").id)
        clock.advance(1)
    page = dev.engine.tasks(
        dev.principal, dev.model_id, "exports", dev.ids["Headcount Export"], Page(limit=2, offset=1)
    )
    assert [t.id for t in page.items] == ids[1:]
    assert page.total_size == 3
    assert [t.creation_time for t in page.items] == [1_767_180_001_000, 1_767_180_002_000]


def test_unknown_action_lists_nothing_and_unknown_task_is_not_found(dev: DemoModel) -> None:
    assert (
        dev.engine.tasks(dev.principal, dev.model_id, "imports", "112999999999", Page()).items == []
    )
    with pytest.raises(errors.NotFound):
        dev.engine.task(dev.principal, dev.model_id, "imports", dev.ids["Load Employees"], "0" * 32)
    with pytest.raises(errors.NotFound):
        dev.engine.start_task(
            dev.principal, dev.model_id, "imports", "112999999999", TaskStart("en_US")
        )


def test_locale_is_required(dev: DemoModel) -> None:
    with pytest.raises(errors.BadRequest):
        dev.engine.start_task(
            dev.principal, dev.model_id, "exports", dev.ids["Headcount Export"], TaskStart("")
        )


def test_a_task_of_another_kind_is_not_found(dev: DemoModel) -> None:
    task_id = dev.run("exports", "Headcount Export").id
    with pytest.raises(errors.NotFound):
        dev.engine.task(
            dev.principal, dev.model_id, "imports", dev.ids["Headcount Export"], task_id
        )


def test_reset_forgets_tasks_and_data(engine: EmulatorEngine, dev: DemoModel) -> None:
    dev.upload(CSV)
    dev.run("imports", "Load Employees")
    engine.reset()
    assert dev.items() == []
    assert (
        engine.tasks(
            dev.principal, dev.model_id, "imports", dev.ids["Load Employees"], Page()
        ).items
        == []
    )


def test_many_threads_starting_and_polling_at_once(dev: DemoModel, prod: DemoModel) -> None:
    errors_seen: list[BaseException] = []
    started: list[str] = []
    lock = threading.Lock()

    def client(model: DemoModel) -> None:
        try:
            for _ in range(5):
                task_id = model.start("exports", "Headcount Export")
                model.status("exports", "Headcount Export", task_id)
                with lock:
                    started.append(task_id)
        except BaseException as error:  # pragma: no cover - reported below
            errors_seen.append(error)

    threads = [threading.Thread(target=client, args=(m,)) for m in (dev, prod) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors_seen == []
    assert dev.engine.wait_idle()
    assert len(set(started)) == 40
    for model in (dev, prod):
        listed = model.engine.tasks(
            model.principal, model.model_id, "exports", model.ids["Headcount Export"], Page()
        ).items
        assert len(listed) == 20
        assert {t.task_state for t in listed} == {"COMPLETE"}
