"""`client.lists` against the emulator over loopback, sync and async: ids or names, typed items
streamed from CSV, chunked writes whose failures are indexed from the first item given."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from anaplan_tasks.errors import BadRequestError, NotFoundError
from anaplan_tasks.models.transactional import ListItem
from tests.sales_model import EMAIL, MODEL, PASSWORD, WORKSPACE, write_sales_definition

from .conftest import FAST_RETRY


@pytest.fixture(scope="module")
def sales_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    definition = write_sales_definition(tmp_path_factory.mktemp("sales"))
    with run_emulator(definitions=[definition]) as running:
        yield running


def settings(running: RunningEmulator) -> dict[str, Any]:
    login: dict[str, Any] = {
        "base_url": running.base_url,
        "email": EMAIL,
        "password": PASSWORD,
        "retry": FAST_RETRY,
        "env": {},
    }
    with Client(**login) as plain:
        workspace = next(w for w in plain.workspaces.list() if w.name == WORKSPACE)
        model = next(m for m in plain.models.list(workspace.id) if m.name == MODEL)
    return {**login, "workspace_id": workspace.id, "model_id": model.id}


@pytest.fixture
def client(sales_emulator: RunningEmulator) -> Iterator[Client]:
    sales_emulator.control.reset()
    with Client(**settings(sales_emulator)) as opened:
        yield opened


def test_lists_and_metadata_by_name_or_id(client: Client) -> None:
    found = {info.name: info for info in client.lists.list()}
    assert list(found) == ["Region Groups", "Regions"]
    by_name = client.lists.get("Regions")
    by_id = client.lists.get(found["Regions"].id)
    assert by_name == by_id
    assert by_name.parent is not None
    assert by_name.parent.name == "Region Groups"
    assert [p.name for p in by_name.properties] == [
        "Headcount",
        "Owner",
        "Active",
        "Opened",
        "Group",
    ]
    assert by_name.item_count == 2
    with pytest.raises(NotFoundError, match="did you mean 'Regions'"):
        client.lists.get("Regionz")


def test_items_are_typed_rows_with_properties(client: Client) -> None:
    top, north, _south = client.lists.items("Region Groups")
    assert top.name == "Total Regions"
    assert north.code == "G1"
    assert north.parent_id == top.id
    items = client.lists.items("Regions", include_all=True)
    assert [(i.code, i.parent, i.list_name) for i in items] == [
        ("N", "North Group", "Region Groups"),
        ("S", "South Group", "Region Groups"),
    ]
    assert items[0].properties == {
        "Headcount": "12.0",
        "Owner": "Kim",
        "Active": "true",
        "Opened": "",
        "Group": "",
    }
    assert client.lists.items("Regions")[0].properties is None


def test_items_with_commas_quotes_and_newlines_survive_the_stream(client: Client) -> None:
    odd = 'Line one\nline "two", with a comma'
    result = client.lists.add("Regions", [{"name": odd, "properties": {"Owner": 'a "b"'}}])
    assert result.added == 1
    items = client.lists.items("Regions", include_all=True)
    assert items[-1].name == odd
    assert items[-1].properties is not None
    assert items[-1].properties["Owner"] == 'a "b"'


def test_download_items_as_csv(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    size = client.lists.download_items("Regions", path, include_all=True)
    text = path.read_text()
    assert size == len(text.encode())
    assert text.startswith("id,name,code,parent,parentId,listId,listName,Headcount,")
    buffer = io.BytesIO()
    client.lists.download_items("Regions", buffer)
    assert buffer.getvalue().decode().count("\n") == 3


def test_add_update_delete_surface_each_failure(client: Client) -> None:
    added = client.lists.add(
        "Regions",
        [
            {"name": "East", "code": "E", "parent": "G1", "properties": {"Headcount": "3"}},
            {"name": "North"},
            ListItem(id="0", name="West", code="W"),
        ],
    )
    assert (added.added, added.ignored, added.total) == (2, 1, 3)
    assert [(f.request_index, f.failure_type) for f in added.failures] == [(1, "INCOMPLETE_DATA")]
    updated = client.lists.update("Regions", [{"code": "E", "name": "Eastern"}, {"code": "Q"}])
    assert (updated.updated, updated.ignored) == (1, 1)
    assert updated.failures[0].request_index == 1
    deleted = client.lists.delete("Regions", [{"code": "E"}, {"code": "nope"}])
    assert (deleted.deleted, deleted.ignored, deleted.applied) == (1, 1, 1)
    assert deleted.failures[0].failure_type == "Not found"
    assert [i.code for i in client.lists.items("Regions")] == ["N", "S", "W"]


def test_big_writes_go_in_chunks_and_failures_count_from_the_first_item(
    client: Client, sales_emulator: RunningEmulator
) -> None:
    items: list[dict[str, Any]] = [{"name": f"R{n}", "code": f"R{n}"} for n in range(100_003)]
    items[100_001] = {"name": "North"}  # refused, in the second chunk
    result = client.lists.add("Regions", iter(items))
    assert (result.added, result.ignored, result.total) == (100_002, 1, 100_003)
    assert [f.request_index for f in result.failures] == [100_001]
    posts = sum(
        count
        for key, count in sales_emulator.control.request_counts().items()
        if key.startswith("POST ") and key.endswith("/items")
    )
    assert posts == 2
    count = sum(1 for _ in client.lists.iter_items("Regions"))
    assert count == 100_004


def test_reset_index_is_refused_for_a_list_with_items(client: Client) -> None:
    with pytest.raises(BadRequestError, match="contains data"):
        client.lists.reset_index("Regions")
    client.lists.delete("Regions", [{"code": "N"}, {"code": "S"}])
    client.lists.reset_index("Regions")
    client.lists.add("Regions", [{"name": "A"}])
    assert client.lists.items("Regions")[0].id.endswith("000000001")


def test_the_async_client_reads_and_writes_the_same(sales_emulator: RunningEmulator) -> None:
    sales_emulator.control.reset()

    async def scenario() -> tuple[list[str], int]:
        async with AsyncClient(**settings(sales_emulator)) as client:
            result = await client.lists.add("Regions", [{"name": "East", "code": "E"}])
            names = [item.name async for item in client.lists.iter_items("Regions")]
            return names, result.added or 0

    names, added = asyncio.run(scenario())
    assert names == ["North", "South", "East"]
    assert added == 1
