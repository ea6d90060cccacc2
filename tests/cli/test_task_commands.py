"""`upload`, `download`, `run`, `status`, `tasks`, `cancel` and `dump` against the emulator."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.emulator.demo import bad_rows_of, write_employees_csv
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle
from anaplan_tasks.models import (
    CancelledTask,
    CompletedTask,
    FileInfo,
    Task,
    TaskSummary,
    parse_task,
)

from .conftest import Cli

ROWS = 400
BAD_ROWS = 6


def _employees(tmp_path: Path) -> Path:
    return write_employees_csv(tmp_path / "employees.csv", ROWS, BAD_ROWS)


def _rejected_lines() -> list[int]:
    """File lines a list import rejects: every bad row but the salary (not a list property)."""
    bad = bad_rows_of(ROWS, BAD_ROWS)
    return sorted(number + 1 for number, kind in bad.items() if kind != "malformed number")


def _dump_lines(path: Path) -> list[int]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return sorted(int(row["_Line_"]) for row in rows)


def test_upload_then_download_gives_the_same_bytes(cli: Cli, tmp_path: Path) -> None:
    source = _employees(tmp_path)
    uploaded = cli("upload", "employees.csv", source, "--json")
    assert uploaded.code == ExitCode.OK, uploaded.err
    info = FileInfo.model_validate(uploaded.json())
    assert info.name == "employees.csv"
    assert info.chunk_count >= 1

    shown = cli("upload", "employees.csv", source)
    assert "uploaded" in shown.out
    assert "'employees.csv'" in shown.out

    target = tmp_path / "copy.csv"
    downloaded = cli("download", info.id, target, "--json")
    assert downloaded.code == ExitCode.OK, downloaded.err
    assert downloaded.json()["bytes"] == source.stat().st_size
    assert target.read_bytes() == source.read_bytes()


def test_run_import_shows_rejected_rows_and_saves_the_exact_dump(cli: Cli, tmp_path: Path) -> None:
    outcome = cli(
        "run", "import", "Load Employees", "--file", _employees(tmp_path), "--dump-dir", "dumps"
    )
    assert outcome.code == ExitCode.OK, outcome.err
    rejected = _rejected_lines()
    assert f"{len(rejected)} rows failed" in outcome.text
    assert "Item not located in Regions" in outcome.out
    dumps = list((tmp_path / "dumps").glob("Load_Employees-*-dump.csv"))
    assert len(dumps) == 1
    assert str(dumps[0].name) in outcome.text
    assert _dump_lines(dumps[0]) == rejected
    for line in rejected[:3]:
        assert f" {line} " in outcome.out  # the preview lists the first rejected rows


def test_run_json_prints_the_completed_task_on_the_wire(cli: Cli, tmp_path: Path) -> None:
    outcome = cli("run", "import", "112000000000", "--file", _employees(tmp_path), "--json")
    assert outcome.code == ExitCode.OK, outcome.err
    task = parse_task(outcome.json())
    assert isinstance(task, CompletedTask)
    assert task.result.successful
    assert task.result.failure_dump_available
    assert task.result.failed_row_count == len(_rejected_lines())
    assert "taskId" in outcome.json()
    assert "result" in outcome.json()


def test_fail_on_rejected_rows_exits_1_with_the_dump(cli: Cli, tmp_path: Path) -> None:
    outcome = cli(
        "run", "import", "Load Employees", "--file", _employees(tmp_path),
        "--fail-on-rejected-rows", "--dump-dir", tmp_path,
    )  # fmt: skip
    assert outcome.code == ExitCode.TASK_FAILED
    assert "error: import 'Load Employees'" in outcome.error
    assert "rejected rows in" in outcome.error
    assert "Traceback" not in outcome.err
    (dump,) = tmp_path.glob("Load_Employees-*-dump.csv")
    assert _dump_lines(dump) == _rejected_lines()


def test_run_process_shows_each_nested_result(cli: Cli, tmp_path: Path) -> None:
    cli("upload", "employees.csv", _employees(tmp_path))
    outcome = cli("run", "process", "Nightly Load", "--dump-dir", tmp_path)
    assert outcome.code == ExitCode.OK, outcome.err
    for nested in ("Load Employees", "Load Headcount", "Remove Inactive Employees"):
        assert f"  {nested} " in outcome.out  # nested results are named, not numbered
    for action_id in ("112000000000", "112000000001", "116000000000"):
        assert action_id not in outcome.out
    assert list(tmp_path.glob("Nightly_Load-*-dump.csv"))


def test_run_export_saves_its_file(cli: Cli, tmp_path: Path) -> None:
    cli("run", "import", "Load Employees", "--file", _employees(tmp_path))
    cli("run", "import", "Load Headcount")
    out = tmp_path / "headcount.csv"
    outcome = cli("run", "export", "Headcount Export", "--out", out)
    assert outcome.code == ExitCode.OK, outcome.err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1
    assert f"saved the export to {out}" in outcome.text


def test_no_wait_status_tasks_cancel_and_dump(cli: Cli, cli_env: EmulatorHandle) -> None:
    cli_env.set_progression("manual")
    started = cli("run", "import", "Load Employees", "--no-wait")
    assert started.code == ExitCode.OK, started.err
    task_id = started.out.strip().splitlines()[-1]

    status = cli("status", "import", "Load Employees", task_id, "--json")
    assert isinstance(parse_task(status.json()), Task)
    assert status.json()["taskState"] in ("NOT_STARTED", "IN_PROGRESS")

    listed = cli("tasks", "import", "Load Employees", "--json")
    summaries = [TaskSummary.model_validate(item) for item in listed.json()]
    assert task_id in [summary.id for summary in summaries]
    assert task_id in cli("tasks", "import", "Load Employees").out

    cancelled = cli("cancel", "import", "Load Employees", task_id, "--json")
    assert cancelled.code == ExitCode.OK, cancelled.err
    final = parse_task(cli("status", "import", "Load Employees", task_id, "--json").json())
    assert isinstance(final, CancelledTask)
    assert final.task_state == "CANCELLED"

    no_dump = cli("dump", "import", "Load Employees", task_id)
    assert no_dump.code != ExitCode.OK


def test_dump_command_saves_and_prints_the_rows(cli: Cli, tmp_path: Path) -> None:
    ran = cli("run", "import", "Load Employees", "--file", _employees(tmp_path), "--json")
    task_id = ran.json()["taskId"]
    target = tmp_path / "rejected.csv"
    outcome = cli("dump", "import", "Load Employees", task_id, "--out", target, "--json")
    assert outcome.code == ExitCode.OK, outcome.err
    document = outcome.json()
    assert document["path"] == str(target)
    assert sorted(row["line"] for row in document["rows"]) == _rejected_lines()
    assert all(row["status"] == "E" and row["errors"] for row in document["rows"])
    assert _dump_lines(target) == _rejected_lines()


def test_a_deadline_exits_3_and_can_cancel(cli: Cli, cli_env: EmulatorHandle) -> None:
    cli_env.set_progression("manual")
    outcome = cli(
        "run", "import", "Load Employees", "--timeout", "0.5", "--cancel-on-timeout", "--json"
    )
    assert outcome.code == ExitCode.DEADLINE
    assert "Traceback" not in outcome.err


def test_usage_errors_exit_2_in_one_line(cli: Cli, tmp_path: Path) -> None:
    unknown = cli("run", "import", "Load Employes")
    assert unknown.code == ExitCode.USAGE
    assert "did you mean 'Load Employees'" in unknown.error
    assert len(unknown.err.strip().splitlines()) <= 3  # one message, wrapped at most
    wrong_kind = cli("run", "export", "Headcount Export", "--file", tmp_path / "x")
    assert wrong_kind.code == ExitCode.USAGE
    bad_param = cli("run", "process", "Nightly Load", "--param", "nonsense")
    assert bad_param.code == ExitCode.USAGE
    assert "NAME=VALUE" in bad_param.err


def test_a_file_that_is_not_utf8_fails_naming_the_lines_never_replacing_bytes(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes(
        b'"Employee ID",Name,Region,"Start Date",Active\n'
        b"E0000001,Ada Ng,NA,2020-01-01,true\n"
        b"E0000002,Ren\xe9e Smith,EMEA,2020-01-01,true\n"  # latin-1, not UTF-8
        b"E0000003,Ben Xu,APAC,2020-01-01,true\n"
        b"E0000004,Zo\xeb Weber,LATAM,2020-01-01,true\n"
    )
    outcome = cli("run", "import", "Load Employees", "--file", source, "--json")
    assert outcome.code == ExitCode.TASK_FAILED, outcome.err
    task = parse_task(outcome.json())
    assert isinstance(task, CompletedTask)
    assert not task.result.successful
    (detail,) = task.result.details
    assert detail.type == "importFailedGeneralError"
    assert detail.is_failure
    assert "not valid UTF-8: bytes that cannot be decoded on lines 3, 5" in detail.text
    assert "nothing was imported" in detail.text
    assert "\ufffd" not in outcome.out + outcome.err
    shown = cli("run", "import", "Load Employees", "--file", source)
    assert "on lines 3, 5" in shown.error


def test_a_mapping_parameter_no_import_asks_for_is_refused(cli: Cli, tmp_path: Path) -> None:
    cli("upload", "employees.csv", _employees(tmp_path))
    refused = cli("run", "import", "Load Employees", "--param", "Nope=1", "--json")
    assert refused.code == ExitCode.TASK_FAILED
    task = parse_task(refused.json())
    assert isinstance(task, CompletedTask)
    assert task.current_step == "Failed."
    (detail,) = task.result.details
    assert detail.text == (
        "Mapping parameter 'Nope' is not asked for by Load Employees (it asks for: none); "
        "nothing was run."
    )
    process = cli("run", "process", "Nightly Load", "--param", "Nope=1")
    assert process.code == ExitCode.TASK_FAILED
    assert "Mapping parameter 'Nope' is not asked for by Load Employees, Load Headcount" in (
        process.error
    )
