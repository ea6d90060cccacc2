"""Export, process and model action operators in real DAG runs, plain and deferrable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from anaplan_tasks.airflow.operators import (
    AnaplanActionOperator,
    AnaplanExportOperator,
    AnaplanImportOperator,
    AnaplanProcessOperator,
)

from .conftest import Emulator, Run, cancelled_once_started, deferred, employees_csv

pytestmark = pytest.mark.slow

MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["plain", "deferrable"])


def _load(tmp_path: Path, rows: int = 12) -> AnaplanImportOperator:
    source = tmp_path / "employees.csv"
    source.write_bytes(employees_csv(1, rows))
    return AnaplanImportOperator(task_id="employees", action="Load Employees", source=source)


@MODES
def test_an_export_runs_and_downloads_its_file(
    emulator: Emulator,
    run_dag: Callable[..., Run],
    tmp_path: Path,
    deferrable: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.progress("fixed", seconds=1.0)
    headcount = AnaplanImportOperator
    dest = tmp_path / "out" / "headcount.csv"
    (tmp_path / "out").mkdir()

    def build() -> None:
        load = _load(tmp_path)
        cells = headcount(task_id="headcount", action="Load Headcount", deferrable=deferrable)
        export = AnaplanExportOperator(
            task_id="export", action="Headcount Export", dest=str(dest), deferrable=deferrable
        )
        load >> cells >> export  # type: ignore[operator]

    run = run_dag(build)

    assert run.states == {"employees": "success", "headcount": "success", "export": "success"}
    assert deferred(caplog) is deferrable
    summary = run.xcom("export")
    [task_id] = emulator.task_ids("exports", "Headcount Export")
    assert summary["task_id"] == task_id == run.xcom("export", "anaplan_task_id")
    assert summary["successful"] is True
    assert summary["dest"] == str(dest)
    assert summary["bytes"] == dest.stat().st_size > 0
    lines = dest.read_text().splitlines()
    assert len(lines) == 13  # a header and the 12 employees
    assert "E0000012" in dest.read_text()


def test_an_export_writes_to_object_storage(
    emulator: Emulator, run_dag: Callable[..., Run], tmp_path: Path
) -> None:
    dest = ObjectStoragePath(f"file://{tmp_path}/headcount.csv")

    run = run_dag(
        lambda: AnaplanExportOperator(task_id="export", action="Headcount Export", dest=dest)
    )

    assert run.states == {"export": "success"}
    assert run.xcom("export")["bytes"] == (tmp_path / "headcount.csv").stat().st_size > 0


@MODES
def test_an_export_cancelled_on_the_server_fails_the_task(
    emulator: Emulator, run_dag: Callable[..., Run], tmp_path: Path, deferrable: bool
) -> None:
    with cancelled_once_started(emulator, "exports", "Headcount Export") as cancelled:
        run = run_dag(
            lambda: AnaplanExportOperator(
                task_id="export",
                action="Headcount Export",
                dest=str(tmp_path / "never.csv"),
                deferrable=deferrable,
            )
        )

    assert run.states == {"export": "failed"}
    assert run.xcom("export", "anaplan_task_id") == cancelled[0]
    assert emulator.task_ids("exports", "Headcount Export") == cancelled
    assert not (tmp_path / "never.csv").exists()


@MODES
def test_a_process_pushes_its_nested_results(
    emulator: Emulator,
    run_dag: Callable[..., Run],
    tmp_path: Path,
    deferrable: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.progress("fixed", seconds=1.0)

    def build() -> None:
        _load(tmp_path) >> AnaplanProcessOperator(  # type: ignore[operator]
            task_id="nightly", action="Nightly Load", deferrable=deferrable
        )

    run = run_dag(build)

    assert run.states == {"employees": "success", "nightly": "success"}
    assert deferred(caplog) is deferrable
    summary = run.xcom("nightly")
    [task_id] = emulator.task_ids("processes", "Nightly Load")
    assert summary["task_id"] == task_id
    assert summary["kind"] == "processes"
    nested = summary["result"]["nested_results"]
    # Load Employees, Load Headcount, Remove Inactive Employees, Headcount Export.
    assert [part["object_id"][:3] for part in nested] == ["112", "112", "117", "116"]
    assert all(part["successful"] for part in nested)
    assert nested[0]["counts"]["successRowCount"] == 12


@MODES
def test_a_process_whose_import_cannot_run_fails_with_the_reason(
    emulator: Emulator, run_dag: Callable[..., Run], deferrable: bool
) -> None:
    with emulator.client() as client:
        client.files.upload("employees.csv", b'"Employee ID",Name\nE1,Someone\n')

    run = run_dag(
        lambda: AnaplanProcessOperator(
            task_id="nightly", action="Nightly Load", deferrable=deferrable
        )
    )

    assert run.states == {"nightly": "failed"}
    summary = run.xcom("nightly", "anaplan_summary")
    assert summary["successful"] is False
    assert summary["result"]["nested_results"][0]["successful"] is False
    assert summary["result"]["nested_results"][0]["failures"]


@MODES
def test_a_delete_action_runs(
    emulator: Emulator, run_dag: Callable[..., Run], deferrable: bool
) -> None:
    emulator.progress("fixed", seconds=1.0)

    run = run_dag(
        lambda: AnaplanActionOperator(
            task_id="remove", action="Remove Inactive Employees", deferrable=deferrable
        )
    )

    assert run.states == {"remove": "success"}
    summary = run.xcom("remove")
    assert summary["kind"] == "actions"
    assert summary["task_id"] == emulator.task_ids("actions", "Remove Inactive Employees")[0]
    assert summary["successful"] is True


@MODES
def test_a_delete_action_cancelled_on_the_server_fails_the_task(
    emulator: Emulator, run_dag: Callable[..., Run], deferrable: bool
) -> None:
    with cancelled_once_started(emulator, "actions", "Remove Inactive Employees") as cancelled:
        run = run_dag(
            lambda: AnaplanActionOperator(
                task_id="remove", action="Remove Inactive Employees", deferrable=deferrable
            )
        )

    assert run.states == {"remove": "failed"}
    assert run.xcom("remove", "anaplan_task_id") == cancelled[0]
    assert emulator.task_ids("actions", "Remove Inactive Employees") == cancelled
