"""The ALM sync operator and the task sensor in real DAG runs, plain and deferrable."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest

from anaplan_tasks.airflow.operators import AnaplanAlmSyncOperator
from anaplan_tasks.airflow.sensors import AnaplanTaskSensor
from anaplan_tasks.emulator.demo import PROD_MODEL

from .conftest import Emulator, Run, deferred, employees_csv

pytestmark = pytest.mark.slow

MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["plain", "deferrable"])


def _new_dev_revision(emulator: Emulator, name: str) -> str:
    """A structure change in dev, tagged with a revision prod can take."""
    answer = httpx2.post(
        f"{emulator.base_url}/_emulator/models/{emulator.dev_id}/structure",
        json={"op": "addLineItem", "module": "Headcount", "lineItem": {"name": name}},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    with emulator.client() as dev:
        return dev.alm.create_revision(name).id


@MODES
def test_an_alm_sync_takes_the_newest_revision_into_prod(
    emulator: Emulator,
    run_dag: Callable[..., Run],
    deferrable: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    revision = _new_dev_revision(emulator, "Bonus")
    emulator.progress("polls", polls=3)  # the sync is done at its third status read

    run = run_dag(
        lambda: AnaplanAlmSyncOperator(
            task_id="promote",
            model=PROD_MODEL,
            source_model=emulator.dev_id,
            deferrable=deferrable,
        )
    )

    assert run.states == {"promote": "success"}
    assert deferred(caplog) is deferrable
    summary = run.xcom("promote")
    with emulator.client(emulator.prod_id) as prod:
        [listed] = prod.alm.list_tasks("syncTasks")
        assert prod.alm.latest_revision().id == revision  # type: ignore[union-attr]
    assert summary["task_id"] == listed.id == run.xcom("promote", "anaplan_task_id")
    assert summary["model_id"] == emulator.prod_id
    assert summary["successful"] is True
    assert summary["source_revision_id"] == revision


@MODES
def test_an_incompatible_sync_fails_with_anaplans_reason(
    emulator: Emulator, run_dag: Callable[..., Run], deferrable: bool
) -> None:
    revision = _new_dev_revision(emulator, "Bonus")
    with emulator.client(emulator.prod_id) as prod:
        prod.alm.sync(emulator.dev_id, source_revision_id=revision)

    run = run_dag(
        lambda: AnaplanAlmSyncOperator(
            task_id="promote",
            model=emulator.prod_id,
            source_model=emulator.dev_id,
            source_revision_id=revision,  # prod has it already: incompatible
            deferrable=deferrable,
        )
    )

    assert run.states == {"promote": "failed"}
    summary = run.xcom("promote", "anaplan_summary")
    assert summary["successful"] is False
    assert "incompatible" in summary["description"]
    with emulator.client(emulator.prod_id) as prod:
        assert len(prod.alm.list_tasks("syncTasks")) == 2


@MODES
def test_the_sensor_waits_for_a_task_started_elsewhere(
    emulator: Emulator,
    run_dag: Callable[..., Run],
    deferrable: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.progress("fixed", seconds=1.5)
    with emulator.client() as client:
        client.files.upload("employees.csv", employees_csv(1, 7))
        started = client.imports.start("Load Employees")

    run = run_dag(
        lambda: AnaplanTaskSensor(
            task_id="wait",
            kind="imports",
            action="Load Employees",
            task_id_to_watch="{{ params.anaplan_task }}",
            params={"anaplan_task": started.task_id},
            poke_interval=0.2,
            deferrable=deferrable,
        )
    )

    assert run.states == {"wait": "success"}
    assert deferred(caplog) is deferrable
    summary = run.xcom("wait")
    assert summary["task_id"] == started.task_id
    assert summary["successful"] is True
    assert summary["result"]["counts"]["successRowCount"] == 7
    assert emulator.task_ids("imports", "Load Employees") == [started.task_id]


@MODES
def test_the_sensor_fails_when_the_task_fails(
    emulator: Emulator, run_dag: Callable[..., Run], deferrable: bool
) -> None:
    emulator.progress("fixed", seconds=1.0)
    with emulator.client() as client:
        client.files.upload("employees.csv", employees_csv(1, 4, region="ATLANTIS"))
        started = client.imports.start("Load Employees")

    run = run_dag(
        lambda: AnaplanTaskSensor(
            task_id="wait",
            kind="imports",
            action="Load Employees",
            task_id_to_watch=started.task_id,
            poke_interval=0.2,
            deferrable=deferrable,
        )
    )

    assert run.states == {"wait": "failed"}
    summary = run.xcom("wait", "anaplan_summary")
    assert summary["successful"] is False
    assert summary["failed_rows"] == 4
