"""`anaplan-tasks cloudworks …` against the emulator: list, run (and explain), runs."""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.client import Client
from anaplan_tasks.emulator.demo import DEMO_WORKSPACE, DEV_MODEL, write_employees_csv
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle

from .conftest import Cli
from .test_app import _environment, _wait_for

BAD_ROWS = "E9000001,Nobody,NOWHERE,2020-01-01,true,1,1\nE9000002,Late,EMEA,bad-date,true,1,1\n"


@pytest.fixture
def landing(cli_env: EmulatorHandle, tmp_path: Path) -> Path:
    """An S3 bucket (a directory), a connection to it and an import integration reading it."""
    bucket = tmp_path / "bucket"
    (bucket / "in").mkdir(parents=True)
    cli_env.load_definition(
        f'[[buckets]]\nname = "acme"\npath = "{bucket.as_posix()}"\ntype = "AmazonS3"\n'
    )
    with Client(
        base_url=cli_env.base_url,
        email=cli_env.email,
        password=cli_env.password,
        workspace_id=DEMO_WORKSPACE,
        model_id=DEV_MODEL,
        env={},
    ) as client:
        connection = client.cloudworks.connections.create(
            "AmazonS3",
            {"name": "acme", "accessKeyId": "AKIA", "secretAccessKey": "s", "bucketName": "acme"},
        )
        load = client.imports.get("Load Employees")
        client.cloudworks.create(
            {
                "name": "S3 employees",
                "jobs": [
                    {
                        "type": "AmazonS3ToAnaplan",
                        "sources": [
                            {"type": "AmazonS3", "connectionId": connection, "file": "in/e.csv"}
                        ],
                        "targets": [
                            {
                                "type": "Anaplan",
                                "actionId": load.id,
                                "fileId": load.import_data_source_id,
                            }
                        ],
                    }
                ],
            }
        )
    return bucket


def _source(bucket: Path, rows: int, bad: str = "") -> None:
    path = write_employees_csv(bucket / "in" / "e.csv", rows)
    if bad:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(bad)


def test_integrations_and_connections_are_listed_as_tables_and_json(
    cli: Cli, landing: Path
) -> None:
    shown = cli("cloudworks", "integrations")
    assert shown.code == ExitCode.OK, shown.err
    assert "S3 employees" in shown.text
    assert "Import" in shown.text
    listed = cli("cloudworks", "integrations", "--json")
    (item,) = listed.json()
    assert item["name"] == "S3 employees"
    assert item["integrationType"] == "Import"
    connections = cli("cloudworks", "connections", "--json").json()
    assert [c["body"]["name"] for c in connections] == ["acme"]
    assert "secretAccessKey" not in connections[0]["body"]


def test_run_waits_and_runs_lists_the_run(cli: Cli, landing: Path) -> None:
    _source(landing, 50)
    ran = cli("cloudworks", "run", "S3 employees")
    assert ran.code == ExitCode.OK, ran.err
    assert "S3 employees" in ran.text
    assert "Success" in ran.text
    runs = cli("cloudworks", "runs", "S3 employees", "--json").json()
    assert runs["totalRuns"] == 1
    assert runs["runs"][0]["success"] is True
    table = cli("cloudworks", "runs", "S3 employees")
    assert runs["runs"][0]["id"] in table.text
    assert "ok" in table.text


def test_a_failed_run_exits_1_and_saves_the_dump_of_the_rejected_rows(
    cli: Cli, landing: Path, tmp_path: Path
) -> None:
    _source(landing, 20, BAD_ROWS)
    dumps = tmp_path / "dumps"
    ran = cli("cloudworks", "run", "S3 employees", "--dump-dir", dumps)
    assert ran.code == ExitCode.TASK_FAILED, ran.err
    (saved,) = dumps.iterdir()
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert sorted(row["Employee ID"] for row in rows) == ["E9000001", "E9000002"]
    assert "E9000001" in ran.text  # the preview of the rejected rows
    assert f"rejected rows in {saved}" in ran.error
    as_json = cli("cloudworks", "run", "S3 employees", "--dump-dir", dumps, "--json")
    assert as_json.code == ExitCode.TASK_FAILED
    body = as_json.json()
    assert body["run"]["success"] is False
    assert body["errors"]["errorMessages"]
    assert len(body["dumps"]) == 1


