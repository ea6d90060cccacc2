"""The listing commands: tables for people, wire models with --json."""

from __future__ import annotations

import pytest

from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.emulator.demo import DEMO_WORKSPACE, DEV_MODEL, PROD_MODEL
from anaplan_tasks.models import (
    ExportAction,
    FileInfo,
    ImportAction,
    Model,
    ModelAction,
    Process,
    Workspace,
)

from .conftest import Cli


def test_workspaces_and_models(cli: Cli) -> None:
    listed = cli("workspaces", "--json")
    assert listed.code == ExitCode.OK, listed.err
    workspaces = [Workspace.model_validate(item) for item in listed.json()]
    assert [workspace.name for workspace in workspaces] == [DEMO_WORKSPACE]
    assert DEMO_WORKSPACE in cli("workspaces").text

    models = [Model.model_validate(item) for item in cli("models", "--json").json()]
    assert {model.name for model in models} == {DEV_MODEL, PROD_MODEL}
    everywhere = cli("models", "--all", "--json").json()
    assert len(everywhere) == len(models)
    table = cli("models").text
    assert DEV_MODEL in table
    assert PROD_MODEL in table


def test_without_a_workspace_models_lists_every_workspace(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    everywhere = cli("models", "--all", "--json").json()
    monkeypatch.delenv("ANAPLAN_WORKSPACE_ID")
    monkeypatch.delenv("ANAPLAN_MODEL_ID")
    outcome = cli("models", "--json")
    assert outcome.code == ExitCode.OK, outcome.err
    assert outcome.json() == everywhere
    files = cli("files")
    assert files.code == ExitCode.USAGE
    assert "no model: pass --model" in files.error


@pytest.mark.parametrize(
    ("command", "model", "expected"),
    [
        ("files", FileInfo, "employees.csv"),
        ("imports", ImportAction, "Load Employees"),
        ("exports", ExportAction, "Headcount Export"),
        ("processes", Process, "Nightly Load"),
        ("actions", ModelAction, "Remove Inactive Employees"),
    ],
)
def test_model_listings(cli: Cli, command: str, model: type, expected: str) -> None:
    outcome = cli(command, "--json")
    assert outcome.code == ExitCode.OK, outcome.err
    names = [model.model_validate(item).name for item in outcome.json()]  # type: ignore[attr-defined]
    assert expected in names
    assert expected in cli(command).text


def test_options_go_before_or_after_the_command(cli: Cli) -> None:
    before = cli("--json", "--model", PROD_MODEL, "imports")
    after = cli("imports", "--model", PROD_MODEL, "--json")
    assert before.json() == after.json()


def test_ids_work_as_well_as_names(cli: Cli) -> None:
    workspace_id = cli("workspaces", "--json").json()[0]["id"]
    model_id = next(m["id"] for m in cli("models", "--json").json() if m["name"] == DEV_MODEL)
    by_id = cli("processes", "-w", workspace_id, "-m", model_id, "--json")
    assert by_id.json() == cli("processes", "--json").json()
    only_model = cli("processes", "--workspace", "", "-m", model_id, "--json")
    assert only_model.json() == by_id.json()


def test_an_unknown_model_name_lists_what_there_is(cli: Cli) -> None:
    outcome = cli("files", "--model", "FP&A Test")
    assert outcome.code == ExitCode.USAGE
    assert "no model named 'FP&A Test'" in outcome.error
    assert DEV_MODEL in outcome.error
    assert outcome.out == ""
