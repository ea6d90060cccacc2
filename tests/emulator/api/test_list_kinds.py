"""List subsets, numbered lists and selective access over a real socket, against the reference's
shapes (§4.2 to §4.5 and §6.1 of the transactional note; invented ids): subsets in list metadata,
in items read as JSON and CSV, written by add and update, and as a dimension; a numbered list's
generated names, `nextItemIndex` and display-name property; the items a user under selective
access may see."""

from __future__ import annotations

import base64
import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.server import RunningEmulator, run_emulator

from .conftest import assert_error, ok

DEFINITION = """
[[users]]
email = "ann@example.com"
password = "pw"

[[users]]
email = "bo@example.com"
password = "pw"

[[workspaces]]
name = "Kinds WS"
admins = ["ann@example.com"]
users = ["bo@example.com"]

[[workspaces.models]]
name = "Kinds"

[[workspaces.models.lists]]
name = "Accounts"
subsets = ["Active", "Key"]
properties = [{ name = "Owner", format = "text" }]
items = [
    { code = "A1", name = "Acme", Owner = "Kim", subsets = ["Active", "Key"] },
    { code = "A2", name = "Bolt", Owner = "Raj", subsets = ["Active"] },
    { code = "A3", name = "Core" },
]

[[workspaces.models.lists]]
name = "Tickets"
numbered = true
display_name_property = "Title"
properties = [{ name = "Title", format = "text" }]
items = [{ code = "T-1", Title = "Printer down" }, { code = "T-2" }]

[[workspaces.models.lists]]
name = "Teams"
selective_access = true
top_level = "All Teams"
items = [
    { code = "RED", name = "Red", read = ["bo@example.com"] },
    { code = "BLUE", name = "Blue", write = ["ann@example.com", "bo@example.com"] },
    { code = "GREEN", name = "Green" },
]

[[workspaces.models.modules]]
name = "Effort"
dimensions = ["Tickets"]
line_items = [{ name = "Hours" }, { name = "Cost" }, { name = "Rate" }]
line_item_subsets = [{ name = "Spend", line_items = ["Cost", "Rate"] }]

[[workspaces.models.modules]]
name = "Staffing"
dimensions = ["Teams"]
line_items = [{ name = "People" }]
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    path: Path = tmp_path_factory.mktemp("kinds") / "kinds.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    with run_emulator(definitions=[path]) as running:
        yield running


@contextmanager
def _signed_in(emulator: RunningEmulator, email: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.base_url, timeout=30) as client:
        credential = base64.b64encode(f"{email}:pw".encode()).decode()
        answer = client.post(
            "/token/authenticate", headers={"Authorization": f"Basic {credential}"}
        )
        token = answer.json()["tokenInfo"]["tokenValue"]
        client.headers["Authorization"] = f"AnaplanAuthToken {token}"
        yield client


class Model:
    def __init__(self, api: httpx2.Client):
        self.api = api
        workspace = ok(api.get("/2/0/workspaces"))["workspaces"][0]
        model = ok(api.get(f"/2/0/workspaces/{workspace['id']}/models"))["models"][0]
        self.base = f"/2/0/workspaces/{workspace['id']}/models/{model['id']}"
        self.lists = {x["name"]: x["id"] for x in ok(api.get(f"{self.base}/lists"))["lists"]}

    def path(self, list_name: str, suffix: str = "") -> str:
        return f"{self.base}/lists/{self.lists[list_name]}{suffix}"

    def items(self, list_name: str, **params: str) -> list[dict[str, Any]]:
        body = ok(self.api.get(self.path(list_name, "/items"), params=params))
        found: list[dict[str, Any]] = body.get("listItems", [])
        return found


@pytest.fixture
def ann(emulator: RunningEmulator) -> Iterator[Model]:
    emulator.control.reset()
    with _signed_in(emulator, "ann@example.com") as api:
        yield Model(api)


def test_subsets_in_metadata_items_and_csv(ann: Model) -> None:
    metadata = ok(ann.api.get(ann.path("Accounts")))["metadata"]
    assert [s["name"] for s in metadata["subsets"]] == ["Active", "Key"]
    assert all(s["id"].startswith("109") and len(s["id"]) == 12 for s in metadata["subsets"])
    assert metadata["numberedList"] is False
    items = ann.items("Accounts", includeAll="true")
    assert items[0]["subsets"] == {"Active": True, "Key": True}
    assert items[1]["subsets"] == {"Active": True, "Key": False}
    assert items[2]["subsets"] == {"Active": False, "Key": False}
    assert "subsets" not in ann.items("Accounts")[0]
    response = ann.api.get(
        ann.path("Accounts", "/items"),
        params={"includeAll": "true"},
        headers={"Accept": "text/csv"},
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "id",
        "name",
        "code",
        "parent",
        "parentId",
        "listId",
        "listName",
        "Active",
        "Key",
        "Owner",
    ]
    assert rows[2][1:3] + rows[2][7:] == ["Bolt", "A2", "true", "false", "Raj"]
    preview = ann.api.get(ann.path("Accounts", "/preview"), headers={"Accept": "text/csv"})
    assert preview.text.splitlines()[:2] == [
        ",Parent,Code,Active,Key,Owner",
        "Acme,,A1,true,true,Kim",
    ]


def test_subsets_written_by_add_and_update_and_read_as_a_dimension(ann: Model) -> None:
    added = ok(
        ann.api.post(
            ann.path("Accounts", "/items"),
            params={"action": "add"},
            json={
                "items": [
                    {"code": "A4", "name": "Dune", "subsets": {"Key": True}},
                    {"code": "A5", "name": "Echo", "subsets": {"Gold": True}},
                    {"code": "A6", "name": "Fern", "subsets": {"Key": "maybe"}},
                ]
            },
        )
    )
    assert (added["added"], added["ignored"]) == (1, 2)
    assert [(f["requestIndex"], f["failureType"]) for f in added["failures"]] == [
        (1, "INCOMPLETE_DATA"),
        (2, "INCORRECT_FORMAT"),
    ]
    updated = ok(
        ann.api.put(
            ann.path("Accounts", "/items"),
            json={
                "items": [
                    {"code": "A1", "subsets": {"Key": False}},
                    {"code": "A3", "subsets": {"Active": "true"}},
                ]
            },
        )
    )
    assert updated["updated"] == 2
    by_code = {i["code"]: i["subsets"] for i in ann.items("Accounts", includeAll="true")}
    assert by_code == {
        "A1": {"Active": True, "Key": False},  # the subset not sent keeps its value
        "A2": {"Active": True, "Key": False},
        "A3": {"Active": True, "Key": False},
        "A4": {"Active": False, "Key": True},
    }
    subsets = ok(ann.api.get(ann.path("Accounts")))["metadata"]["subsets"]
    key = next(s["id"] for s in subsets if s["name"] == "Key")
    in_key = ok(ann.api.get(f"{ann.base}/dimensions/{key}/items"))["items"]
    assert [(i["name"], i["code"]) for i in in_key] == [("Dune", "A4")]
    looked_up = ok(ann.api.post(f"{ann.base}/dimensions/{key}/items", json={"codes": ["a4", "A1"]}))
    assert [i["name"] for i in looked_up["items"]] == ["Dune"]


def test_a_numbered_list_generates_names_and_shows_its_display_name(ann: Model) -> None:
    metadata = ok(ann.api.get(ann.path("Tickets")))["metadata"]
    assert metadata["numberedList"] is True
    assert metadata["nextItemIndex"] == 3
    assert metadata["displayNameProperty"] == "Title"
    assert [(i["name"], i["code"]) for i in ann.items("Tickets")] == [("#1", "T-1"), ("#2", "T-2")]
    added = ok(
        ann.api.post(
            ann.path("Tickets", "/items"),
            params={"action": "add"},
            json={
                "items": [
                    {"code": "T-3", "properties": {"Title": "VPN"}},
                    {"name": "#9", "code": "T-9"},  # a numbered list's names are generated
                    {"code": "T-1"},  # a duplicate code
                    {"properties": {"Title": "No code"}},
                ]
            },
        )
    )
    assert (added["added"], [f["requestIndex"] for f in added["failures"]]) == (2, [1, 2])
    names = [(i["name"], i["code"]) for i in ann.items("Tickets")]
    assert names == [("#1", "T-1"), ("#2", "T-2"), ("#3", "T-3"), ("#4", "#4")]
    assert ok(ann.api.get(ann.path("Tickets")))["metadata"]["nextItemIndex"] == 5
    updates = ok(
        ann.api.put(
            ann.path("Tickets", "/items"),
            params={"action": "update"},
            json={
                "items": [
                    {"code": "T-2", "properties": {"Title": "Lost badge"}},
                    {"name": "#1", "properties": {"Title": "by name"}},  # id or code only
                    {"code": "T-3", "name": "Renamed"},  # names are generated
                ]
            },
        )
    )
    assert (updates["updated"], [f["requestIndex"] for f in updates["failures"]]) == (1, [1, 2])
    effort = ok(ann.api.get(f"{ann.base}/modules"))["modules"][0]["id"]
    grid = ann.api.get(f"{ann.base}/views/{effort}/data").text.splitlines()
    assert [line.split(",")[0] for line in grid[1:]] == [
        "Printer down",
        "Lost badge",
        "VPN",
        "No code",
    ]


def test_selective_access_shows_a_user_the_items_that_name_them(
    emulator: RunningEmulator, ann: Model
) -> None:
    metadata = ok(ann.api.get(ann.path("Teams")))["metadata"]
    assert metadata["hasSelectiveAccess"] is True
    everything = ann.items("Teams", includeAll="true")
    names = [i["name"] for i in everything]
    assert names == ["All Teams", "Red", "Blue", "Green"]  # an administrator sees every item
    assert (everything[2]["read"], everything[2]["write"]) == (
        "",
        "ann@example.com, bo@example.com",
    )
    assert everything[1]["read"] == "bo@example.com"
    table = ann.api.get(
        ann.path("Teams", "/items"), params={"includeAll": "true"}, headers={"Accept": "text/csv"}
    )
    lines = list(csv.reader(io.StringIO(table.text)))
    assert lines[0][7:] == ["read", "write"]
    assert lines[3][1] == "Blue"
    assert lines[3][7:] == ["", "ann@example.com, bo@example.com"]
    with _signed_in(emulator, "bo@example.com") as api:
        bo = Model(api)
        assert [i["name"] for i in bo.items("Teams")] == ["All Teams", "Red", "Blue"]
        csv_rows = bo.api.get(bo.path("Teams", "/items"), headers={"Accept": "text/csv"}).text
        assert [row.split(",")[1] for row in csv_rows.splitlines()[1:]] == [
            "All Teams",
            "Red",
            "Blue",
        ]
        assert [i["name"] for i in bo.items("Accounts")] == ["Acme", "Bolt", "Core"]
    assert ok(ann.api.get(ann.path("Accounts")))["metadata"]["hasSelectiveAccess"] is False
    assert_error(ann.api.get(f"{ann.base}/lists/101999999998"), 404)


def _people(code: str, value: int) -> dict[str, Any]:
    return {
        "lineItemName": "People",
        "dimensions": [{"dimensionName": "Teams", "itemCode": code}],
        "value": value,
    }


def test_selective_access_in_views_and_cell_writes(emulator: RunningEmulator, ann: Model) -> None:
    staffing = {m["name"]: m["id"] for m in ok(ann.api.get(f"{ann.base}/modules"))["modules"]}[
        "Staffing"
    ]
    data = f"{ann.base}/modules/{staffing}/data"
    written = ok(
        ann.api.post(data, json=[_people("RED", 3), _people("BLUE", 4), _people("GREEN", 5)])
    )
    assert written["numberOfCellsChanged"] == 3  # an administrator writes every item
    grid = ann.api.get(f"{ann.base}/views/{staffing}/data").text.splitlines()
    assert grid[1:] == ["All Teams,12", "Red,3", "Blue,4", "Green,5"]
    teams = ann.lists["Teams"]
    with _signed_in(emulator, "bo@example.com") as api:
        bo = Model(api)
        shown = bo.api.get(f"{bo.base}/views/{staffing}/data").text.splitlines()
        assert shown[1:] == ["All Teams,12", "Red,3", "Blue,4"]  # the total sums every item
        items = ok(bo.api.get(f"{bo.base}/views/{staffing}/dimensions/{teams}/items"))["items"]
        assert [i["name"] for i in items] == ["Red", "Blue"]
        answer = ok(
            bo.api.post(data, json=[_people("BLUE", 6), _people("RED", 1), _people("GREEN", 1)])
        )
        assert answer["numberOfCellsChanged"] == 1
        assert [(f["requestIndex"], f["failureType"]) for f in answer["failures"]] == [
            (1, "cellIsNotWriteable"),  # Red: bo may read it, not write it
            (2, "cellIsNotWriteable"),  # Green: hidden from bo
        ]
    assert ann.api.get(f"{ann.base}/views/{staffing}/data").text.splitlines()[1] == "All Teams,14"


def test_a_line_item_subset_is_a_dimension_of_its_line_items(ann: Model) -> None:
    spend = "114000000000"  # the first line-item subset: 114 and a counter
    items = ok(ann.api.get(f"{ann.base}/dimensions/{spend}/items"))
    assert items["meta"]["schema"].endswith("/objects/dimension")
    effort = ok(ann.api.get(f"{ann.base}/modules"))["modules"][0]["id"]
    line_items = ok(ann.api.get(f"{ann.base}/modules/{effort}/lineItems"))["items"]
    by_name = {li["name"]: li["id"] for li in line_items}
    assert items["items"] == [
        {"id": by_name["Cost"], "name": "Cost"},
        {"id": by_name["Rate"], "name": "Rate"},
    ]
    found = ok(ann.api.post(f"{ann.base}/dimensions/{spend}/items", json={"names": ["rate"]}))
    assert [i["name"] for i in found["items"]] == ["Rate"]
    assert_error(ann.api.get(f"{ann.base}/dimensions/114999999999/items"), 404)


def test_a_list_read_request_carries_subsets_and_selective_access(ann: Model) -> None:
    def read(list_name: str) -> list[list[str]]:
        started = ok(ann.api.post(ann.path(list_name, "/readRequests")))["listReadRequest"]
        path = ann.path(list_name, f"/readRequests/{started['requestId']}")
        deadline = time.monotonic() + 30
        while (state := ok(ann.api.get(path))["listReadRequest"])["requestState"] != "COMPLETE":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        pages = [
            ann.api.get(f"{path}/pages/{n}", headers={"Accept": "text/csv"}).text
            for n in range(state["availablePages"])
        ]
        ok(ann.api.delete(path))
        return list(csv.reader(io.StringIO("".join(pages))))

    accounts = read("Accounts")
    assert accounts[0] == ["", "Parent", "Write", "Read", "Code", "Active", "Key", "Owner"]
    assert accounts[1] == ["Acme", "", "", "", "A1", "true", "true", "Kim"]
    teams = read("Teams")
    assert teams[1] == ["Red", "", "", "bo@example.com", "RED"]
    assert teams[2] == ["Blue", "", "ann@example.com, bo@example.com", "", "BLUE"]
