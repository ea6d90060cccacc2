"""`anaplan-tasks demo`: the whole story runs, and every step reports its outcome."""

from __future__ import annotations

import json

import pytest

from anaplan_tasks.cli import main, render
from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.emulator.demo import bad_rows_of
from anaplan_tasks.models import (
    CancelledTask,
    CompletedSyncTask,
    CompletedTask,
    parse_sync_task,
    parse_task,
)

ROWS = 2_000
BAD_ROWS = 7
STEPS = ["generate", "upload", "import", "process", "export", "cancel", "alm"]


def test_the_json_story_holds_every_step_with_real_tasks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--rows", str(ROWS), "--bad-rows", str(BAD_ROWS), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    steps = {step["step"]: step for step in document["steps"]}
    assert list(steps) == STEPS

    imported = parse_task(steps["import"]["task"])
    assert isinstance(imported, CompletedTask)
    list_rejects = [k for k in bad_rows_of(ROWS, BAD_ROWS).values() if k != "malformed number"]
    assert imported.result.failed_row_count == len(list_rejects)
    assert steps["import"]["figures"]["dumpRows"] == len(list_rejects)
    assert steps["import"]["figures"]["rowsLoaded"] == ROWS - len(list_rejects)
    assert steps["upload"]["figures"]["chunks"] >= 1

    process = parse_task(steps["process"]["task"])
    assert isinstance(process, CompletedTask)
    assert len(process.result.nested_results) == steps["process"]["figures"]["actions"] == 4

    assert steps["export"]["figures"]["rows"] > 0

    cancelled = parse_task(steps["cancel"]["task"])
    assert isinstance(cancelled, CancelledTask)
    assert cancelled.task_state == "CANCELLED"

    synced = parse_sync_task(steps["alm"]["task"])
    assert isinstance(synced, CompletedSyncTask)
    figures = steps["alm"]["figures"]
    assert (figures["created"], figures["modified"], figures["deleted"]) == (2, 0, 0)
    assert figures["sectionsChanged"] == ["LISTS ADDED", "LINE ITEMS ADDED"]
    assert figures["prodHasChange"] is True


def test_the_story_tells_each_outcome(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render.console, "width", 200)
    assert main(["demo", "--rows", str(ROWS)]) == ExitCode.OK
    said = " ".join(capsys.readouterr().out.split())
    for line in (
        f"employees.csv: {ROWS:,} rows",
        "rows loaded, 5 rejected (failure dump: 5 rows",
        "Item not located in Regions list: ATLANTIS",
        "4 actions ran, 4 successful",
        "exported and downloaded",
        "CANCELLED at",
        "LINE ITEMS ADDED: Headcount.Bonus",
        "synced to prod: 2 created, 0 modified, 0 deleted; prod has 'Channels': yes",
        "What happened",
    ):
        assert line in said


def test_too_few_rows_for_the_bad_ones_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--rows", "100", "--bad-rows", "60"]) == ExitCode.USAGE
    assert "60 bad rows need at least 121 rows" in capsys.readouterr().err
