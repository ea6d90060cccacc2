"""The import operator in real DAG runs: upload, run, XCom, failures and their dumps."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from anaplan_tasks.airflow.operators import AnaplanImportOperator

from .conftest import Emulator, Run, employees_csv

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("deferrable", [False, True], ids=["plain", "deferrable"])
def test_an_import_uploads_its_file_runs_and_pushes_its_summary(
    emulator: Emulator, run_dag: Callable[..., Run], tmp_path: Path, deferrable: bool
) -> None:
    source = tmp_path / "employees.csv"
    source.write_bytes(employees_csv(1, 20))
    emulator.progress("fixed", seconds=1.0)

    run = run_dag(
        lambda: AnaplanImportOperator(
            task_id="load",
            action="Load Employees",
            source=str(source),
            deferrable=deferrable,
        )
    )

    assert run.states == {"load": "success"}
    [task_id] = emulator.task_ids("imports", "Load Employees")
    assert run.xcom("load", "anaplan_task_id") == task_id
    summary = run.xcom("load")
    assert summary["task_id"] == task_id
    assert summary["successful"] is True
    assert summary["failed_rows"] == 0
    assert summary["action_name"] == "Load Employees"
    assert summary["result"]["counts"]["successRowCount"] == 20
    assert run.xcom("load", "failure_dumps") is None
