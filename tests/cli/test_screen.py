"""What `run` puts on the screen: in a 100-column terminal, and in a log (stderr not a terminal).

The rendered output is compared with what it must be, ids and times aside.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import anaplan_tasks
from anaplan_tasks.cli import render
from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.emulator.demo import DEMO_WORKSPACE, DEV_MODEL, write_employees_csv
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle

from .conftest import Cli

SOURCE_ROOT = Path(anaplan_tasks.__file__).resolve().parent.parent
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _normalised(text: str) -> str:
    text = re.sub(r"\b[0-9A-F]{32}\b", "<task>", text)
    text = re.sub(r"\d+:\d\d:\d\d", "0:00:00", text)
    return re.sub(r"\d+(\.\d)? (kB|MB)/s", "<speed>", text)


def _last_frames(raw: str) -> list[str]:
    """The lines a terminal shows at the end: each live frame overwrites the one before."""
    shown: list[str] = []
    for line in raw.split("\n"):
        frame = line.split("\r")[-1]
        if "\x1b[1A\x1b[2K" in frame or "\x1b[2K" in frame:
            frame = re.split(r"(?:\x1b\[1A)?\x1b\[2K", frame)[-1]
        shown.append(_ANSI.sub("", frame))
    return [line for line in shown if line.strip()]


def test_run_import_in_a_100_column_terminal_keeps_a_visible_bar(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100, color_system=None)
    monkeypatch.setattr(render, "error_console", terminal)
    source = write_employees_csv(tmp_path / "employees.csv", 300, 4)
    outcome = cli("run", "import", "Load Employees", "--file", source)
    assert outcome.code == ExitCode.OK, outcome.err
    lines = _last_frames(screen.getvalue())
    upload, uploaded, started, task = (_normalised(line.rstrip()) for line in lines)
    assert len(upload) <= 100
    assert len(task) <= 100
    assert re.fullmatch(
        r"upload employees\.csv ━{30,} [\d.]+/[\d.]+ kB (<speed>|\?) 0:00:00", upload
    )
    assert uploaded == "uploaded " + str(source) + " to 'employees.csv' (113000000000) in 1 chunk"
    assert started == "started import 'Load Employees' (112000000000) task <task>"
    assert re.fullmatch(r"Load Employees ━{30,} 100% done 0:00:00 ~0:00:00 left", task), task


def test_run_process_in_a_log_writes_one_line_per_bar_and_names_every_action(
    cli_env: EmulatorHandle, tmp_path: Path
) -> None:
    write_employees_csv(tmp_path / "employees.csv", 300, 4)
    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(SOURCE_ROOT), os.environ.get("PYTHONPATH", "")]),
        ANAPLAN_BASE_URL=cli_env.base_url,
        ANAPLAN_EMAIL=cli_env.email,
        ANAPLAN_PASSWORD=cli_env.password,
        ANAPLAN_WORKSPACE_ID=DEMO_WORKSPACE,
        ANAPLAN_MODEL_ID=DEV_MODEL,
        COLUMNS="100",
    )
    environment.pop("FORCE_COLOR", None)
    log = tmp_path / "log.txt"

    def run(*arguments: str) -> str:
        with log.open("w") as stderr:
            done = subprocess.run(
                [sys.executable, "-m", "anaplan_tasks.cli", *arguments],
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=environment,
                cwd=tmp_path,
                text=True,
                check=False,
            )
        assert done.returncode == ExitCode.OK, log.read_text()
        return done.stdout

    run("run", "import", "Load Employees", "--file", "employees.csv")
    assert _normalised(log.read_text()).splitlines() == [
        "upload employees.csv: 15.0 kB, 100% in 0:00:00",
        "uploaded employees.csv to 'employees.csv' (113000000000) in 1 chunk",
        "started import 'Load Employees' (112000000000) task <task>",
        "Load Employees: 100% done in 0:00:00",
    ]
    table = run("run", "process", "Nightly Load")
    assert _normalised(log.read_text()).splitlines() == [
        "started process 'Nightly Load' (118000000000) task <task>",
        "Nightly Load: 100% done in 0:00:00",
    ]
    assert all(len(line) <= 100 for line in table.splitlines())
    rows = [line.split("│") for line in table.splitlines() if line.startswith("│")]
    results = [cells[1].strip() for cells in rows if len(cells) == 6 and cells[1].strip()]
    assert results[:4] == ["Nightly Load", "Load Employees", "Load Headcount", "Remove Inactive"]
    assert "fileSize=" in table
    assert re.search(r"fileSize=\d+\.\d kB", table)
    dump = [cells for cells in rows if len(cells) == 7]
    assert dump, table
    named = {cells[1].strip() for cells in dump} - {""}
    assert named == {"Load Employees", "Load Headcount"}
    assert not re.search(r"\b[0-9]{12}\b", "".join(cells[1] for cells in dump))


def test_a_failed_alm_command_leaves_no_stale_bar_above_its_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100, color_system=None)
    monkeypatch.setattr(render, "error_console", terminal)
    outcome = cli("-m", "FP&A Prod", "alm", "compare", "--source", DEV_MODEL)
    assert outcome.code == ExitCode.USAGE
    (line,) = _last_frames(screen.getvalue())
    assert line.startswith('error: "FP&A Dev" has no revision that can be synced into "FP&A Prod"')


@pytest.mark.parametrize("width", [80, 100])
def test_tables_wrap_between_words_never_inside_one(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setattr(render.console, "width", width)
    models = cli("models", "--json").json()
    revisions = cli("-m", "FP&A Prod", "alm", "revisions", "--json").json()
    whole = {"Id", "Name", "State", "Workspace", "Last", "modified", "Created", "Applied"}
    for model in models:
        whole |= {model["id"], *model["name"].split(), *model["currentWorkspaceName"].split()}
        whole.add(model["activeState"])
    for revision in revisions:
        whole |= {revision["id"], revision["name"], *revision["createdOn"][:19].split("T")}
    tables = cli("models").out
    if width == 100:
        tables += cli("-m", "FP&A Prod", "alm", "revisions").out
    for line in tables.splitlines():
        if not line.startswith(("│", "┃")):
            continue
        for cell in line.strip("│┃").replace("┃", "│").split("│"):
            for word in cell.split():
                assert word in whole or word == "Description", (word, line)
