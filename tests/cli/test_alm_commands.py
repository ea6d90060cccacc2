"""`anaplan-tasks alm …`: the whole promotion flow from dev to prod, over loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2

from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.emulator.demo import DEV_MODEL, PROD_MODEL, UNRELEASED_LIST
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle
from anaplan_tasks.models import CompletedSyncTask, Revision, SummaryReport, parse_report_task

from .conftest import Cli


def _structure(emulator: EmulatorHandle, model_id: str, edit: dict[str, Any] | None = None) -> Any:
    url = f"{emulator.base_url}/_emulator/models/{model_id}/structure"
    answer = httpx2.post(url, json=edit) if edit else httpx2.get(url)
    answer.raise_for_status()
    return answer.json()


def test_promote_the_demo_dev_models_untagged_change_to_prod(
    cli: Cli, cli_env: EmulatorHandle, tmp_path: Path
) -> None:
    """A fresh demo workspace: dev holds a list no revision has, so the flow works at once."""
    models = {m["name"]: m["id"] for m in cli("models", "--json").json()}
    dev, prod = models[DEV_MODEL], models[PROD_MODEL]
    assert UNRELEASED_LIST not in [item["name"] for item in _structure(cli_env, prod)["lists"]]

    created = cli("alm", "create-revision", "Release 1", "--description", "Scenarios", "--json")
    assert created.code == ExitCode.OK, created.err
    release = Revision.model_validate(created.json())
    assert release.name == "Release 1"
    assert release.id in [r["id"] for r in cli("alm", "revisions", "--json").json()]

    syncable = cli("-m", PROD_MODEL, "alm", "revisions", "--syncable-from", DEV_MODEL, "--json")
    assert [r["id"] for r in syncable.json()] == [release.id]

    report = tmp_path / "compare.txt"
    compared = cli("-m", PROD_MODEL, "alm", "compare", "--source", DEV_MODEL, "--out", report)
    assert compared.code == ExitCode.OK, compared.err
    assert "LISTS ADDED" in compared.text
    assert UNRELEASED_LIST in compared.text
    assert UNRELEASED_LIST in report.read_text(encoding="utf-8")
    as_json = cli("-m", PROD_MODEL, "alm", "compare", "--source", dev, "--json")
    assert parse_report_task(as_json.json()).result.successful  # type: ignore[union-attr]

    summary = cli("-m", PROD_MODEL, "alm", "summary", "--source", DEV_MODEL, "--json")
    totals = SummaryReport.model_validate(summary.json()).totals
    assert (totals.created, totals.modified, totals.deleted) == (1, 0, 0)
    assert "lists" in cli("-m", PROD_MODEL, "alm", "summary", "--source", DEV_MODEL).text

    synced = cli("-m", PROD_MODEL, "alm", "sync", "--source", DEV_MODEL, "--json")
    assert synced.code == ExitCode.OK, synced.err
    task = CompletedSyncTask.model_validate(synced.json())
    assert task.result.source_revision_id == release.id
    assert UNRELEASED_LIST in [item["name"] for item in _structure(cli_env, prod)["lists"]]


def test_nothing_to_sync_is_a_clear_error(cli: Cli) -> None:
    outcome = cli("-m", PROD_MODEL, "alm", "sync", "--source", DEV_MODEL)
    assert outcome.code != ExitCode.OK
    assert outcome.error == (
        f'error: "{DEV_MODEL}" has no revision that can be synced into "{PROD_MODEL}": tag its '
        f'changes first (anaplan-tasks -m "{DEV_MODEL}" alm create-revision NAME), then run this '
        "again"
    )
    for command in ("compare", "summary"):
        again = cli("-m", PROD_MODEL, "alm", command, "--source", DEV_MODEL)
        assert again.code == ExitCode.USAGE
        assert again.error == outcome.error
    assert "Traceback" not in outcome.err
