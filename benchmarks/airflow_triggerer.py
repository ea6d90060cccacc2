"""Many Anaplan tasks deferred at once in one Airflow triggerer.

One Airflow `triggerer` process (SQLite metadata database in a temporary AIRFLOW_HOME) waits on
N Anaplan tasks at once, one `AnaplanTaskTrigger` each, as deferrable operators leave them:
each task instance DEFERRED with its trigger, the Anaplan task started. The emulator runs in
this process, with one model per task (Anaplan runs one task at a time per model) and every
task taking the same fixed time. Reported:

- worker slots held while they wait: task instances RUNNING (sampled; deferred ones hold none);
- the triggerer's CPU (its process and children, from /proc) per status read it made;
- status reads in total (the emulator's counts) against the async client's own waits on the
  same number of tasks of the same length, in this process.

Run (from the repository root, in the project's venv):

    .venv/bin/python benchmarks/airflow_triggerer.py [--tasks 200] [--seconds 20] \
        [--log-level WARNING]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HOME = Path(tempfile.mkdtemp(prefix="anaplan-triggerer-"))
(HOME / "dags").mkdir()
ENV = {
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(HOME / "dags"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__TRIGGERER__CAPACITY": "1000",
}
os.environ.update(ENV)

from anaplan_tasks import AsyncClient, Client  # noqa: E402
from anaplan_tasks.emulator.engine.contract import Progression  # noqa: E402
from anaplan_tasks.emulator.server import run_emulator  # noqa: E402

USER, PASSWORD = "bench@example.com", "bench"


def definition(models: int) -> str:
    """A workspace with `models` small models, each with a delete action."""
    parts = [
        f'[[users]]\nemail = "{USER}"\npassword = "{PASSWORD}"\n',
        f'[[workspaces]]\nname = "Bench"\nadmins = ["{USER}"]\n',
    ]
    for number in range(models):
        parts.append(
            f"""
[[workspaces.models]]
name = "M{number:04d}"
[[workspaces.models.lists]]
name = "Items"
properties = [{{ name = "Active", format = "boolean" }}]
items = [{{ code = "A", name = "A" }}]
[[workspaces.models.delete_actions]]
name = "Purge"
list = "Items"
selector = "Active"
select_when = false
"""
        )
    return "\n".join(parts)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants."""
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def start_tasks(base_url: str, models: list[str], workspace: str) -> list[tuple[str, str, str]]:
    """Start one delete action per model; (model id, action id, task id) each."""
    started = []
    with Client(base_url=base_url, email=USER, password=PASSWORD, env={}) as client:
        for model in models:
            scoped = client.with_model(model, workspace)
            ref = scoped.actions.start("Purge")
            started.append((model, ref.action_id, ref.task_id))
            scoped.close()
    return started


def prepare_run(count: int) -> str:
    """A DAG run with `count` task instances (not yet deferred); its run id."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dagrun import DagRun, get_or_create_dagrun
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.utils import db
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    db.initdb()
    DagBundlesManager().sync_bundles_to_db()
    with DAG("anaplan_deferred", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
        for number in range(count):
            EmptyOperator(task_id=f"wait_{number:04d}")
    bag = DagBag(dag_folder=str(HOME / "dags"))
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    now = datetime.now(UTC)
    scheduler_dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    run_id = DagRun.generate_run_id(run_type=DagRunType.MANUAL, logical_date=now, run_after=now)
    with create_session() as session:
        get_or_create_dagrun(
            dag=scheduler_dag,  # type: ignore[arg-type]
            start_date=now,
            logical_date=now,
            data_interval=None,
            run_after=now,
            run_id=run_id,
            session=session,
            conf=None,
            triggered_by=DagRunTriggeredByType.TEST,
            triggering_user_name="benchmark",
        )
        session.commit()
    return run_id


def defer_all(run_id: str, started: list[tuple[str, str, str]], workspace: str) -> None:
    """Each task instance of the run DEFERRED on an AnaplanTaskTrigger for one started task,
    as a deferrable operator leaves it."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    from anaplan_tasks.airflow.triggers import AnaplanTaskTrigger

    with create_session() as session:
        instances = {
            ti.task_id: ti
            for ti in session.query(TaskInstance).filter(TaskInstance.run_id == run_id)
        }
        for number, (model, action, task) in enumerate(started):
            trigger = Trigger.from_object(
                AnaplanTaskTrigger(
                    anaplan_conn_id="anaplan_default",
                    kind="actions",
                    action_id=action,
                    task_id=task,
                    workspace=workspace,
                    model=model,
                )
            )
            session.add(trigger)
            session.flush()
            ti = instances[f"wait_{number:04d}"]
            ti.state = TaskInstanceState.DEFERRED
            ti.trigger_id = trigger.id
            ti.next_method = "execute_complete"
            ti.try_number = 1
        session.commit()


