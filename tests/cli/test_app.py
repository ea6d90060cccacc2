"""The command as a whole: exit codes, --debug, `serve`, and Ctrl-C on a running task."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

import anaplan_tasks
from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.client import Client
from anaplan_tasks.emulator.demo import DEMO_WORKSPACE, DEV_MODEL
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle
from anaplan_tasks.models import CancelledTask

from .conftest import Cli

SOURCE_ROOT = Path(anaplan_tasks.__file__).resolve().parent.parent


def test_wrong_password_exits_4(cli: Cli) -> None:
    outcome = cli("workspaces", "--password", "wrong")
    assert outcome.code == ExitCode.AUTHENTICATION
    assert outcome.error.startswith("error: 401")
    assert "Traceback" not in outcome.err


def test_an_unreachable_server_exits_5(cli: Cli) -> None:
    outcome = cli("workspaces", "--base-url", f"http://127.0.0.1:{_closed_port()}")
    assert outcome.code == ExitCode.UNAVAILABLE
    assert "127.0.0.1" in outcome.error


def test_debug_shows_the_traceback(cli: Cli) -> None:
    quiet = cli("files", "--model", "No Such Model")
    loud = cli("files", "--model", "No Such Model", "--debug")
    assert quiet.code == loud.code == ExitCode.USAGE
    assert "Traceback" not in quiet.err
    assert "Traceback" in loud.err


def test_help_and_version(cli: Cli) -> None:
    helped = cli("--help")
    assert helped.code == ExitCode.OK
    for command in ("run", "upload", "download", "alm", "serve", "tasks", "dump", "cancel"):
        assert command in helped.out
    assert "130 interrupted" in helped.text
    assert anaplan_tasks.__version__ in cli("--version").out


def _closed_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(**extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(SOURCE_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    environment.update(extra)
    return environment


def _wait_for(pattern: str, log: Path, process: subprocess.Popen[bytes]) -> re.Match[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {log.read_text()}")
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} never appeared: {log.read_text()}")


def test_ctrl_c_cancels_the_running_task_on_the_server(
    cli_env: EmulatorHandle, tmp_path: Path
) -> None:
    cli_env.set_progression("fixed", seconds=120)
    log = tmp_path / "stderr.txt"
    environment = _environment(
        ANAPLAN_BASE_URL=cli_env.base_url,
        ANAPLAN_EMAIL=cli_env.email,
        ANAPLAN_PASSWORD=cli_env.password,
        ANAPLAN_WORKSPACE_ID=DEMO_WORKSPACE,
        ANAPLAN_MODEL_ID=DEV_MODEL,
        COLUMNS="200",
    )
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "anaplan_tasks.cli", "run", "import", "Load Employees"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=environment,
        )
        try:
            task_id = _wait_for(r"task\s+([0-9A-F]{32})", log, process).group(1)
            time.sleep(0.5)  # let the wait begin polling
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert code == ExitCode.INTERRUPTED, log.read_text()
    said = " ".join(log.read_text().split())
    assert f"interrupted: cancelled import 'Load Employees' (112000000000) task {task_id}" in said
    with Client(
        base_url=cli_env.base_url, email=cli_env.email, password=cli_env.password
    ) as client:
        workspace = client.workspaces.list()[0].id
        model = next(m.id for m in client.models.list(workspace) if m.name == DEV_MODEL)
        with client.with_model(model, workspace) as scoped:
            status = scoped.imports.status("112000000000", task_id)
    assert isinstance(status, CancelledTask)
    assert status.task_state == "CANCELLED"


def test_serve_answers_then_stops_on_ctrl_c(tmp_path: Path) -> None:
    log = tmp_path / "serve.txt"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "anaplan_tasks.cli", "serve", "--port", "0", "--memory",
             "--json"],
            stdout=output,
            stderr=subprocess.DEVNULL,
            env=_environment(),
        )  # fmt: skip
        try:
            _wait_for(r"\}", log, process)
            where = json.loads(log.read_text(encoding="utf-8"))
            base_url = where["baseUrl"]
            token = httpx2.post(
                f"{base_url}/token/authenticate", auth=(where["email"], where["password"])
            ).json()["tokenInfo"]["tokenValue"]
            answer = httpx2.get(
                f"{base_url}/2/0/workspaces", headers={"Authorization": f"AnaplanAuthToken {token}"}
            )
            assert answer.json()["workspaces"][0]["name"] == DEMO_WORKSPACE
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == ExitCode.OK
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    hide_click = (
        "import sys; sys.modules['click'] = None; "
        "from anaplan_tasks.cli import main; raise SystemExit(main(['workspaces']))"
    )
    finished = subprocess.run(
        [sys.executable, "-c", hide_click],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
        check=False,
    )
    assert finished.returncode == ExitCode.USAGE
    assert "pip install 'anaplan-tasks[cli]'" in finished.stderr
    assert "Traceback" not in finished.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "anaplan_tasks.cli", "serve"],
        ["-m", "anaplan_tasks.emulator", "--demo"],
    ],
    ids=["anaplan-tasks serve", "python -m anaplan_tasks.emulator"],
)
@pytest.mark.parametrize("quiet", [[], ["--quiet"], ["--log-level", "warning"]])
def test_serve_logs_requests_unless_quiet_and_stops_on_ctrl_c_without_a_traceback(
    tmp_path: Path, command: list[str], quiet: list[str]
) -> None:
    log = tmp_path / "serve.txt"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, *command, "--port", "0", "--memory", *quiet],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=_environment(),
        )
        try:
            base_url = _wait_for(r"listening on (http://\S+)", log, process).group(1)
            assert httpx2.get(f"{base_url}/2/0/workspaces").status_code == 401
            time.sleep(0.2)  # the access log line is written after the answer
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    said = log.read_text(encoding="utf-8")
    assert "Traceback" not in said
    assert ("GET /2/0/workspaces" in said) is (not quiet), said


def test_write_sample_writes_the_demo_file_with_its_documented_header(
    cli: Cli, tmp_path: Path
) -> None:
    outcome = cli("demo", "--write-sample", "employees.csv", "--rows", "200", "--bad-rows", "3")
    assert outcome.code == ExitCode.OK, outcome.err
    assert outcome.text == "wrote employees.csv: 200 rows, 3 of them bad (lines 51, 101, 151)"
    lines = (tmp_path / "employees.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == '"Employee ID",Name,Region,"Start Date",Active,Salary,FTE'
    assert len(lines) == 201
    readme = (SOURCE_ROOT.parent / "README.md").read_text(encoding="utf-8")
    assert f"`{lines[0]}`" in readme
    loaded = cli("run", "import", "Load Employees", "--file", "employees.csv", "--json")
    assert loaded.code == ExitCode.OK, loaded.err
    assert loaded.json()["result"]["details"][0]["values"]


def test_help_imports_neither_the_client_nor_rich() -> None:
    """`anaplan-tasks --help` stays fast: commands import what they need when they run."""
    probe = (
        "import sys\n"
        "from anaplan_tasks.cli import main\n"
        "code = main(['--help'])\n"
        "heavy = sorted(m for m in ('pydantic', 'httpx2', 'rich', 'anaplan_tasks.client') "
        "if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=_environment(),
        check=True,
    )
    assert "run " in done.stdout
    assert "alm " in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "0 []"


@pytest.mark.parametrize("command", ["run", "upload"])
def test_ctrl_c_during_an_upload_says_the_server_file_is_incomplete(
    cli_env: EmulatorHandle, tmp_path: Path, command: str
) -> None:
    from anaplan_tasks.emulator.demo import write_employees_csv

    source = write_employees_csv(tmp_path / "employees.csv", 40_000, 0)  # 2 MB: 2+ chunks
    cli_env.fail("PUT", "*/chunks/*", fault="latency", latency=3.0, times=None)
    log = tmp_path / "stderr.txt"
    environment = _environment(
        ANAPLAN_BASE_URL=cli_env.base_url,
        ANAPLAN_EMAIL=cli_env.email,
        ANAPLAN_PASSWORD=cli_env.password,
        ANAPLAN_WORKSPACE_ID=DEMO_WORKSPACE,
        ANAPLAN_MODEL_ID=DEV_MODEL,
        COLUMNS="100",
    )
    cli_command = [sys.executable, "-m", "anaplan_tasks.cli"]
    if command == "run":
        arguments = ["run", "import", "Load Employees", "--file", str(source)]
        file, again = "113000000000", f"anaplan-tasks run import 'Load Employees' --file {source}"
    else:
        arguments = ["upload", "employees.csv", str(source)]
        file, again = "employees.csv", f"anaplan-tasks upload employees.csv {source}"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*cli_command, *arguments],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=environment,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 60
            while not any("chunks" in route for route in cli_env.request_counts()):
                assert time.monotonic() < deadline, log.read_text()
                assert process.poll() is None, log.read_text()
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    said = log.read_text()
    assert code == ExitCode.INTERRUPTED, said
    assert "Traceback" not in said
    (line,) = [line for line in said.splitlines() if line.startswith("error: ")]
    assert line.startswith(f"error: interrupted during the upload of {source} (")
    assert f"the server's file {file} now holds an incomplete upload" in line
    assert ("no task was started" in line) is (command == "run")
    assert line.endswith(f"Upload it whole again: {again}")
    assert not any("/tasks" in route for route in cli_env.request_counts() if "POST" in route)


def test_a_second_emulator_on_a_data_directory_in_use_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = tmp_path / "first.txt"
    with log.open("wb") as output:
        first = subprocess.Popen(
            [sys.executable, "-m", "anaplan_tasks.cli", "serve", "--port", "0", "--data", data],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=_environment(),
        )
        try:
            _wait_for(r"listening on", log, first)
            for command in (["anaplan_tasks.cli", "serve"], ["anaplan_tasks.emulator"]):
                second = subprocess.run(
                    [sys.executable, "-m", *command, "--port", "0", "--data", str(data)],
                    capture_output=True,
                    text=True,
                    env=_environment(),
                    timeout=60,
                    check=False,
                )
                assert second.returncode == ExitCode.USAGE, second.stderr
                assert "listening" not in second.stdout + second.stderr
                said = " ".join(second.stderr.split())
                assert f"the data directory {data} is in use by another emulator" in said
                assert f"(pid {first.pid})" in said
            first.send_signal(signal.SIGINT)
            assert first.wait(timeout=30) == 0
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
    from anaplan_tasks.emulator.server import run_emulator

    with run_emulator(data_dir=data, demo=True) as again:  # free once the first has stopped
        assert again.base_url
