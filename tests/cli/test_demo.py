"""`anaplan-tasks demo` end to end: a real emulator on 127.0.0.1, the real client, small files."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import anaplan_tasks
from anaplan_tasks import (
    CancelledTask,
    Client,
    CompletedReportTask,
    CompletedSyncTask,
    CompletedTask,
    parse_report_task,
    parse_sync_task,
    parse_task,
)
from anaplan_tasks.cli import main, render
from anaplan_tasks.cli.demo import expected_rejected_lines, run_demo
from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.emulator.demo import DEMO_PASSWORD, DEMO_USER

ROWS = 2_000
BAD_ROWS = 7
STEPS = [
    "connect",
    "generate",
    "upload",
    "import",
    "process",
    "export",
    "cancel",
    "alm-change",
    "alm-revision",
    "alm-compare",
    "alm-summary",
    "alm-sync",
    "alm-check",
]


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=240, color_system=None, highlight=False), buffer


def _outcome_line(output: str, step: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith(f"✔ {step}: ")]
    assert len(lines) == 1, f"no single outcome line for {step!r} in:\n{output}"
    return lines[0]


def test_the_story_tells_each_outcome_and_exits_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render.console, "width", 200)  # the dump table on one line per row

    code = main(["demo", "--rows", str(ROWS), "--bad-rows", str(BAD_ROWS)])

    output = capsys.readouterr().out
    assert code == ExitCode.OK, output
    assert "✘" not in output
    outcomes = {step: _outcome_line(output, step) for step in STEPS}
    rejected = len(expected_rejected_lines(ROWS, BAD_ROWS))
    assert rejected == 5  # of 7 bad rows: the 2 malformed salaries are not list columns
    assert f"{ROWS - rejected:,} rows loaded, {rejected} rejected of {ROWS:,}" in outcomes["import"]
    assert "(failure dump: 5 rows, exactly the planted bad ones)" in outcomes["import"]
    assert "Item not located in Regions list: ATLANTIS" in output  # the dump's first rows
    assert "4 actions ran, 4 successful" in outcomes["process"]
    assert "exported and downloaded " in outcomes["export"]
    assert "CANCELLED at" in outcomes["cancel"]
    assert (
        "LISTS ADDED: Channels, Scenarios; LINE ITEMS ADDED: Headcount.Bonus"
        in outcomes["alm-compare"]
    )
    assert "3 created, 0 modified, 0 deleted" in outcomes["alm-summary"]
    assert "revision 'Release 1' synced to prod" in outcomes["alm-sync"]
    assert "Headcount has Bonus" in outcomes["alm-check"]
    assert "Demo summary" in output
    assert "every step told its story" in output


def _parse(step: str, wire: dict[str, Any]) -> object:
    if step == "alm-sync":
        return parse_sync_task(wire)
    if step in ("alm-compare", "alm-summary"):
        return parse_report_task(wire)
    return parse_task(wire)


def test_json_mode_prints_one_document_of_steps_with_wire_tasks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["demo", "--rows", str(ROWS), "--bad-rows", str(BAD_ROWS), "--json"])

    document = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    assert document["ok"] is True
    records = {record["step"]: record for record in document["steps"]}
    assert list(records) == STEPS
    assert all(record["ok"] for record in records.values())
    tasks = {step: _parse(step, r["task"]) for step, r in records.items() if r["task"] is not None}
    assert set(tasks) == {
        "import",
        "process",
        "export",
        "cancel",
        "alm-compare",
        "alm-summary",
        "alm-sync",
    }
    imported = tasks["import"]
    assert isinstance(imported, CompletedTask)
    figures = records["import"]["figures"]
    assert imported.result.failed_row_count == figures["rowsRejected"] == figures["dumpRows"] == 5
    assert figures["rowsLoaded"] == ROWS - 5
    assert figures["rejectedLines"] == expected_rejected_lines(ROWS, BAD_ROWS)
    process = tasks["process"]
    assert isinstance(process, CompletedTask)
    assert len(process.result.nested_results) == records["process"]["figures"]["actions"] == 4
    assert records["export"]["figures"]["rows"] > 0
    assert records["upload"]["figures"]["chunks"] >= 1
    cancelled = tasks["cancel"]
    assert isinstance(cancelled, CancelledTask)
    assert cancelled.task_state == "CANCELLED"
    assert isinstance(tasks["alm-compare"], CompletedReportTask)
    assert isinstance(tasks["alm-summary"], CompletedReportTask)
    assert records["alm-summary"]["figures"]["totals"] == {"created": 3}
    synced = tasks["alm-sync"]
    assert isinstance(synced, CompletedSyncTask)
    assert synced.result.source_revision_id == records["alm-revision"]["figures"]["revisionId"]
    assert records["alm-check"]["figures"]["lineItemPresent"] is True


def test_a_kept_data_directory_tells_the_story_again(tmp_path: Path) -> None:
    for _ in range(2):
        console, buffer = _console()
        code = run_demo(rows=ROWS, json_output=True, console=console, data_dir=tmp_path)
        document = json.loads(buffer.getvalue())
        assert code == 0
        assert [step["step"] for step in document["steps"] if not step["ok"]] == []
        exported = Path(document["steps"][STEPS.index("export")]["figures"]["path"])
        assert exported.is_relative_to(tmp_path)
        assert (
            len(exported.read_bytes().splitlines()) - 1 == document["steps"][5]["figures"]["rows"]
        )


def test_too_few_rows_for_the_bad_ones_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--rows", "100", "--bad-rows", "60"]) == ExitCode.USAGE
    assert "60 bad rows need at least 121 rows" in capsys.readouterr().err

    console, buffer = _console()
    assert run_demo(rows=10, bad_rows=7, console=console) == ExitCode.USAGE
    assert "7 bad rows need at least 15 rows" in capsys.readouterr().err
    assert buffer.getvalue() == ""


def test_keep_running_serves_until_ctrl_c_and_exits_0() -> None:
    package_root = Path(anaplan_tasks.__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(package_root), os.environ.get("PYTHONPATH")])
        ),
        "PYTHONUNBUFFERED": "1",
    }
    script = (
        "from anaplan_tasks.cli.demo import run_demo; "
        f"raise SystemExit(run_demo(rows={ROWS}, keep_running=True))"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    ) as process:
        _tell_then_interrupt(process)


def _tell_then_interrupt(process: subprocess.Popen[str]) -> None:
    try:
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith("Press Ctrl-C to stop."):
                break
        output = "".join(seen)
        base_url = re.search(r"The emulator keeps running at (http://\S+)", output)
        prod_model = re.search(r"prod model +(\w+)", output)
        workspace = re.search(r"workspace +(\w+)", output)
        assert base_url, output
        assert prod_model, output
        assert workspace, output
        assert "anaplan-tasks --base-url " + base_url.group(1) in output
        with Client(
            base_url=base_url.group(1),
            email=DEMO_USER,
            password=DEMO_PASSWORD,
            workspace_id=workspace.group(1),
            model_id=prod_model.group(1),
        ) as prod:
            latest = prod.alm.latest_revision()
        assert latest is not None
        assert latest.name == "Release 1"

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