def wait_until_up(triggerer: subprocess.Popen[bytes]) -> None:
    """Until the triggerer's job has its first heartbeat in the database."""
    from airflow.jobs.job import Job
    from airflow.utils.session import create_session
    from sqlalchemy import select

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if triggerer.poll() is not None:
            raise SystemExit(f"the triggerer stopped; see {HOME / 'triggerer.log'}")
        with create_session() as session:
            job = session.scalars(select(Job).where(Job.job_type == "TriggererJob")).first()
            if job is not None and job.latest_heartbeat is not None:
                time.sleep(2)  # its trigger runner is up too
                return
        time.sleep(0.5)
    raise SystemExit("the triggerer did not start")


def states(run_id: str) -> dict[str, int]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.state, func.count())
            .where(TaskInstance.run_id == run_id)
            .group_by(TaskInstance.state)
        ).all()
    return {str(state): count for state, count in rows}


async def client_waits(base_url: str, started: list[tuple[str, str, str]], workspace: str) -> None:
    from anaplan_tasks.client import TaskRef

    async with AsyncClient(base_url=base_url, email=USER, password=PASSWORD, env={}) as client:

        async def one(model: str, action: str, task: str) -> None:
            scoped = client.with_model(model, workspace)
            await scoped.tasks.wait(TaskRef("actions", action, task))
            await scoped.aclose()

        await asyncio.gather(*(one(*item) for item in started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of every task")
    parser.add_argument(
        "--log-level", default="INFO", help="the triggerer's logging level (INFO logs each read)"
    )
    options = parser.parse_args()
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    definition_file = HOME / "bench.toml"
    definition_file.write_text(definition(options.tasks))
    with run_emulator(definitions=[definition_file]) as emulator:
        with Client(base_url=emulator.base_url, email=USER, password=PASSWORD, env={}) as client:
            workspace = client.workspaces.list()[0].id
            models = sorted(
                (m.id for m in client.models.list(workspace)),
            )
        connection = {
            "conn_type": "anaplan",
            "host": emulator.base_url,
            "login": USER,
            "password": PASSWORD,
            "extra": {"workspace": workspace},
        }
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            **ENV,
            "AIRFLOW_CONN_ANAPLAN_DEFAULT": json.dumps(connection),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": options.log_level,
        }
        os.environ["AIRFLOW_CONN_ANAPLAN_DEFAULT"] = env["AIRFLOW_CONN_ANAPLAN_DEFAULT"]
        emulator.control.set_progression(Progression(mode="fixed", seconds=options.seconds))

        # 1. The triggerer, started and idle; then the tasks start and defer to it.
        run_id = prepare_run(len(models))
        log = (HOME / "triggerer.log").open("wb")
        triggerer = subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), "triggerer", "--skip-serve-logs"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_up(triggerer)
            polls_before = sum(emulator.control.poll_counts().values())
            began = time.monotonic()
            started = start_tasks(emulator.base_url, models, workspace)
            defer_all(run_id, started, workspace)
            cpu_start = None
            running_seen = 0
            deferred_max = 0
            while True:
                counts = states(run_id)
                deferred = counts.get("deferred", 0)
                deferred_max = max(deferred_max, deferred)
                running_seen = max(running_seen, counts.get("running", 0))
                reads = sum(emulator.control.poll_counts().values()) - polls_before
                if cpu_start is None and reads > 0:  # started up: the triggers are running
                    cpu_start = cpu_seconds(triggerer.pid)
                if deferred == 0:
                    break
                if triggerer.poll() is not None:
                    raise SystemExit(f"the triggerer stopped; see {HOME / 'triggerer.log'}")
                if time.monotonic() - began > options.seconds * 4 + 120:
                    raise SystemExit(f"timed out; see {HOME / 'triggerer.log'}")
                time.sleep(0.5)
            cpu_used = cpu_seconds(triggerer.pid) - (cpu_start or 0.0)
            elapsed = time.monotonic() - began
        finally:
            os.killpg(triggerer.pid, signal.SIGTERM)
            triggerer.wait(30)
            log.close()
        trigger_reads = sum(emulator.control.poll_counts().values()) - polls_before
        sign_ins = emulator.control.request_counts().get("POST /token/authenticate", 0)
        resumed = states(run_id)

        # 2. The async client alone, the same number of tasks of the same length.
        started_again = start_tasks(emulator.base_url, models, workspace)
        polls_before = sum(emulator.control.poll_counts().values())
        client_began = time.monotonic()
        asyncio.run(client_waits(emulator.base_url, started_again, workspace))
        client_elapsed = time.monotonic() - client_began
        client_reads = sum(emulator.control.poll_counts().values()) - polls_before

    report: dict[str, Any] = {
        "tasks": options.tasks,
        "triggerer_log_level": options.log_level,
        "task_seconds": options.seconds,
        "task_instances_deferred_at_once": deferred_max,
        "worker_slots_held_while_waiting": running_seen,
        "resumed_states": resumed,
        "triggerer_wall_seconds": round(elapsed, 1),
        "triggerer_cpu_seconds": round(cpu_used, 2),
        "trigger_status_reads": trigger_reads,
        "sign_ins_before_the_client_phase": sign_ins,
        "triggerer_cpu_ms_per_status_read": round(1000 * cpu_used / max(trigger_reads, 1), 2),
        "client_status_reads": client_reads,
        "client_wall_seconds": round(client_elapsed, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