def test_allow_partial_exits_0_and_still_saves_the_dump(
    cli: Cli, landing: Path, tmp_path: Path
) -> None:
    _source(landing, 20, BAD_ROWS)
    ran = cli("cloudworks", "run", "S3 employees", "--allow-partial", "--dump-dir", tmp_path)
    assert ran.code == ExitCode.OK, ran.err
    assert "failure dump saved to" in ran.text
    assert len(list(tmp_path.glob("S3_employees-*-dump.csv"))) == 1


def test_no_wait_prints_the_run_id_and_an_unknown_name_is_a_usage_error(
    cli: Cli, landing: Path
) -> None:
    _source(landing, 5)
    started = cli("cloudworks", "run", "S3 employees", "--no-wait")
    assert started.code == ExitCode.OK, started.err
    run_id = started.out.strip().splitlines()[-1]
    assert len(run_id) == 32
    unknown = cli("cloudworks", "run", "Nope")
    assert unknown.code == ExitCode.USAGE
    assert "no integration named 'Nope'" in unknown.error
    assert "'S3 employees'" in unknown.error


def test_ctrl_c_cancels_the_run_in_cloudworks_and_exits_130(
    cli_env: EmulatorHandle, landing: Path, tmp_path: Path
) -> None:
    _source(landing, 10)
    cli_env.set_progression("manual")
    log = tmp_path / "stderr.txt"
    environment = _environment(
        ANAPLAN_BASE_URL=cli_env.base_url,
        ANAPLAN_EMAIL=cli_env.email,
        ANAPLAN_PASSWORD=cli_env.password,
        COLUMNS="200",
    )
    command = [sys.executable, "-m", "anaplan_tasks.cli", "cloudworks", "run", "S3 employees"]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=stderr, env=environment
        )
        try:
            run_id = _wait_for(r"run\s+([0-9a-f]{32})", log, process).group(1)
            time.sleep(0.2)  # let the wait begin polling
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert code == ExitCode.INTERRUPTED, log.read_text()
    assert "interrupted: cancelled integration 'S3 employees'" in " ".join(log.read_text().split())
    with Client(base_url=cli_env.base_url, email=cli_env.email, password=cli_env.password) as c:
        status = c.cloudworks.run_status(run_id)
    assert status.cancelled


def test_status_dump_and_cancel_of_a_run_by_its_id(
    cli: Cli, cli_env: EmulatorHandle, landing: Path, tmp_path: Path
) -> None:
    _source(landing, 10, BAD_ROWS)
    failed = cli("cloudworks", "run", "S3 employees", "--dump-dir", tmp_path / "first", "--json")
    run_id = failed.json()["run"]["id"]
    status = cli("cloudworks", "status", run_id)
    assert status.code == ExitCode.TASK_FAILED
    assert f"run {run_id} succeeded in part" in status.text
    dumped = cli("cloudworks", "dump", run_id, "--dump-dir", tmp_path / "again")
    assert dumped.code == ExitCode.OK, dumped.err
    (saved,) = (tmp_path / "again").iterdir()
    assert saved.read_bytes() == next((tmp_path / "first").iterdir()).read_bytes()
    assert "E9000001" in dumped.text
    idle = cli("cloudworks", "cancel", "S3 employees")
    assert idle.code == ExitCode.USAGE
    assert "not in running state" in idle.error
    cli_env.set_progression("manual")
    started = cli("cloudworks", "run", "S3 employees", "--no-wait")
    running_id = started.out.strip().splitlines()[-1]
    assert "running" in cli("cloudworks", "status", running_id).text
    cancelled = cli("cloudworks", "cancel", "S3 employees")
    assert cancelled.code == ExitCode.OK, cancelled.err
