"""Durable runs: the attempt and the task id in Airflow's task state store, and what a retry
does with them. An earlier attempt's record is written as that attempt would have left it (the
crash itself is in the end-to-end test); the emulator's own task lists count the tasks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import task

from anaplan_tasks import TaskFailedError
from anaplan_tasks.airflow.operators import AnaplanImportOperator
from anaplan_tasks.client import TaskRef

from .conftest import Emulator, Run, employees_csv, failure_logged, read_state, seed_state

pytestmark = pytest.mark.slow

MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["plain", "deferrable"])


def _import_id(emulator: Emulator) -> str:
    with emulator.client() as client:
        return client.imports.get("Load Employees").id


def _start_elsewhere(emulator: Emulator, rows: bytes) -> str:
    """Start an import as an earlier attempt (or someone else) would have."""
    with emulator.client() as client:
        client.files.upload("employees.csv", rows)
        return client.imports.start("Load Employees").task_id


def _record(emulator: Emulator, **fields: Any) -> Callable[[str], None]:
    """A `before` hook seeding the `load` task's state store for the run."""

    def seed(run_id: str) -> None:
        value = {"what": f"imports/{_import_id(emulator)}", "exclude": [], **fields}
        seed_state(_dag_ids[-1], run_id, "load", value)

    return seed


_dag_ids: list[str] = []


@pytest.fixture
def run_load(run_dag: Callable[..., Run], tmp_path: Path) -> Callable[..., Run]:
    """Run a DAG with one `load` import task, uploading 5 rows when it starts a task."""
    default_source = tmp_path / "five.csv"
    default_source.write_bytes(employees_csv(100, 5))

    def run(before: Callable[[str], None] | None = None, **options: Any) -> Run:
        options.setdefault("source", str(default_source))
        dag_id = f"durable_{len(_dag_ids)}_{time.monotonic_ns()}"
        _dag_ids.append(dag_id)

        def build() -> None:
            load = AnaplanImportOperator(task_id="load", action="Load Employees", **options)
            if before is not None:
                # The state store needs the run to exist: an upstream task writes the record.
                @task(task_id="earlier_attempt")
                def earlier_attempt(run_id: str | None = None) -> None:
                    assert run_id is not None
                    before(run_id)

                earlier_attempt() >> load

        finished = run_dag(build, dag_id=dag_id)
        finished.states.pop("earlier_attempt", None)
        return finished

    return run


@MODES
def test_a_retry_reattaches_to_the_running_task_it_recorded(
    emulator: Emulator, run_load: Callable[..., Run], deferrable: bool
) -> None:
    emulator.progress("fixed", seconds=1.0)
    running = _start_elsewhere(emulator, employees_csv(1, 9))

    run = run_load(
        _record(emulator, since_ms=time.time() * 1000 - 500, task_id=running),
        deferrable=deferrable,
    )

    assert run.states == {"load": "success"}
    assert emulator.task_ids("imports", "Load Employees") == [running]
    assert run.xcom("load")["task_id"] == running
    assert run.xcom("load")["result"]["counts"]["successRowCount"] == 9
    assert read_state(run.dag_id, run.run_id, "load") is None  # done: a later clear reruns


@MODES
def test_an_attempt_that_died_right_after_its_start_post_is_adopted(
    emulator: Emulator, run_load: Callable[..., Run], deferrable: bool
) -> None:
    emulator.progress("fixed", seconds=1.0)
    since_ms = time.time() * 1000
    started = _start_elsewhere(emulator, employees_csv(1, 6))  # the POST that landed

    run = run_load(_record(emulator, since_ms=since_ms, task_id=None), deferrable=deferrable)

    assert run.states == {"load": "success"}
    assert emulator.task_ids("imports", "Load Employees") == [started]
    assert run.xcom("load")["task_id"] == started


