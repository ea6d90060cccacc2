"""Modules, line items, views, view data, dimension items, cell writes and time settings over a
real socket, against the reference's shapes (§5 to §8 of the transactional note)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from anaplan_tasks.emulator.server import RunningEmulator

from .conftest import assert_error, ok
from .test_lists import Sales, _sales, _sign_in
from .test_lists import emulator as emulator  # the module's emulator on the sales model

LINE_ITEMS = "20000000012"


@pytest.fixture
def sales(emulator: RunningEmulator) -> Iterator[Sales]:
    emulator.control.reset()
    with _sign_in(emulator.base_url) as api:
        yield _sales(api)


def modules(sales: Sales) -> dict[str, str]:
    return {m["name"]: m["id"] for m in ok(sales.api.get(f"{sales.model_base}/modules"))["modules"]}


def line_items(sales: Sales, module: str) -> dict[str, str]:
    path = f"{sales.model_base}/modules/{modules(sales)[module]}/lineItems"
    return {li["name"]: li["id"] for li in ok(sales.api.get(path))["items"]}


def item_ids(sales: Sales, list_name: str) -> dict[str, str]:
    return {item.get("code", item["name"]): item["id"] for item in sales.items(list_name)}


def write(sales: Sales, module: str, cells: list[Any]) -> dict[str, Any]:
    return ok(
        sales.api.post(f"{sales.model_base}/modules/{modules(sales)[module]}/data", json=cells)
    )


def cell(line_item: str, region: str, group: str, value: Any) -> dict[str, Any]:
    return {
        "lineItemName": line_item,
        "dimensions": [
            {"dimensionName": "Regions", "itemCode": region},
            {"dimensionName": "Region Groups", "itemCode": group},
        ],
        "value": value,
    }


def test_modules_are_listed_with_paging_in_both_forms(sales: Sales) -> None:
    body = ok(sales.api.get(f"{sales.model_base}/modules"))
    assert body["meta"]["schema"].endswith("/objects/module")
    assert body["meta"]["paging"]["totalSize"] == 2
    assert [m["name"] for m in body["modules"]] == ["Targets", "Plan"]
    assert all(re.match(r"^102\d{9}$", m["id"]) for m in body["modules"])
    assert ok(sales.api.get(f"{sales.base}/modules"))["modules"] == body["modules"]


def test_line_items_plain_and_with_every_field(sales: Sales) -> None:
    plan = modules(sales)["Plan"]
    body = ok(sales.api.get(f"{sales.model_base}/modules/{plan}/lineItems"))
    assert body["meta"]["schema"].endswith("/objects/lineItem")
    assert [li["name"] for li in body["items"]] == ["Units", "Comment", "Approved", "Due", "Lead"]
    assert set(body["items"][0]) == {"moduleId", "moduleName", "id", "name"}
    everything = ok(sales.api.get(f"{sales.model_base}/lineItems", params={"includeAll": "true"}))
    units = next(li for li in everything["items"] if li["name"] == "Units")
    assert units["format"] == "NUMBER"
    assert units["formatMetadata"]["dataType"] == "NUMBER"
    assert units["version"] == {"name": "All", "id": "16000000000"}
    assert [a["name"] for a in units["appliesTo"]] == ["Regions", "Region Groups"]
    for key in ("summary", "timeScale", "timeRange", "style", "notes", "formulaScope"):
        assert isinstance(units[key], str), key
    for key in ("isSummary", "useSwitchover", "breakback", "broughtForward", "startOfSection"):
        assert units[key] is False, key
    lead = next(li for li in everything["items"] if li["name"] == "Lead")
    assert (lead["format"], lead["formatMetadata"]["dataType"]) == ("LIST", "ENTITY")
    assert str(lead["formatMetadata"]["hierarchyEntityLongId"]) == sales.lists["Region Groups"]
    assert_error(sales.api.get(f"{sales.model_base}/modules/102999999999/lineItems"), 404)


def test_line_item_dimensions_and_their_items(sales: Sales) -> None:
    units = line_items(sales, "Plan")["Units"]
    dims = ok(sales.api.get(f"{sales.model_base}/lineItems/{units}/dimensions"))
    assert dims["meta"]["schema"].endswith("/objects/dimension")
    assert dims["dimensions"] == [
        {"id": sales.lists["Regions"], "name": "Regions"},
        {"id": sales.lists["Region Groups"], "name": "Region Groups"},
    ]
    path = f"{sales.base}/lineItems/{units}/dimensions/{sales.lists['Regions']}/items"
    assert [i["name"] for i in ok(sales.api.get(path))["items"]] == ["North", "South"]
    assert_error(sales.api.get(f"{sales.model_base}/lineItems/abc/dimensions"), 400)
    assert_error(sales.api.get(f"{sales.model_base}/lineItems/206999999999/dimensions"), 404)


def test_views_default_and_saved(sales: Sales) -> None:
    plan = modules(sales)["Plan"]
    body = ok(sales.api.get(f"{sales.model_base}/modules/{plan}/views"))
    assert body["meta"]["schema"].endswith("/objects/view")
    views = body["views"]
    assert views[0] == {"code": "", "id": plan, "name": "Plan", "moduleId": plan}
    assert [v["name"] for v in views[1:]] == ["Plan.By Group", "Plan.'P&L'"]
    assert all(re.match(r"^1186\d{9}$", v["id"]) for v in views[1:])
    assert len(ok(sales.api.get(f"{sales.model_base}/views"))["views"]) == 4
    default = ok(sales.api.get(f"{sales.model_base}/views/{plan}"))
    assert (default["viewId"], default["viewName"]) == (plan, "Plan")
    assert default["rows"] == [{"id": sales.lists["Regions"], "name": "Regions"}]
    assert default["columns"] == [{"id": LINE_ITEMS, "name": "Line Items"}]
    assert default["pages"] == [{"id": sales.lists["Region Groups"], "name": "Region Groups"}]
    pnl = ok(sales.api.get(f"{sales.base}/views/{views[2]['id']}"))
    assert "pages" not in pnl  # an axis without dimensions is left out
    assert_error(sales.api.get(f"{sales.model_base}/views/1186999999999"), 404)


def test_cell_writes_count_and_report_each_failed_cell(sales: Sales) -> None:
    body = write(
        sales,
        "Plan",
        [
            cell("Units", "N", "G1", 10),
            cell("Units", "S", "G1", "7.5"),
            cell("Comment", "N", "G2", "hello, world"),
            cell("Approved", "N", "G1", True),
            cell("Due", "N", "G1", "2025-06-30"),
            cell("Lead", "N", "G1", "South Group"),
            cell("Units", "N", "G1", "ten"),  # 6
            cell("Nope", "N", "G1", 1),  # 7
            cell("Units", "Z", "G1", 1),  # 8
            cell("Due", "N", "G1", "30/06/2025"),  # 9
            cell("Lead", "N", "G1", "Nowhere"),  # 10
            {"lineItemName": "Units", "dimensions": []},  # 11: no value
            {
                "lineItemName": "Units",
                "dimensions": [
                    {"dimensionName": "Regions", "itemCode": "N"},
                    {"dimensionName": "Region Groups", "itemName": "Total Regions"},
                ],
                "value": 1,
            },  # 12: an aggregate
            {"lineItemName": "Units", "value": [1]},  # 13
        ],
    )
    assert body["meta"]["schema"].endswith("/objects/writeCellDataResponse")
    assert body["numberOfCellsChanged"] == 6
    assert [(f["requestIndex"], f["failureType"]) for f in body["failures"]] == [
        (6, "valueDataTypeMismatch"),
        (7, "invalidLineItem"),
        (8, "invalidItem"),
        (9, "invalidDateValue"),
        (10, "invalidListItemValue"),
        (11, "missingRequiredField"),
        (12, "cellIsCalculated"),
        (13, "unsupportedValueType"),
    ]
    clean = write(sales, "Plan", [cell("Units", "S", "G2", 3)])
    assert clean["numberOfCellsChanged"] == 1
    assert "failures" not in clean
    assert_error(
        sales.api.post(f"{sales.model_base}/modules/{modules(sales)['Plan']}/data", json={"a": 1}),
        400,
    )
    too_many = [cell("Units", "N", "G1", 1)] * 100_001
    path = f"{sales.model_base}/modules/{modules(sales)['Plan']}/data"
    assert_error(sales.api.post(path, json=too_many), 400)


def test_cells_by_ids_show_in_exports(sales: Sales) -> None:
    targets = modules(sales)["Targets"]
    target = line_items(sales, "Targets")["Target"]
    north = item_ids(sales, "Regions")["N"]
    body = write(
        sales,
        "Targets",
        [
            {
                "lineItemId": target,
                "dimensions": [{"dimensionId": sales.lists["Regions"], "itemId": north}],
                "value": 125,
            }
        ],
    )
    assert body["numberOfCellsChanged"] == 1
    rows = list(csv.reader(io.StringIO(sales.export_text("Targets Export"))))
    assert ["N", "125"] in [row[:2] for row in rows]
    assert targets  # the module id is what the default view answers to


def test_view_data_as_grid_csv_and_json_with_page_selectors(sales: Sales) -> None:
    write(
        sales,
        "Plan",
        [
            cell("Units", "N", "G1", 10),
            cell("Units", "S", "G1", 7.5),
            cell("Units", "N", "G2", 1),
            cell("Comment", "N", "G1", "a, b"),
        ],
    )
    plan = modules(sales)["Plan"]
    response = sales.api.get(f"{sales.model_base}/views/{plan}/data")
    assert response.headers["content-type"].startswith("text/csv")
    # Regions on rows with its hierarchy (parent-list items and the top level, summed).
    assert list(csv.reader(io.StringIO(response.text))) == [
        ["North Group", "", "", "", "", ""],
        ["", "Units", "Comment", "Approved", "Due", "Lead"],
        ["Total Regions", "17.5", "", "", "", ""],
        ["North Group", "10", "", "", "", ""],
        ["North", "10", "a, b", "", "", ""],
        ["South Group", "7.5", "", "", "", ""],
        ["South", "7.5", "", "", "", ""],
    ]
    groups = item_ids(sales, "Region Groups")
    as_json = ok(
        sales.api.get(
            f"{sales.model_base}/views/{plan}/data",
            params={"format": "v1", "pages": f"{sales.lists['Region Groups']}:{groups['G2']}"},
            headers={"Accept": "application/json"},
        )
    )
    assert set(as_json) == {"pages", "columnCoordinates", "rows"}
    assert as_json["pages"] == ["South Group"]
    assert as_json["columnCoordinates"][0] == ["Units"]
    assert as_json["rows"][2] == {"rowCoordinates": ["North"], "cells": ["1", "", "", "", ""]}
    assert as_json["rows"][0]["rowCoordinates"] == ["Total Regions"]
    saved = ok(sales.api.get(f"{sales.model_base}/views"))["views"]
    by_group = next(v["id"] for v in saved if v["name"] == "Plan.By Group")
    grid = list(csv.reader(io.StringIO(sales.api.get(f"{sales.base}/views/{by_group}/data").text)))
    assert grid[:3] == [
        ["North Group", "", "", "", "", ""],
        ["", "Total Regions", "North Group", "North", "South Group", "South"],
        ["Units", "17.5", "10", "10", "7.5", "7.5"],
    ]
    refused = assert_error(
        sales.api.get(
            f"{sales.model_base}/views/{plan}/data",
            params={"pages": f"{sales.lists['Regions']}:{groups['G1']}"},
        ),
        400,
    )
    assert refused["status"]["message"] == f"Invalid page selector [{sales.lists['Regions']}]"
    capped = sales.api.get(f"{sales.model_base}/views/{plan}/data", params={"maxRows": "1"})
    assert capped.text.count("\n") == 3


def test_view_dimension_items(sales: Sales) -> None:
    plan = modules(sales)["Plan"]
    path = f"{sales.model_base}/views/{plan}/dimensions/{sales.lists['Regions']}/items"
    assert [i["name"] for i in ok(sales.api.get(path))["items"]] == ["North", "South"]
    lines = ok(sales.api.get(f"{sales.model_base}/views/{plan}/dimensions/{LINE_ITEMS}/items"))
    assert len(lines["items"]) == 5
    assert_error(
        sales.api.get(f"{sales.model_base}/views/{plan}/dimensions/101999999998/items"), 404
    )


def test_dimension_items_and_lookup(sales: Sales) -> None:
    path = f"{sales.model_base}/dimensions/{sales.lists['Region Groups']}/items"
    items = ok(sales.api.get(path))["items"]
    assert items[-1] == {"id": items[-1]["id"], "name": "Total Regions"}  # no code
    assert items[0]["code"] == "G1"
    found = ok(
        sales.api.post(
            f"{sales.base}/dimensions/{sales.lists['Regions']}/items",
            json={"names": ["south", "Nowhere"], "codes": ["n"]},
        )
    )
    assert [i["name"] for i in found["items"]] == ["North", "South"]
    nothing = ok(sales.api.post(path, json={"names": ["Nowhere"], "codes": None}))
    assert "items" not in nothing
    assert_error(sales.api.post(path, json={}), 400)
    assert_error(sales.api.post(path, content=b""), 400)
    assert_error(sales.api.get(f"{sales.model_base}/dimensions/20000000003/items"), 400)


def test_current_period(sales: Sales) -> None:
    path = f"{sales.model_base}/currentPeriod"
    body = ok(sales.api.get(path))
    assert body["meta"]["schema"].endswith("/objects/currentPeriod")
    assert body["currentPeriod"] == {
        "periodText": "May 25",
        "lastDay": "2025-05-31",
        "calendarType": "Calendar Months/Quarters/Years",
    }
    moved = ok(sales.api.put(path, json={"date": "2026-02-14"}))["currentPeriod"]
    assert (moved["periodText"], moved["lastDay"]) == ("Feb 26", "2026-02-28")
    by_query = ok(sales.api.put(f"{sales.base}/currentPeriod", params={"date": "2025-12-01"}))
    assert by_query["currentPeriod"]["periodText"] == "Dec 25"
    both = assert_error(sales.api.put(path, params={"date": "2025-12-01"}, json={"date": "x"}), 400)
    assert both["status"]["message"] == "use query parameter or body to set date, not both"
    bad = assert_error(sales.api.put(path, json={"date": "14/02/2026"}), 400)
    assert bad["status"]["message"] == (
        "Invalid ISO date format '14/02/2026'. Date should match format YYYY-MM-DD"
    )
    far = assert_error(sales.api.put(path, json={"date": "2040-01-01"}), 400)
    assert far["status"]["message"] == (
        "Specified date '2040-01-01' is out of timescale range 2024-04-01 - 2028-03-31"
    )
    blank = ok(sales.api.put(path, json={"date": ""}))["currentPeriod"]
    assert (blank["periodText"], blank["lastDay"]) == ("", "")


def test_model_calendar_and_fiscal_year(sales: Sales) -> None:
    body = ok(sales.api.get(f"{sales.base}/modelCalendar"))
    assert body["meta"]["schema"].endswith("/objects/modelCalendar")
    calendar = body["modelCalendar"]
    assert calendar["calendarType"] == "Calendar Months/Quarters/Years"
    assert calendar["fiscalYear"] == {
        "year": "FY26",
        "startDate": "2025-04-01",
        "endDate": "2026-03-31",
    }
    assert (calendar["pastYearsCount"], calendar["futureYearsCount"]) == (1, 2)
    assert calendar["currentPeriod"] == {"periodText": "May 25", "lastDay": "2025-05-31"}
    assert set(calendar["totalsSelection"]) == {
        "quarterTotals",
        "halfYearTotals",
        "yearToDateSummary",
        "yearToGoSummary",
        "totalOfAllPeriods",
    }
    moved = ok(sales.api.put(f"{sales.model_base}/modelCalendar/fiscalYear", json={"year": "FY27"}))
    assert moved["modelCalendar"]["fiscalYear"] == {
        "year": "FY27",
        "startDate": "2026-04-01",
        "endDate": "2027-03-31",
    }
    refused = assert_error(
        sales.api.put(f"{sales.model_base}/modelCalendar/fiscalYear", json={"year": "FY40"}), 400
    )
    assert refused["status"]["message"] == "Specified year is out of range: 2040"
    assert_error(sales.api.get(f"{sales.model_base}/modelCalendar/fiscalYear"), 405)


def test_versions_and_switchover(sales: Sales) -> None:
    body = ok(sales.api.get(f"{sales.model_base}/versions"))
    assert body["meta"]["schema"].endswith("/objects/version")
    actual, forecast, budget = body["versionMetadata"]
    assert re.match(r"^107\d{9}$", actual["id"])
    assert (actual["isActual"], actual["isCurrent"]) == (True, True)
    assert actual["editFrom"] == {"periodText": "Start of Timescale", "date": "1900-01-01"}
    assert "switchover" not in actual
    assert forecast["switchover"] == {"periodText": "Jul 25", "date": "2025-07-01"}
    moved = ok(
        sales.api.put(
            f"{sales.base}/versions/{budget['id']}/switchover", json={"date": "2025-09-17"}
        )
    )
    assert moved["meta"]["schema"].endswith("/objects/switchover")
    assert moved["versionSwitchover"] == {
        "periodText": "Sep 25",
        "date": "2025-09-01",
        "calendarType": "Calendar Months/Quarters/Years",
    }
    again = ok(sales.api.get(f"{sales.base}/versions"))["versionMetadata"]
    assert again[2]["switchover"]["date"] == "2025-09-01"
    path = f"{sales.model_base}/versions/{actual['id']}/switchover"
    assert_error(sales.api.put(path, json={"date": "2025-09-17"}), 400)
    assert_error(
        sales.api.put(f"{sales.model_base}/versions/107999999999/switchover", json={"date": ""}),
        404,
    )
