"""Lists and list items over a real socket, against the reference's shapes (§4 of the
transactional note), with invented ids: listing, metadata, items as JSON and CSV, add, update,
delete, resetIndex, limits and errors; and that what they change is seen by imports and exports.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from tests.sales_model import EMAIL, PASSWORD, write_sales_definition

from .conftest import assert_error, ok

LIST_ID = re.compile(r"^101\d{9}$")


@dataclass
class Sales:
    api: httpx2.Client
    workspace_id: str
    model_id: str
    lists: dict[str, str]
    imports: dict[str, str]
    exports: dict[str, str]

    @property
    def base(self) -> str:
        return f"/2/0/workspaces/{self.workspace_id}/models/{self.model_id}"

    @property
    def model_base(self) -> str:
        return f"/2/0/models/{self.model_id}"

    def items_path(self, list_name: str) -> str:
        return f"{self.base}/lists/{self.lists[list_name]}/items"

    def items(self, list_name: str, **params: str) -> list[dict[str, Any]]:
        body = ok(self.api.get(self.items_path(list_name), params=params))
        items: list[dict[str, Any]] = body.get("listItems", [])
        return items

    def run(self, kind: str, action_id: str) -> dict[str, Any]:
        path = f"{self.base}/{kind}/{action_id}/tasks"
        task_id = ok(self.api.post(path, json={"localeName": "en_US"}))["task"]["taskId"]
        for _ in range(5000):
            task: dict[str, Any] = ok(self.api.get(f"{path}/{task_id}"))["task"]
            if task["taskState"] == "COMPLETE":
                return task
        raise AssertionError("the task did not finish")

    def export_text(self, name: str) -> str:
        export_id = self.exports[name]
        self.run("exports", export_id)
        response = self.api.get(f"{self.base}/files/{export_id}")
        assert response.status_code == 200, response.text
        return response.text


@contextmanager
def _sign_in(base_url: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=base_url, timeout=60) as client:
        credential = base64.b64encode(f"{EMAIL}:{PASSWORD}".encode()).decode()
        response = client.post(
            "/token/authenticate", headers={"Authorization": f"Basic {credential}"}
        )
        token = response.json()["tokenInfo"]["tokenValue"]
        client.headers["Authorization"] = f"AnaplanAuthToken {token}"
        yield client


def _sales(api: httpx2.Client) -> Sales:
    workspace = ok(api.get("/2/0/workspaces"))["workspaces"][0]
    model = ok(api.get(f"/2/0/workspaces/{workspace['id']}/models"))["models"][0]
    base = f"/2/0/workspaces/{workspace['id']}/models/{model['id']}"

    def names(kind: str) -> dict[str, str]:
        return {item["name"]: item["id"] for item in ok(api.get(f"{base}/{kind}"))[kind]}

    return Sales(
        api, workspace["id"], model["id"], names("lists"), names("imports"), names("exports")
    )


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    definition = write_sales_definition(tmp_path_factory.mktemp("sales"))
    with run_emulator(definitions=[definition]) as running:
        yield running


@pytest.fixture
def sales(emulator: RunningEmulator) -> Iterator[Sales]:
    emulator.control.reset()
    with _sign_in(emulator.base_url) as api:
        yield _sales(api)


def test_lists_are_listed_with_paging_in_both_path_forms(sales: Sales) -> None:
    body = ok(sales.api.get(f"{sales.base}/lists"))
    assert body["meta"]["paging"] == {"currentPageSize": 2, "offset": 0, "totalSize": 2}
    assert body["meta"]["schema"].endswith(f"/2/0/models/{sales.model_id}/objects/list")
    assert [item["name"] for item in body["lists"]] == ["Region Groups", "Regions"]
    assert all(LIST_ID.match(item["id"]) and set(item) == {"id", "name"} for item in body["lists"])
    assert ok(sales.api.get(f"{sales.model_base}/lists"))["lists"] == body["lists"]
    by_name_desc = ok(sales.api.get(f"{sales.base}/lists", params={"sort": "-name"}))["lists"]
    assert [item["name"] for item in by_name_desc] == ["Regions", "Region Groups"]
    page = ok(sales.api.get(f"{sales.base}/lists", params={"limit": "1", "offset": "1"}))
    assert [item["name"] for item in page["lists"]] == ["Regions"]
    assert page["meta"]["paging"]["currentPageSize"] == 1


def test_list_metadata_has_parent_properties_and_counts(sales: Sales) -> None:
    body = ok(sales.api.get(f"{sales.base}/lists/{sales.lists['Regions']}"))
    assert body["meta"]["schema"].endswith("/objects/list")
    metadata = body["metadata"]
    assert metadata["id"] == sales.lists["Regions"]
    assert metadata["parent"] == {"id": sales.lists["Region Groups"], "name": "Region Groups"}
    assert metadata["properties"][0] == {
        "name": "Headcount",
        "format": "NUMBER",
        "notes": "",
        "referencedBy": "",
    }
    assert [p["format"] for p in metadata["properties"]] == [
        "NUMBER",
        "TEXT",
        "BOOLEAN",
        "DATE",
        "ENTITY",
    ]
    for key, value in {
        "hasSelectiveAccess": False,
        "managedBy": "",
        "numberedList": False,
        "useTopLevelAsPageDefault": False,
        "itemCount": 2,
        "workflowEnabled": False,
        "productionData": False,
        "permittedItems": 999_999_997,
    }.items():
        assert metadata[key] == value, key
    assert "topLevelItem" not in metadata  # unset entries are left out
    groups = ok(sales.api.get(f"{sales.model_base}/lists/{sales.lists['Region Groups']}"))
    assert groups["metadata"]["itemCount"] == 3  # counts the top-level item
    assert groups["metadata"]["topLevelItem"]["name"] == "Total Regions"
    assert "parent" not in groups["metadata"]


def test_unknown_list_is_404_with_anaplans_error_body(sales: Sales) -> None:
    assert_error(sales.api.get(f"{sales.base}/lists/101999999998"), 404)
    assert_error(sales.api.get(f"{sales.base}/lists/101999999998/items"), 404)


def test_items_as_json_carry_parent_and_its_list(sales: Sales) -> None:
    body = ok(sales.api.get(sales.items_path("Regions"), params={"includeAll": "true"}))
    assert body["meta"]["schema"].endswith("/2/0/objects/list")
    north, south = body["listItems"]
    groups = {item["code"]: item for item in sales.items("Region Groups") if "code" in item}
    assert north == {
        "id": north["id"],
        "name": "North",
        "code": "N",
        "parent": "North Group",
        "parentId": groups["G1"]["id"],
        "listId": sales.lists["Region Groups"],
        "listName": "Region Groups",
        "properties": {
            "Headcount": "12.0",
            "Owner": "Kim",
            "Active": "true",
            "Opened": "",
            "Group": "",
        },
    }
    assert south["properties"]["Active"] == "false"
    assert re.match(r"^\d{12}$", north["id"])
    assert int(south["id"]) == int(north["id"]) + 1
    plain = sales.items("Regions")
    assert "properties" not in plain[0]  # only with includeAll=true


def test_the_top_level_item_comes_first_with_index_zero(sales: Sales) -> None:
    top, first, _ = sales.items("Region Groups")
    assert top == {"id": top["id"], "name": "Total Regions"}
    assert top["id"].endswith("000000000")
    assert first["parent"] == "Total Regions"
    assert first["parentId"] == top["id"]
    assert "listId" not in first  # the parent is in the same list


def test_items_as_csv(sales: Sales) -> None:
    response = sales.api.get(
        sales.items_path("Regions"), params={"includeAll": "true"}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "id",
        "name",
        "code",
        "parent",
        "parentId",
        "listId",
        "listName",
        "Headcount",
        "Owner",
        "Active",
        "Opened",
        "Group",
    ]
    assert rows[1][1:5] == ["North", "N", "North Group", rows[1][4]]
    assert rows[1][5:] == [
        sales.lists["Region Groups"],
        "Region Groups",
        "12.0",
        "Kim",
        "true",
        "",
        "",
    ]
    plain = sales.api.get(sales.items_path("Regions"), headers={"Accept": "text/csv"})
    assert plain.text.splitlines()[0] == "id,name,code,parent,parentId,listId,listName"


def test_add_counts_and_reports_each_failed_item(sales: Sales) -> None:
    # The reference's example: one item added, one refused for a number that is no number.
    body = ok(
        sales.api.post(
            sales.items_path("Regions"),
            params={"action": "add"},
            json={
                "items": [
                    {
                        "name": "West",
                        "code": "W",
                        "parent": "North Group",
                        "properties": {"Headcount": "4", "Active": "true", "Group": "G2"},
                    },
                    {"name": "Far West", "properties": {"Headcount": "twelve"}},
                ]
            },
        )
    )
    assert body["meta"]["schema"].endswith("/objects/list")
    assert {k: body[k] for k in ("added", "ignored", "total")} == {
        "added": 1,
        "ignored": 1,
        "total": 2,
    }
    assert body["failures"] == [
        {
            "requestIndex": 1,
            "failureType": "INCORRECT_FORMAT",
            "failureMessageDetails": "incorrect format -- column name:Headcount, value:twelve",
        }
    ]
    west = next(item for item in sales.items("Regions", includeAll="true") if item["code"] == "W")
    assert west["parent"] == "North Group"
    assert west["properties"]["Headcount"] == "4.0"
    assert west["properties"]["Group"] == "G2"
    # Everything added: no failures key at all.
    clean = ok(
        sales.api.post(
            sales.items_path("Regions"), params={"action": "add"}, json={"items": [{"name": "X"}]}
        )
    )
    assert "failures" not in clean
    assert clean["added"] == 1


def test_add_refuses_duplicates_missing_names_and_unknown_parents(sales: Sales) -> None:
    body = ok(
        sales.api.post(
            f"{sales.model_base}/lists/{sales.lists['Regions']}/items",
            params={"action": "add"},
            json={
                "items": [
                    {"name": "North"},  # name taken
                    {"name": "Elsewhere", "code": "S"},  # code taken
                    {"code": "Q"},  # no name
                    {"name": "Mid", "parent": "Nowhere"},
                    {"name": "Twin"},
                    {"name": "Twin"},  # twice in one request
                    {"name": "Odd", "properties": {"Colour": "red"}},
                ]
            },
        )
    )
    assert body["added"] == 1
    assert body["ignored"] == 6
    assert body["total"] == 7
    assert [f["requestIndex"] for f in body["failures"]] == [0, 1, 2, 3, 5, 6]
    assert {f["failureType"] for f in body["failures"]} == {"INCOMPLETE_DATA"}


def test_update_follows_the_references_scenarios(sales: Sales) -> None:
    path = sales.items_path("Regions")
    north = next(item for item in sales.items("Regions") if item["code"] == "N")
    body = ok(
        sales.api.put(
            path,
            params={"action": "update"},
            json={
                "items": [
                    {"code": "N", "name": "Northern"},  # rename, found by code
                    {"id": north["id"], "code": "NN"},  # change the code, found by id
                    {"code": "S", "properties": {"Owner": "Lia"}},  # other values kept
                    {"code": "S", "code2": "x", "name": "South", "parent": "G1"},
                    {"name": "South", "properties": {"Owner": "X"}},  # S has a code
                    {"code": ""},  # clearing a code
                    {"code": "NOPE"},
                ]
            },
        )
    )
    assert {k: body[k] for k in ("updated", "ignored", "total")} == {
        "updated": 4,
        "ignored": 3,
        "total": 7,
    }
    assert [(f["requestIndex"], f["failureType"]) for f in body["failures"]] == [
        (4, "INCOMPLETE_DATA"),
        (5, "INCOMPLETE_DATA"),
        (6, "INCOMPLETE_DATA"),
    ]
    items = {item["id"]: item for item in sales.items("Regions", includeAll="true")}
    renamed = items[north["id"]]  # same id after a new name and a new code
    assert (renamed["name"], renamed["code"]) == ("Northern", "NN")
    south = next(item for item in items.values() if item["code"] == "S")
    assert south["properties"]["Owner"] == "Lia"
    assert south["properties"]["Headcount"] == "7.0"
    assert south["parent"] == "North Group"
    # Without ?action=update works too (Anaplan's own examples send none).
    again = ok(sales.api.put(path, json={"items": [{"code": "S", "name": "Southern"}]}))
    assert again["updated"] == 1
    assert "failures" not in again


def test_delete_counts_failures_and_takes_the_cells(sales: Sales) -> None:
    sales.run("imports", sales.imports["Load Targets"])
    assert "N,100" in sales.export_text("Targets Export").replace('"', "")
    south = next(item for item in sales.items("Regions") if item["code"] == "S")
    body = ok(
        sales.api.post(
            sales.items_path("Regions"),
            params={"action": "delete"},
            json={
                "items": [
                    {"code": "N"},
                    {"id": int(south["id"])},  # ids may be numbers, as in the reference
                    {"code": "Z"},
                    {"id": south["id"], "code": "S"},
                ]
            },
        )
    )
    assert {k: body[k] for k in ("deleted", "ignored", "total")} == {
        "deleted": 2,
        "ignored": 2,
        "total": 4,
    }
    assert body["failures"] == [
        {
            "requestIndex": 2,
            "failureType": "Not found",
            "failureMessageDetails": "Code 'Z' not found",
        },
        {
            "requestIndex": 3,
            "failureType": "Ambiguous criteria",
            "failureMessageDetails": f"Specifying both ID and code not supported ({south['id']}:S)",
        },
    ]
    assert sales.items("Regions") == []
    exported = sales.export_text("Targets Export")
    assert "100" not in exported
    assert "50" not in exported


def test_items_added_over_the_api_are_what_imports_and_exports_see(sales: Sales) -> None:
    ok(
        sales.api.post(
            sales.items_path("Regions"),
            params={"action": "add"},
            json={"items": [{"name": "East", "code": "E", "parent": "G2"}]},
        )
    )
    east_before = next(item for item in sales.items("Regions") if item["code"] == "E")
    assert "East" in sales.export_text("Regions Export")
    task = sales.run("imports", sales.imports["Load Regions"])  # updates E and N, adds nothing
    assert task["result"]["successful"] is True
    items = {item["code"]: item for item in sales.items("Regions", includeAll="true")}
    assert items["E"]["id"] == east_before["id"]  # an import keeps the item's id
    assert items["E"]["parent"] == "North Group"
    assert items["N"]["properties"]["Headcount"] == "13.0"
    assert list(items) == ["N", "S", "E"]


def test_reset_index(sales: Sales) -> None:
    path = f"{sales.base}/lists/{sales.lists['Regions']}/resetIndex"
    refused = assert_error(sales.api.post(path), 400)
    assert refused["status"]["message"] == (
        "We can't reset the list item index of a list that contains data. Select an empty list "
        "that doesn't contain any list items."
    )
    ok(
        sales.api.post(
            sales.items_path("Regions"),
            params={"action": "delete"},
            json={"items": [{"code": "N"}, {"code": "S"}]},
        )
    )
    before = ok(sales.api.get(f"{sales.base}/lists/{sales.lists['Regions']}"))["metadata"]
    assert before["permittedItems"] == 999_999_997  # deleting frees no index
    response = sales.api.post(f"{sales.model_base}/lists/{sales.lists['Regions']}/resetIndex")
    assert response.status_code == 200
    assert response.content == b""
    ok(
        sales.api.post(
            sales.items_path("Regions"), params={"action": "add"}, json={"items": [{"name": "A"}]}
        )
    )
    (item,) = sales.items("Regions")
    assert item["id"].endswith("000000001")


def test_write_limits_and_malformed_requests(sales: Sales) -> None:
    path = sales.items_path("Regions")
    too_many = {"items": [{}] * 100_001}
    assert_error(sales.api.post(path, params={"action": "add"}, json=too_many), 400)
    assert_error(sales.api.put(path, json=too_many), 400)
    assert_error(sales.api.post(path, params={"action": "add"}, content=b"{not json"), 400)
    assert_error(sales.api.post(path, params={"action": "add"}, json={"item": []}), 400)
    assert_error(sales.api.post(path, json={"items": []}), 400)  # no action
    assert_error(sales.api.post(path, params={"action": "update"}, json={"items": []}), 400)
    assert len(sales.items("Regions")) == 2  # nothing changed


def test_parallel_adds_all_land_with_distinct_ids(sales: Sales, emulator: RunningEmulator) -> None:
    # anaplan-sdk sends chunks of one insert in parallel.
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def add(chunk: int) -> None:
        try:
            with _sign_in(emulator.base_url) as api:
                items = [{"name": f"R{chunk}-{n}", "code": f"R{chunk}-{n}"} for n in range(200)]
                response = api.post(
                    sales.items_path("Regions"), params={"action": "add"}, json={"items": items}
                )
                results.append(ok(response))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=add, args=(chunk,)) for chunk in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(result["added"] for result in results) == [200] * 4
    items = sales.items("Regions")
    assert len(items) == 802
    assert len({item["id"] for item in items}) == 802


def test_ids_are_stable_across_restarts(tmp_path: Path) -> None:
    definition = write_sales_definition(tmp_path)
    data = tmp_path / "data"
    with (
        run_emulator(definitions=[definition], data_dir=data) as first,
        _sign_in(first.base_url) as api,
    ):
        sales = _sales(api)
        ok(
            api.post(
                sales.items_path("Regions"),
                params={"action": "add"},
                json={"items": [{"name": "East", "code": "E"}]},
            )
        )
        before = sales.items("Regions")
        lists_before = sales.lists
    with (
        run_emulator(definitions=[definition], data_dir=data) as second,
        _sign_in(second.base_url) as api,
    ):
        sales = _sales(api)
        assert sales.lists == lists_before
        assert sales.items("Regions") == before


def test_list_writes_and_reads_while_the_emulator_resets(
    sales: Sales, emulator: RunningEmulator
) -> None:
    # Lifecycle mid-request: every answer is a clean 2xx or an Anaplan error, never a 5xx.
    statuses: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def work(worker: int) -> None:
        try:
            with _sign_in(emulator.base_url) as api:
                for n in range(15):
                    items = [{"name": f"W{worker}-{n}-{k}"} for k in range(50)]
                    added = api.post(
                        sales.items_path("Regions"), params={"action": "add"}, json={"items": items}
                    )
                    read = api.get(sales.items_path("Regions"), headers={"Accept": "text/csv"})
                    statuses.extend([added.status_code, read.status_code])
        except BaseException as error:
            errors.append(error)

    def resets() -> None:
        while not stop.is_set():
            emulator.control.reset()
            stop.wait(0.05)

    resetter = threading.Thread(target=resets)
    workers = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    resetter.start()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    stop.set()
    resetter.join()
    assert not errors
    assert statuses
    assert all(status < 500 for status in statuses), sorted(set(statuses))


def test_list_preview_is_csv_of_names_parents_and_codes(sales: Sales) -> None:
    response = sales.api.get(f"{sales.base}/lists/{sales.lists['Regions']}/preview")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["", "Parent", "Code", "Headcount", "Owner", "Active", "Opened", "Group"]
    assert rows[1][:4] == ["North", "North Group", "N", "12.0"]
    assert len(rows) == 3
