"""Durability end to end: a real scheduler (LocalExecutor), API server and DAG processor, in
subprocesses on a SQLite database of their own, run two DAGs against the emulator; the task
process of each is killed with SIGKILL, once while it waits for its Anaplan task and once right
after its start POST ran on the emulator (its answer lost, the task id never stored). The retry
finishes the same task: the emulator's own task lists hold exactly one task per DAG run."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.demo import DEMO_PASSWORD, DEMO_USER, DEMO_WORKSPACE, DEV_MODEL

from .conftest import Emulator, employees_csv

pytestmark = pytest.mark.slow

AIRFLOW = Path(sys.executable).with_name("airflow")

DAGS = """
from datetime import datetime, timedelta

from airflow.sdk import DAG

from anaplan_tasks.airflow.operators import AnaplanActionOperator, AnaplanImportOperator

# Spare retries: on a loaded machine Airflow itself may end a try (its API server too slow).
RETRY = {"retries": 3, "retry_delay": timedelta(seconds=1)}

with DAG("killed_while_waiting", schedule="@once", start_date=datetime(2024, 1, 1)):
    AnaplanImportOperator(
        task_id="load", action="Load Employees", source=SOURCE, **RETRY
    )

with DAG("killed_after_start_post", schedule="@once", start_date=datetime(2024, 1, 1)):
    AnaplanActionOperator(task_id="remove", action="Remove Inactive Employees", **RETRY)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    """The Airflow processes and their database."""

    def __init__(self, home: Path, env: dict[str, str]):
        self.home = home
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []

    def start(self, *args: str) -> None:
        log = (self.home / f"{args[0]}.log").open("wb")
        self.logs.append(log)
        self.processes.append(
            subprocess.Popen(
                [str(AIRFLOW), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        for log in self.logs:
            log.close()

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "airflow.db", timeout=30) as db:
            return list(db.execute(sql, args))

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 180) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = check()
            except sqlite3.OperationalError:  # tables not there yet, or the database busy
                found = None
            if found:
                return found
            time.sleep(0.2)
        logs = "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.home.glob("*.log"))
        )
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def task_process(self, dag_id: str) -> int:
        """The pid of the running task process of the DAG's one task."""
        [(ti_id,)] = self.query(
            "SELECT id FROM task_instance WHERE dag_id = ? AND state = 'running'", dag_id
        )
        title = f"airflow worker -- {uuid.UUID(ti_id)}"
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                if command.startswith(title):
                    return int(entry.name)
        raise AssertionError(f"no process titled {title!r}")


@pytest.fixture
def stack(emulator: Emulator, tmp_path: Path) -> Iterator[Stack]:
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    source = tmp_path / "employees.csv"
    source.write_bytes(employees_csv(1, 40))
    (home / "dags" / "crash_dags.py").write_text(f"SOURCE = {str(source)!r}\n{DAGS}")
    port = _free_port()
    connection = {
        "conn_type": "anaplan",
        "host": emulator.base_url,
        "login": DEMO_USER,
        "password": DEMO_PASSWORD,
        "extra": {"workspace": DEMO_WORKSPACE, "model": DEV_MODEL},
    }
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "a-secret-for-this-test-only-0123456789",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
        "AIRFLOW_CONN_ANAPLAN_DEFAULT": json.dumps(connection),
    }
    subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True, timeout=180
    )
    running = Stack(home, env)
    try:
        running.start("api-server", "--host", "127.0.0.1", "--port", str(port))
        running.start("dag-processor")
        running.start("scheduler", "--skip-serve-logs")
        yield running
    finally:
        running.stop()


def test_sigkill_of_the_task_process_never_starts_a_second_anaplan_task(
    emulator: Emulator, stack: Stack
) -> None:
    emulator.progress("fixed", seconds=6.0)
    # The action's start POST runs, then its answer is lost (the connection breaks): the client
    # reconciles by listing the action's tasks, and that listing is held 8 s. The task process
    # is killed in those 8 s: the task exists, its id never reached the task state store.
    emulator.running.control.set_faults(
        [
            FaultRule(fault="reset_after", method="POST", path="*/actions/*/tasks", times=1),
            FaultRule(fault="latency", method="GET", path="*/actions/*/tasks", latency=8, times=1),
        ],
        1,
    )

    def recorded(dag_id: str, task_id: str, with_task: bool) -> bool:
        rows = stack.query(
            "SELECT value FROM task_state_store WHERE dag_id = ? AND task_id = ? AND key = ?",
            dag_id,
            task_id,
            "anaplan_task",
        )
        return bool(rows) and (json.loads(rows[0][0])["task_id"] is not None) is with_task

    # 1. While waiting: the task id is recorded, the Anaplan task runs.
    stack.wait_for("the import's task id", lambda: recorded("killed_while_waiting", "load", True))
    os.kill(stack.task_process("killed_while_waiting"), signal.SIGKILL)

    # 2. Right after the start POST: the attempt is recorded, the task started, no id stored.
    def lost_answer() -> bool:
        rules = emulator.running.control.faults.snapshot()["rules"]
        return [rule["hits"] for rule in rules] == [1, 1]

    stack.wait_for("the action's start and its lost answer", lost_answer)
    assert recorded("killed_after_start_post", "remove", False)
    os.kill(stack.task_process("killed_after_start_post"), signal.SIGKILL)

    def finished() -> list[tuple[Any, ...]]:
        rows = stack.query("SELECT dag_id, state FROM dag_run")
        done = [row for row in rows if row[1] in ("success", "failed")]
        return rows if len(done) == 2 else []

    runs = dict(stack.wait_for("both DAG runs to end", finished, timeout=240))
    assert runs == {"killed_while_waiting": "success", "killed_after_start_post": "success"}
    tries = dict(stack.query("SELECT dag_id, try_number FROM task_instance"))
    assert tries["killed_while_waiting"] >= 2
    assert tries["killed_after_start_post"] >= 2
    # Counted by the emulator: one Anaplan task per DAG run.
    [imported] = emulator.task_ids("imports", "Load Employees")
    [removed] = emulator.task_ids("actions", "Remove Inactive Employees")
    summaries = dict(
        stack.query("SELECT dag_id, value FROM xcom WHERE key = 'return_value'")  # JSON text
    )
    assert json.loads(summaries["killed_while_waiting"])["task_id"] == imported
    assert json.loads(summaries["killed_after_start_post"])["task_id"] == removed
    logs = "".join(path.read_text(errors="replace") for path in stack.home.rglob("*.log"))
    assert f"re-attaching to Anaplan task {imported}" in logs
    assert f"adopting Anaplan task {removed}" in logs
