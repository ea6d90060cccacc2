"""Real DAGs in a real Airflow (SQLite metadata database in a temporary AIRFLOW_HOME), run with
`dag.test()` against the emulator over loopback.

Airflow reads its settings when first imported: the environment is set here, before any test
module imports it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_HOME = Path(tempfile.mkdtemp(prefix="anaplan-airflow-"))
(_HOME / "dags").mkdir()
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(_HOME / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
    }
)

import pytest  # noqa: E402

from anaplan_tasks import Client  # noqa: E402
from anaplan_tasks.emulator.demo import (  # noqa: E402
    DEMO_PASSWORD,
    DEMO_USER,
    DEMO_WORKSPACE,
    DEV_MODEL,
    PROD_MODEL,
)
from anaplan_tasks.emulator.engine.contract import Progression  # noqa: E402
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator  # noqa: E402

CONN_ID = "anaplan_default"


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata database, created once."""
    from airflow.utils import db

    db.initdb()
    return _HOME


@dataclass
class Emulator:
    """The running emulator, the demo ids and a client for looking at what it did."""

    running: RunningEmulator
    workspace_id: str
    dev_id: str
    prod_id: str

    @property
    def base_url(self) -> str:
        return self.running.base_url

    def client(self, model: str | None = None) -> Client:
        """A client of the dev model (or another, by id)."""
        return Client(
            base_url=self.base_url,
            email=DEMO_USER,
            password=DEMO_PASSWORD,
            workspace_id=self.workspace_id,
            model_id=model or self.dev_id,
            env={},
        )

    def progress(self, mode: str, *, seconds: float = 0.0, polls: int = 0) -> None:
        """How tasks progress (ALM tasks follow only `polls`)."""
        progression = Progression(mode=mode, seconds=seconds, polls=polls)  # type: ignore[arg-type]
        self.running.control.set_progression(progression)

    def task_ids(self, kind: str, action: str, model: str | None = None) -> list[str]:
        """The action's tasks as the emulator lists them (everyone's), oldest first."""
        with self.client(model) as client:
            return [item.id for item in getattr(client, kind).list_tasks(action)]


@pytest.fixture(scope="session")
def _running() -> Iterator[Emulator]:
    with run_emulator(demo=True) as running:
        settings: dict[str, Any] = {"email": DEMO_USER, "password": DEMO_PASSWORD, "env": {}}
        with Client(base_url=running.base_url, **settings) as client:
            workspace = client.workspaces.list()[0]
            models = {m.name: m.id for m in client.models.list(workspace.id)}
        yield Emulator(running, workspace.id, models[DEV_MODEL], models[PROD_MODEL])


@pytest.fixture
def emulator(_running: Emulator, airflow_db: Path) -> Iterator[Emulator]:
    """The emulator, reset, with the `anaplan_default` connection pointing at it."""
    _running.running.control.reset()
    connection = {
        "conn_type": "anaplan",
        "host": _running.base_url,
        "login": DEMO_USER,
        "password": DEMO_PASSWORD,
        "extra": {"workspace": DEMO_WORKSPACE, "model": DEV_MODEL},
    }
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(connection)
    yield _running
    _running.running.control.reset()


@dataclass
class Run:
    """A finished DAG run: its state per task and the XComs pushed."""

    dag_id: str
    run_id: str
    state: str
    states: dict[str, str]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.scalars(
                XComModel.get_many(
                    run_id=self.run_id, key=key, task_ids=task_id, dag_ids=self.dag_id
                )
            ).first()
            return None if row is None else XComModel.deserialize_value(row)


_RUN_AFTER = datetime(2030, 1, 1, tzinfo=UTC)


def run_id_for(run_after: datetime) -> str:
    """The run id `dag.test(run_after=…, logical_date=…)` gives its run."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunType

    return DagRun.generate_run_id(
        run_type=DagRunType.MANUAL, logical_date=run_after, run_after=run_after
    )


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def run_dag(airflow_db: Path) -> Callable[..., Run]:
    """Build a DAG with `build(dag)` inside it, serialise it as the dag processor would, and
    run it with `dag.test()`. `before(run_id)` runs once the run id is known."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.sdk import DAG

    DagBundlesManager().sync_bundles_to_db()

    def run(
        build: Callable[[], object] | None = None,
        *,
        before: Callable[[str], object] | None = None,
        dag_id: str | None = None,
        dag: Any = None,
    ) -> Run:
        number = next(_counter)
        if dag is None:
            name = dag_id or f"anaplan_test_{number}"
            with DAG(name, schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
                assert build is not None
                build()
        name = dag.dag_id
        bag = DagBag(dag_folder=str(airflow_db / "dags"))
        bag.bag_dag(dag)
        sync_bag_to_db(bag, "dags-folder", None)
        run_after = _RUN_AFTER + timedelta(minutes=number)
        if before is not None:
            before(run_id_for(run_after))
        finished = dag.test(run_after=run_after, logical_date=run_after)
        states = {ti.task_id: str(ti.state) for ti in finished.get_task_instances()}
        return Run(name, finished.run_id, str(finished.state), states)

    return run


def seed_state(dag_id: str, run_id: str, task_id: str, value: dict[str, Any]) -> None:
    """Write a task's state store entry as an earlier attempt of it would have."""
    from airflow._shared.state import TaskScope
    from airflow.state import get_state_backend
    from airflow.utils.session import create_session

    scope = TaskScope(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=-1)
    with create_session() as session:
        get_state_backend().set(scope, "anaplan_task", json.dumps(value), session=session)


def read_state(dag_id: str, run_id: str, task_id: str) -> Any:
    """A task's state store entry (None when absent)."""
    from airflow._shared.state import TaskScope
    from airflow.state import get_state_backend
    from airflow.utils.session import create_session

    scope = TaskScope(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=-1)
    with create_session() as session:
        text = get_state_backend().get(scope, "anaplan_task", session=session)
    return None if text is None else json.loads(text)


def employees_csv(first: int, count: int, *, region: str = "EMEA") -> bytes:
    """Employees with ids `E<first>` …; a region other than the demo's four rejects each row."""
    lines = ['"Employee ID",Name,Region,"Start Date",Active,Salary,FTE']
    for number in range(first, first + count):
        lines.append(f"E{number:07d},Person {number},{region},2020-01-01,true,50000,1")
    return ("\n".join(lines) + "\n").encode()


def deferred(caplog: pytest.LogCaptureFixture) -> bool:
    """Whether a task of the run deferred and its trigger ran (dag.test runs it in line)."""
    return any("running trigger in line" in record.getMessage() for record in caplog.records)


def failure_logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    """Everything the run logged, where the task's failure message shows."""
    out, err = capfd.readouterr()
    return "\n".join([out, err, *(record.getMessage() for record in caplog.records)])


@contextmanager
def cancelled_once_started(emulator: Emulator, kind: str, action: str) -> Iterator[list[str]]:
    """Cancel the action's first task from outside (another user) as soon as it exists.

    Tasks stay queued (manual progression) until cancelled, so the cancel lands mid-wait.
    """
    emulator.progress("manual")
    cancelled: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        with emulator.client() as client:
            namespace = getattr(client, kind)
            while not stop.is_set():
                listed = namespace.list_tasks(action)
                if listed:
                    namespace.cancel(action, listed[0].id)
                    cancelled.append(listed[0].id)
                    return
                stop.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield cancelled
    finally:
        stop.set()
        watcher.join(10)
