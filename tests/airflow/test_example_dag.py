"""The docs' example DAG, run end to end against the emulator."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from anaplan_tasks.emulator.demo import write_employees_csv

from .conftest import Emulator, Run

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "airflow" / "example_dag.py"


def test_the_example_dag_loads_imports_exports_and_promotes(
    emulator: Emulator, run_dag: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("ANAPLAN_LANDING", f"file://{tmp_path}")
    monkeypatch.setenv("AIRFLOW_VAR_ANAPLAN_DEV_MODEL_ID", emulator.dev_id)
    answer = httpx2.post(
        f"{emulator.base_url}/_emulator/models/{emulator.dev_id}/structure",
        json={"op": "addLineItem", "module": "Headcount", "lineItem": {"name": "Bonus"}},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    with emulator.client() as dev:
        release = dev.alm.create_revision("Release 1")
    bag = DagBag(dag_folder=str(EXAMPLE))
    assert bag.import_errors == {}
    dag = bag.dags["anaplan_nightly"]
    day = (tmp_path / "2030-01-01").resolve()
    # The run's `ds` is its logical date; the DAG reads {LANDING}/{ds}/employees.csv.
    os.makedirs(day, exist_ok=True)
    write_employees_csv(day / "employees.csv", rows=50, bad_rows=2, seed=3)

    run = run_dag(dag=dag)

    assert run.states == {
        "load_employees": "success",
        "import_ended": "success",
        "nightly_load": "success",
        "export_headcount": "success",
        "promote_structure": "success",
    }
    assert run.xcom("load_employees")["failed_rows"] > 0
    [dump] = run.xcom("load_employees", "failure_dumps")
    assert dump.startswith(f"file://{day}/rejected/")
    assert (day / "headcount.csv").stat().st_size == run.xcom("export_headcount")["bytes"]
    assert run.xcom("import_ended")["task_id"] == run.xcom("load_employees", "anaplan_task_id")
    assert run.xcom("promote_structure")["source_revision_id"] == release.id
