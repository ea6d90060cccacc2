"""How the command says what went wrong: exit codes, one line, JSON, and the command's words."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from anaplan_tasks.cli import render
from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.emulator.demo import PROD_MODEL
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle
from anaplan_tasks.models import CancelledTask, parse_task

from .conftest import Cli


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("not a url", "is not a URL: give http:// or https:// and a host"),
        ("127.0.0.1:8080", "is not a URL"),
        ("http://127.0.0.1:8080/2/0", "ends in the API's path /2/0: give the root"),
    ],
)
def test_a_bad_base_url_is_a_usage_error_before_anything_is_sent(
    cli: Cli, cli_env: EmulatorHandle, url: str, said: str
) -> None:
    cli_env.reset()  # no request counted
    outcome = cli("--base-url", url, "workspaces")
    assert outcome.code == ExitCode.USAGE, outcome.err
    assert outcome.error.startswith(f"error: --base-url {url!r} ")
    assert said in outcome.error
    assert cli_env.request_counts() == {}


def test_a_bad_variable_url_names_the_variable(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANAPLAN_BASE_URL", "localhost:8080")
    outcome = cli("workspaces")
    assert outcome.code == ExitCode.USAGE
    assert outcome.error.startswith("error: ANAPLAN_BASE_URL 'localhost:8080' is not a URL")


def test_connection_refused_says_the_emulator_may_not_be_running(cli: Cli) -> None:
    outcome = cli("workspaces", "--base-url", f"http://127.0.0.1:{_closed_port()}")
    assert outcome.code == ExitCode.UNAVAILABLE
    assert "is the emulator running (`anaplan-tasks serve`)" in outcome.error


def test_an_error_is_one_line_even_when_it_is_longer_than_the_console(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render.error_console, "width", 40)  # as narrow as a pipe gets
    outcome = cli("run", "import", "Load Employes")
    assert outcome.code == ExitCode.USAGE
    assert len(outcome.err.strip().splitlines()) == 1, outcome.err
    assert len(outcome.err.strip()) > 40


def test_with_json_an_error_is_also_a_json_document_on_stdout(cli: Cli) -> None:
    outcome = cli("run", "import", "Load Employes", "--json")
    assert outcome.code == ExitCode.USAGE
    error = outcome.json()["error"]
    assert error["exitCode"] == ExitCode.USAGE
    assert "did you mean 'Load Employees'" in error["message"]
    assert error["message"] in outcome.error
    usage = cli("run", "nonsense", "x", "--json")
    assert usage.code == ExitCode.USAGE
    assert usage.json()["error"]["exitCode"] == ExitCode.USAGE


def test_sign_in_errors_speak_in_flags_and_name_the_profiles_password_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ANAPLAN_PASSWORD")
    outcome = cli("workspaces")
    assert outcome.code == ExitCode.USAGE
    assert outcome.error == (
        "error: Basic sign-in needs a password: pass --password or set ANAPLAN_PASSWORD"
    )
    assert "password=" not in outcome.error
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[prod]\npassword_env = "ANAPLAN_PROD_PASSWORD"\n', encoding="utf-8")
    monkeypatch.delenv("ANAPLAN_PROD_PASSWORD", raising=False)
    named = cli("workspaces", "--profile-file", profiles, "--profile", "prod")
    assert named.code == ExitCode.USAGE
    assert named.error == (
        "error: Basic sign-in needs a password: pass --password or set ANAPLAN_PASSWORD; "
        "profile 'prod' reads it from $ANAPLAN_PROD_PASSWORD (password_env), which is not set"
    )


def test_alm_takes_the_connection_options_after_its_name(cli: Cli) -> None:
    outcome = cli("alm", "-m", PROD_MODEL, "revisions", "--json")
    assert outcome.code == ExitCode.OK, outcome.err
    assert [revision["name"] for revision in outcome.json()] == ["Baseline"]


def test_status_of_a_cancelled_task_exits_1(cli: Cli, cli_env: EmulatorHandle) -> None:
    cli_env.set_progression("manual")
    task_id = cli("run", "import", "Load Employees", "--no-wait").out.strip().splitlines()[-1]
    assert cli("cancel", "import", "Load Employees", task_id).code == ExitCode.OK
    status = cli("status", "import", "Load Employees", task_id, "--json")
    assert isinstance(parse_task(status.json()), CancelledTask)
    assert status.code == ExitCode.TASK_FAILED


def test_a_start_whose_outcome_cannot_be_known_exits_6_and_says_what_to_check(
    cli: Cli, cli_env: EmulatorHandle
) -> None:
    # The start runs but its answer is lost, and the task list that would tell cannot be read.
    cli_env.fail("POST", "*/imports/*/tasks", fault="reset_after", times=1)
    cli_env.fail("GET", "*/imports/*/tasks", status=500, times=None)
    outcome = cli("run", "import", "Load Employees")
    assert outcome.code == ExitCode.START_UNKNOWN == 6, outcome.err
    assert "may have run" in outcome.error
    assert "starting again may run it twice" in outcome.error
