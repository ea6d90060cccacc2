"""The sync client against the emulator: the jobs an integration engineer runs every night."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from anaplan_tasks.client import Client, ProgressUpdate
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.demo import bad_rows_of, generate_employees_csv
from anaplan_tasks.errors import (
    ActionNotFoundError,
    ChunkUploadError,
    ConfigurationError,
    NotFoundError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
)

from .conftest import Emulator, employees_csv


def test_upload_import_and_wait(client: Client, emulator: Emulator, tmp_path: Path) -> None:
    source = tmp_path / "employees.csv"
    source.write_bytes(b"".join(generate_employees_csv(2000, seed=3)))
    updates: list[ProgressUpdate] = []
    task = client.imports.run("Load Employees", source=source, on_progress=updates.append)
    assert task.task_state == "COMPLETE"
    assert task.result.successful
    (detail,) = task.result.details
    assert detail.value_map["successRowCount"] == 2000
    assert emulator.requests("POST", "/tasks") == 1
    assert all(0.0 <= update.progress <= 1.0 for update in updates)


def test_failed_import_names_the_problem_and_its_dump_rows_are_one_call_away(
    client: Client,
) -> None:
    with pytest.raises(TaskFailedError) as caught:
        client.imports.run("Load Employees", source=employees_csv(1, 5, region="ATLANTIS"))
    error = caught.value
    assert "import 'Load Employees'" in str(error)
    assert "5 rows failed" in str(error)
    assert error.result.successful is False
    rows = error.dumps.rows()
    assert [row.status for row in rows] == ["E"] * 5
    assert [row.line for row in rows] == [2, 3, 4, 5, 6]
    assert all(row.errors for row in rows)
    assert rows[0].columns["Employee ID"] == "E0000001"


def test_rejected_rows_of_a_successful_import_are_readable_too(client: Client) -> None:
    data = b"".join(generate_employees_csv(100, bad_rows=4, seed=1))
    task = client.imports.run("Load Employees", source=data)
    assert task.result.successful
    rows = client.tasks.dumps(task).rows()
    # The salary column is not mapped by this import: 3 of the 4 bad rows are rejected.
    assert len(rows) == task.result.failed_row_count == 3
    bad_lines = {n + 1 for n in bad_rows_of(100, 4)}
    assert {row.line for row in rows} < bad_lines


def test_export_to_a_file(client: Client, tmp_path: Path) -> None:
    client.imports.run("Load Employees", source=employees_csv(1, 50))
    client.imports.run("Load Headcount", source=employees_csv(1, 50))
    dest = tmp_path / "headcount.csv"
    task = client.exports.run("Headcount Export", dest)
    assert task.result.successful
    rows = list(csv.reader(io.StringIO(dest.read_text())))
    assert len(rows) == 51
    assert not (tmp_path / "headcount.csv.part").exists()
    assert b"".join(client.files.iter_download("Headcount Export")) == dest.read_bytes()


def test_process_reports_nested_results(client: Client) -> None:
    client.files.upload("employees.csv", employees_csv(1, 20))
    task = client.processes.run("Nightly Load")
    nested = task.result.nested_results
    assert [result.object_id[:3] for result in nested] == ["112", "112", "117", "116"]  # type: ignore[index]
    assert all(result.successful for result in nested)
    assert task.result.duration_ms is not None


def test_cancel_a_queued_task(client: Client, emulator: Emulator) -> None:
    emulator.progress("manual")
    client.files.upload("employees.csv", employees_csv(1, 10))
    ref = client.imports.start("Load Employees")
    client.tasks.cancel(ref)
    with pytest.raises(TaskCancelledError):
        client.tasks.wait(ref)


def test_deadline_cancels_when_asked(client: Client, emulator: Emulator) -> None:
    emulator.progress("manual")
    client.files.upload("employees.csv", employees_csv(1, 10))
    ref = client.imports.start("Load Employees")
    with pytest.raises(TaskTimeoutError) as caught:
        client.tasks.wait(ref, timeout=0.3, cancel_on_timeout=True)
    assert caught.value.cancelled
    assert caught.value.task.task_state == "CANCELLED"


def test_token_expiry_in_the_middle_of_a_wait_is_invisible(
    client: Client, emulator: Emulator
) -> None:
    emulator.running.control.token_lifetime = 0.5
    emulator.progress("fixed", seconds=2.0)
    task = client.imports.run("Load Employees", source=employees_csv(1, 10))
    assert task.result.successful
    assert (
        emulator.requests("POST", "/token/refresh")
        + emulator.requests("POST", "/token/authenticate")
        >= 2
    )


def test_an_unknown_action_name_lists_the_closest(client: Client) -> None:
    with pytest.raises(ActionNotFoundError) as caught:
        client.imports.get("Load Employes")
    assert caught.value.closest[0] == "Load Employees"
    assert "did you mean 'Load Employees'" in str(caught.value)


def test_a_chunk_that_keeps_failing_stops_the_upload_before_complete(
    client: Client, emulator: Emulator
) -> None:
    emulator.fail(FaultRule(fault="status", method="PUT", path="*/chunks/1", status=503))
    blocks = [employees_csv(n * 1000, 1000) for n in range(3)]
    small = client.with_options(chunk_size=1_000_000)
    big = [block * 40 for block in blocks]  # ~1.5 MB each: several chunks
    with pytest.raises(ChunkUploadError) as caught:
        small.files.upload("employees.csv", iter(big))
    assert caught.value.index == 1
    assert emulator.requests("POST", "/complete") == 0
    small.close()


@pytest.mark.parametrize("runs", [12])
def test_faults_on_the_start_never_double_a_task(
    client: Client, emulator: Emulator, runs: int
) -> None:
    emulator.fail(
        FaultRule(fault="reset_after", method="POST", path="*/imports/*/tasks", times=3),
        FaultRule(fault="status", method="POST", path="*/imports/*/tasks", status=503, times=3),
        FaultRule(fault="reset_before", method="POST", path="*/imports/*/tasks", times=2),
        FaultRule(fault="status", status=429, probability=0.2),
        seed=5,
    )
    for run in range(runs):
        client.imports.run("Load Employees", source=employees_csv(run * 100 + 1, 100))
    hits = [rule["hits"] for rule in emulator.running.control.faults.snapshot()["rules"]]
    assert hits[:3] == [3, 3, 2]  # every start fault fired
    assert hits[3] > 0  # and the 429 storm hit something
    emulator.fail()
    listed = client.imports.list_tasks("Load Employees")
    assert len(listed) == runs
    client.imports.run("Load Headcount", source=employees_csv(1, runs * 100))
    exported = client.exports.run("Headcount Export", io.BytesIO())
    assert exported.result.successful
    data = b"".join(client.files.iter_download("Headcount Export")).decode()
    assert len(data.strip().splitlines()) == runs * 100 + 1


def test_ctrl_c_while_waiting_cancels_the_server_task(emulator: Emulator) -> None:
    emulator.progress("manual")
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    with Client(**emulator.client_settings(), sleep=sleep) as client:  # type: ignore[arg-type]
        client.files.upload("employees.csv", employees_csv(1, 10))
        ref = client.imports.start("Load Employees")
        with pytest.raises(TaskCancelledError) as caught:
            client.tasks.wait(ref)
        assert caught.value.cancelled_by_us
        assert client.tasks.status(ref).task_state == "CANCELLED"
    assert emulator.requests("DELETE", "/tasks/{taskId}") == 1


def test_run_a_delete_action(client: Client) -> None:
    data = employees_csv(1, 10).replace(b",true,", b",false,", 3)
    client.imports.run("Load Employees", source=data)
    task = client.actions.run("Remove Inactive Employees")
    assert task.result.successful
    assert task.result.details[0].value_map["affectedItems"] == 3


@pytest.mark.slow
def test_two_hundred_runs_under_random_faults_start_two_hundred_tasks(
    emulator: Emulator,
) -> None:
    runs, rows = 200, 20
    emulator.fail(
        FaultRule(fault="reset_after", method="POST", path="*/imports/*/tasks", probability=0.05),
        FaultRule(fault="status", method="POST", path="*/imports/*/tasks", probability=0.05),
        FaultRule(fault="reset_before", method="POST", path="*/imports/*/tasks", probability=0.03),
        FaultRule(fault="status", status=429, probability=0.05),
        seed=200,
    )
    settings = emulator.client_settings()
    with Client(**settings) as client:  # type: ignore[arg-type]
        for run in range(runs):
            client.imports.run("Load Employees", source=employees_csv(run * rows + 1, rows))
        hits = [rule["hits"] for rule in emulator.running.control.faults.snapshot()["rules"]]
        emulator.fail()
        assert all(hits), hits
        assert len(client.imports.list_tasks("Load Employees")) == runs
        client.imports.run("Load Headcount", source=employees_csv(1, runs * rows))
        client.exports.run("Headcount Export")
        exported = b"".join(client.files.iter_download("Headcount Export")).decode()
    ids = [line.split(",")[0] for line in exported.strip().splitlines()[1:]]
    assert len(ids) == len(set(ids)) == runs * rows


def test_bad_upload_targets_and_sources_say_what_is_wrong(client: Client, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"did you mean 'employees\.csv'"):
        client.files.upload("employes.csv", b"a\n")
    with pytest.raises(ConfigurationError, match="is not a file"):
        client.files.upload("employees.csv", tmp_path / "missing.csv")
    with pytest.raises(ConfigurationError, match="cannot upload a int"):
        client.files.upload("employees.csv", 42)  # type: ignore[arg-type]


def test_process_dumps_are_fetched_per_nested_import(client: Client) -> None:
    good = employees_csv(1, 8)
    bad = employees_csv(9, 2, region="ATLANTIS").split(b"\n", 1)[1]
    client.files.upload("employees.csv", good + bad)
    task = client.processes.run("Nightly Load")
    dumps = client.tasks.dumps(task)
    load_employees = client.imports.get("Load Employees").id
    assert load_employees in [dump.object_id for dump in dumps.available]
    rows = dumps.rows(load_employees)
    assert [row.line for row in rows] == [10, 11]
    assert {row.object_id for row in rows} == {load_employees}
    assert dumps.read(load_employees).startswith(b'"_Status_"')


def test_strict_loads_fail_on_any_rejected_row(client: Client) -> None:
    data = b"".join(generate_employees_csv(50, bad_rows=2, seed=4))
    with pytest.raises(TaskFailedError, match="rejected rows") as caught:
        client.imports.run("Load Employees", source=data, fail_on_rejected_rows=True)
    assert caught.value.result.successful
    assert len(caught.value.dumps.rows()) == 2
