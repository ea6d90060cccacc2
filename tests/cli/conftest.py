"""Run `anaplan-tasks` in-process against the session's emulator (a real server on loopback)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.cli import main, render
from anaplan_tasks.emulator.demo import DEMO_WORKSPACE, DEV_MODEL
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle


@dataclass
class Outcome:
    """What one command did: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """Stdout with rich's line wrapping undone (whitespace runs become one space)."""
        return " ".join(self.out.split())

    @property
    def error(self) -> str:
        """Stderr with rich's line wrapping undone."""
        return " ".join(self.err.split())

    def json(self) -> Any:
        """Stdout as the one JSON document it must be."""
        return json.loads(self.out)


Cli = Callable[..., Outcome]


@pytest.fixture
def cli_env(
    anaplan_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> EmulatorHandle:
    """ANAPLAN_* variables pointing at the emulator's dev model; no profile file in sight."""
    for name in ("ANAPLAN_TOKEN", "ANAPLAN_CERTIFICATE", "ANAPLAN_PRIVATE_KEY", "ANAPLAN_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ANAPLAN_PROFILE_FILE", raising=False)
    monkeypatch.setenv("ANAPLAN_BASE_URL", anaplan_emulator.base_url)
    monkeypatch.setenv("ANAPLAN_EMAIL", anaplan_emulator.email)
    monkeypatch.setenv("ANAPLAN_PASSWORD", anaplan_emulator.password)
    monkeypatch.setenv("ANAPLAN_WORKSPACE_ID", DEMO_WORKSPACE)
    monkeypatch.setenv("ANAPLAN_MODEL_ID", DEV_MODEL)
    monkeypatch.chdir(tmp_path)
    # Wide enough that table cells do not wrap (a terminal's width is read at run time).
    monkeypatch.setattr(render.console, "width", 240)
    monkeypatch.setattr(render.error_console, "width", 240)
    return anaplan_emulator


@pytest.fixture
def cli(cli_env: EmulatorHandle, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run one command line; returns its exit code and output."""

    def run(*arguments: str) -> Outcome:
        capsys.readouterr()
        code = main([str(argument) for argument in arguments])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