def test_two_tasks_created_since_the_attempt_are_not_guessed_between(
    emulator: Emulator,
    run_load: Callable[..., Run],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    emulator.progress("manual")
    since_ms = time.time() * 1000
    first = _start_elsewhere(emulator, employees_csv(1, 2))
    second = _start_elsewhere(emulator, employees_csv(1, 2))

    run = run_load(_record(emulator, since_ms=since_ms, task_id=None))

    assert run.states == {"load": "failed"}
    assert emulator.task_ids("imports", "Load Employees") == [first, second]  # none started
    assert run.xcom("load", "anaplan_task_id") is None
    logged = failure_logged(caplog, capfd)
    assert "AmbiguousStartError" in logged
    assert first in logged
    assert second in logged


def test_an_attempt_that_died_before_its_start_post_starts_the_task(
    emulator: Emulator, run_load: Callable[..., Run]
) -> None:
    run = run_load(_record(emulator, since_ms=time.time() * 1000, task_id=None))

    assert run.states == {"load": "success"}
    assert emulator.task_ids("imports", "Load Employees") == [run.xcom("load")["task_id"]]


def test_a_task_created_well_before_the_attempt_is_not_adopted(
    emulator: Emulator, run_load: Callable[..., Run]
) -> None:
    earlier = _start_elsewhere(emulator, employees_csv(1, 3))
    with emulator.client() as client:
        [listed] = client.imports.list_tasks("Load Employees")
    later = listed.creation_time + 10_000  # beyond the 5 s clock skew tolerated

    run = run_load(_record(emulator, since_ms=later, task_id=None))

    assert run.states == {"load": "success"}
    tasks = emulator.task_ids("imports", "Load Employees")
    assert tasks[0] == earlier
    assert len(tasks) == 2
    assert run.xcom("load")["task_id"] == tasks[1]


def test_a_recorded_task_that_failed_is_started_anew(
    emulator: Emulator, run_load: Callable[..., Run], tmp_path: Path
) -> None:
    failed = _start_elsewhere(emulator, employees_csv(1, 3, region="ATLANTIS"))
    with emulator.client() as client, pytest.raises(TaskFailedError):
        client.imports.wait(TaskRef("imports", _import_id(emulator), failed))
    source = tmp_path / "good.csv"
    source.write_bytes(employees_csv(1, 3))

    run = run_load(
        _record(emulator, since_ms=time.time() * 1000 - 60_000, task_id=failed),
        source=str(source),
    )

    assert run.states == {"load": "success"}
    tasks = emulator.task_ids("imports", "Load Employees")
    assert failed in tasks
    assert run.xcom("load")["task_id"] == tasks[-1] != failed
    assert run.xcom("load")["successful"] is True


def test_not_durable_ignores_the_record_and_starts_anew(
    emulator: Emulator, run_load: Callable[..., Run]
) -> None:
    running = _start_elsewhere(emulator, employees_csv(1, 2))

    run = run_load(_record(emulator, since_ms=time.time() * 1000, task_id=running), durable=False)

    assert run.states == {"load": "success"}
    assert len(emulator.task_ids("imports", "Load Employees")) == 2
    assert run.xcom("load")["task_id"] != running


def test_the_task_id_is_recorded_before_the_wait(
    emulator: Emulator, run_load: Callable[..., Run]
) -> None:
    emulator.progress("manual")
    seen: list[Any] = []

    def watch() -> None:
        # While the task is held (manual progression: it cannot end before advance), wait for
        # the operator's record to name a task; then let it finish. Always let it finish, so a
        # failure here fails the test instead of holding the operator's wait.
        listed: list[str] = []
        deadline = time.monotonic() + 90
        try:
            while time.monotonic() < deadline:
                listed = emulator.task_ids("imports", "Load Employees")
                state = read_state(_dag_ids[-1], _run_ids[-1], "load") if listed else None
                if state is not None and state.get("task_id"):
                    seen.append((listed[0], state))
                    return
                time.sleep(0.05)
        finally:
            for task_id in listed or emulator.task_ids("imports", "Load Employees"):
                emulator.running.control.advance(task_id)

    _run_ids: list[str] = []
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    run = run_load(_run_ids.append, execution_timeout=timedelta(seconds=120))
    watcher.join(10)
    assert _run_ids == [run.run_id]

    assert run.states == {"load": "success"}
    [(task_id, state)] = seen
    assert state["task_id"] == task_id
    assert state["what"] == f"imports/{_import_id(emulator)}"
    with emulator.client() as client:
        [listed] = client.imports.list_tasks("Load Employees")
    assert state["since_ms"] <= listed.creation_time + 5_000


def test_airflow_killing_the_task_cancels_the_anaplan_task(
    emulator: Emulator, run_load: Callable[..., Run]
) -> None:
    emulator.progress("manual")  # never finishes on its own

    run = run_load(execution_timeout=timedelta(seconds=2))

    assert run.states == {"load": "failed"}
    [task_id] = emulator.task_ids("imports", "Load Employees")
    with emulator.client() as client:
        status = client.imports.status("Load Employees", task_id)
    assert status.task_state == "CANCELLED"
