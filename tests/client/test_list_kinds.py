"""`client.lists` on subsets, a numbered list and a list under selective access, against the
emulator over loopback: subsets read (streamed CSV and JSON) and written, generated names, the
items a non-administrator sees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.client import Client
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from tests.client.conftest import FAST_RETRY
from tests.emulator.api.test_list_kinds import DEFINITION


@pytest.fixture(scope="module")
def kinds_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    path: Path = tmp_path_factory.mktemp("kinds") / "kinds.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    with run_emulator(definitions=[path]) as running:
        yield running


def _client(running: RunningEmulator, email: str) -> Client:
    settings: dict[str, Any] = {
        "base_url": running.base_url,
        "email": email,
        "password": "pw",
        "retry": FAST_RETRY,
        "env": {},
        "workspace_id": "Kinds WS",
        "model_id": "Kinds",
    }
    return Client(**settings)


@pytest.fixture
def ann(kinds_emulator: RunningEmulator) -> Iterator[Client]:
    kinds_emulator.control.reset()
    with _client(kinds_emulator, "ann@example.com") as client:
        yield client


def test_subsets_are_read_and_written(ann: Client) -> None:
    metadata = ann.lists.get("Accounts")
    assert [s.name for s in metadata.subsets or []] == ["Active", "Key"]
    streamed = list(ann.lists.iter_items("Accounts", include_all=True))
    assert [(i.code, i.subsets, i.properties) for i in streamed] == [
        ("A1", {"Active": True, "Key": True}, {"Owner": "Kim"}),
        ("A2", {"Active": True, "Key": False}, {"Owner": "Raj"}),
        ("A3", {"Active": False, "Key": False}, {"Owner": ""}),
    ]
    result = ann.lists.add("Accounts", [{"code": "A4", "name": "Dune", "subsets": {"Key": True}}])
    assert result.added == 1
    key = next(s.id for s in metadata.subsets or [] if s.name == "Key")
    assert [i.code for i in ann.modules.dimension_items(key)] == ["A1", "A4"]


def test_numbered_names_and_selective_access(kinds_emulator: RunningEmulator, ann: Client) -> None:
    tickets = ann.lists.get("Tickets")
    assert (tickets.numbered_list, tickets.next_item_index) == (True, 3)
    result = ann.lists.add("Tickets", [{"code": "T-3"}, {"name": "#7", "code": "T-7"}])
    assert (result.added, [f.request_index for f in result.failures]) == (1, [1])
    assert [i.name for i in ann.lists.items("Tickets")] == ["#1", "#2", "#3"]
    teams = ann.lists.items("Teams", include_all=True)
    assert [(i.name, i.read) for i in teams] == [
        ("All Teams", ""),
        ("Red", "bo@example.com"),
        ("Blue", ""),
        ("Green", ""),
    ]
    with _client(kinds_emulator, "bo@example.com") as bo:
        assert [i.name for i in bo.lists.items("Teams")] == ["All Teams", "Red", "Blue"]
