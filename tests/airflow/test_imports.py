"""The import operator in real DAG runs: upload, run, XCom, failures and their dumps."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from anaplan_tasks.airflow.operators import AnaplanImportOperator

from .conftest import Emulator, Run, deferred, employees_csv, failure_logged

pytestmark = pytest.mark.slow

MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["plain", "deferrable"])


@MODES
def test_an_import_uploads_its_file_runs_and_pushes_its_summary(
    emulator: Emulator,
    run_dag: Callable[..., Run],
    tmp_path: Path,
    deferrable: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = tmp_path / "employees.csv"
    source.write_bytes(employees_csv(1, 20))
    emulator.progress("fixed", seconds=1.0)

    run = run_dag(
        lambda: AnaplanImportOperator(
            task_id="load", action="Load Employees", source=str(source), deferrable=deferrable
        )
    )

    assert run.states == {"load": "success"}
    assert deferred(caplog) is deferrable
    [task_id] = emulator.task_ids("imports", "Load Employees")
    assert run.xcom("load", "anaplan_task_id") == task_id
    summary = run.xcom("load")
    assert summary["task_id"] == task_id
    assert summary["successful"] is True
    assert summary["failed_rows"] == 0
    assert summary["action_name"] == "Load Employees"
    assert summary["result"]["counts"]["successRowCount"] == 20
    assert run.xcom("load", "failure_dumps") is None
    with emulator.client() as client:
        assert len(client.files.get("employees.csv").name) > 0
        assert client.files.download("employees.csv", tmp_path / "back.csv") > 0
    assert (tmp_path / "back.csv").read_bytes() == source.read_bytes()


@MODES
def test_a_failed_import_fails_the_task_with_the_clients_message_and_saves_the_dump(
    emulator: Emulator,
    run_dag: Callable[..., Run],
    tmp_path: Path,
    deferrable: bool,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(employees_csv(1, 5, region="ATLANTIS"))
    dumps = tmp_path / "dumps"

    run = run_dag(
        lambda: AnaplanImportOperator(
            task_id="load",
            action="Load Employees",
            source=source,
            dump_dir=str(dumps),
            deferrable=deferrable,
        )
    )

    assert run.states == {"load": "failed"}
    [task_id] = emulator.task_ids("imports", "Load Employees")
    assert run.xcom("load", "anaplan_task_id") == task_id
    summary = run.xcom("load", "anaplan_summary")
    assert summary["successful"] is False
    assert summary["failed_rows"] == 5
    [dump] = run.xcom("load", "failure_dumps")
    assert dump == str(dumps / f"{task_id}.csv")
    with Path(dump).open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["_Status_"] for row in rows] == ["E"] * 5
    # The same message the client's TaskFailedError carries.
    with emulator.client() as client:
        from anaplan_tasks import TaskFailedError

        with pytest.raises(TaskFailedError) as caught:
            client.imports.wait(client.imports.start("Load Employees"))  # the same bad file
    expected = str(caught.value).replace(caught.value.task.id, task_id)
    assert expected in failure_logged(caplog, capfd)


def test_rejected_rows_of_a_successful_import_are_pushed_or_fail_it_when_asked(
    emulator: Emulator, run_dag: Callable[..., Run], tmp_path: Path
) -> None:
    good_and_bad = (
        employees_csv(1, 10)
        + employees_csv(11, 2, region="ATLANTIS")[
            len(b'"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\n') :
        ]
    )
    source = tmp_path / "mixed.csv"
    source.write_bytes(good_and_bad)
    dumps = ObjectStoragePath(f"file://{tmp_path}/store")

    def build() -> None:
        AnaplanImportOperator(
            task_id="lenient", action="Load Employees", source=str(source), dump_dir=dumps
        ) >> AnaplanImportOperator(  # type: ignore[operator]
            task_id="strict",
            action="Load Employees",
            source=str(source),
            fail_on_rejected_rows=True,
            dump_dir=dumps,
            trigger_rule="all_done",
        )

    run = run_dag(build)

    assert run.states == {"lenient": "success", "strict": "failed"}
    lenient = run.xcom("lenient")
    assert lenient["successful"] is True
    assert lenient["failed_rows"] == 2
    [lenient_dump] = run.xcom("lenient", "failure_dumps")
    assert lenient_dump.startswith("file://")
    assert ObjectStoragePath(lenient_dump).read_text().count('\n"E",') == 2
    strict = run.xcom("strict", "anaplan_summary")
    assert strict["successful"] is True
    assert strict["failed_rows"] == 2
    assert run.xcom("strict", "failure_dumps")
    assert len(emulator.task_ids("imports", "Load Employees")) == 2


def test_an_object_storage_source_is_streamed_up(
    emulator: Emulator, run_dag: Callable[..., Run], tmp_path: Path
) -> None:
    (tmp_path / "employees.csv").write_bytes(employees_csv(1, 30))
    source = ObjectStoragePath(f"file://{tmp_path}/employees.csv")

    run = run_dag(
        lambda: AnaplanImportOperator(task_id="load", action="Load Employees", source=source)
    )

    assert run.states == {"load": "success"}
    assert run.xcom("load")["result"]["counts"]["successRowCount"] == 30


def test_templated_fields_render_from_params(
    emulator: Emulator, run_dag: Callable[..., Run], tmp_path: Path
) -> None:
    (tmp_path / "employees.csv").write_bytes(employees_csv(1, 3))

    run = run_dag(
        lambda: AnaplanImportOperator(
            task_id="load",
            action="{{ params.import_name }}",
            source=str(tmp_path) + "/{{ params.file }}",
            params={"import_name": "Load Employees", "file": "employees.csv"},
        )
    )

    assert run.states == {"load": "success"}
    assert run.xcom("load")["action_name"] == "Load Employees"


def test_an_unknown_import_fails_before_anything_starts(
    emulator: Emulator, run_dag: Callable[..., Run]
) -> None:
    run = run_dag(lambda: AnaplanImportOperator(task_id="load", action="Load Employes"))

    assert run.states == {"load": "failed"}
    assert emulator.task_ids("imports", "Load Employees") == []
