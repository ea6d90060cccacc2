"""Time and Versions as module dimensions, and aggregate cells, over a real socket against the
reference's shapes (§5.3 to §5.7, §6 and §7 of the transactional note): line-item dimensions and
their items, views by time and version, cell writes by Time and Versions coordinates (ids as
the reference writes them, names as `Jan 26`), totals computed, imports and exports by period.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.emulator.server import RunningEmulator, run_emulator

from .conftest import assert_error, ok
from .test_lists import Sales, _sales, _sign_in

TIME = "20000000003"
VERSIONS = "20000000020"
LINE_ITEMS = "20000000012"

FORECAST_TOML = """
[[users]]
email = "ann@example.com"
password = "pw"

[[workspaces]]
name = "Forecast WS"
admins = ["ann@example.com"]

[[workspaces.models]]
name = "Forecast"

[[workspaces.models.lists]]
name = "Regions"
top_level = "All Regions"
items = [{ code = "N", name = "North" }, { code = "S", name = "South" }]

[[workspaces.models.modules]]
name = "Revenue"
dimensions = ["Regions", "Time", "Versions"]
line_items = [{ name = "Amount" }, { name = "Note", format = "text" }]

[[workspaces.models.modules.views]]
name = "By Month"
rows = ["Regions"]
columns = ["Time"]
pages = ["Versions", "Line Items"]

[[workspaces.models.modules.views]]
name = "Versions Side"
rows = ["Time"]
columns = ["Versions"]
pages = ["Regions", "Line Items"]

[[workspaces.models.versions]]
name = "Actual"
actual = true
current = true

[[workspaces.models.versions]]
name = "Forecast"

[workspaces.models.calendar]
fiscal_year_start = "2025-04-01"
past_years = 0
future_years = 0

[[workspaces.models.files]]
name = "revenue.csv"
default_content = '''Region,Month,Version,Amount
N,Apr 25,Actual,5
S,may 25,Forecast,6
N,Q1 FY26,Actual,1
'''

[[workspaces.models.imports]]
name = "Load Revenue"
file = "revenue.csv"
target_module = "Revenue"
mapping = { Regions = "Region", Time = "Month", Versions = "Version", Amount = "Amount" }

[[workspaces.models.exports]]
name = "Revenue Export"
source_module = "Revenue"
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    path: Path = tmp_path_factory.mktemp("forecast") / "forecast.toml"
    path.write_text(FORECAST_TOML, encoding="utf-8")
    with run_emulator(definitions=[path]) as running:
        yield running


@pytest.fixture
def model(emulator: RunningEmulator) -> Iterator[Sales]:
    emulator.control.reset()
    with _sign_in(emulator.base_url) as api:
        yield _sales(api)


def _ids(model: Sales, kind: str) -> dict[str, str]:
    return {x["name"]: x["id"] for x in ok(model.api.get(f"{model.model_base}/{kind}"))[kind]}


def _revenue(model: Sales) -> str:
    return _ids(model, "modules")["Revenue"]


def _line_items(model: Sales) -> dict[str, str]:
    path = f"{model.model_base}/modules/{_revenue(model)}/lineItems"
    return {li["name"]: li["id"] for li in ok(model.api.get(path))["items"]}


def _write(model: Sales, cells: list[Any]) -> dict[str, Any]:
    path = f"{model.model_base}/modules/{_revenue(model)}/data"
    return ok(model.api.post(path, json=cells))


def _cell(region: str, month: str, version: str, value: Any, line_item: str = "Amount") -> Any:
    return {
        "lineItemName": line_item,
        "dimensions": [
            {"dimensionName": "Regions", "itemCode": region},
            {"dimensionName": "Time", "itemName": month},
            {"dimensionName": "Versions", "itemName": version},
        ],
        "value": value,
    }


def _views(model: Sales) -> dict[str, str]:
    return _ids(model, "views")


def _grid(model: Sales, view: str, **params: str) -> list[list[str]]:
    response = model.api.get(f"{model.model_base}/views/{_views(model)[view]}/data", params=params)
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


def test_line_item_dimensions_include_time_and_versions(model: Sales) -> None:
    amount = _line_items(model)["Amount"]
    body = ok(model.api.get(f"{model.model_base}/lineItems/{amount}/dimensions"))
    regions = model.lists["Regions"]
    assert body["dimensions"] == [
        {"id": TIME, "name": "Time"},
        {"id": VERSIONS, "name": "Versions"},
        {"id": regions, "name": "Regions"},
    ]
    path = f"{model.base}/lineItems/{amount}/dimensions/{TIME}/items"
    periods = ok(model.api.get(path))["items"]
    assert [p["name"] for p in periods[:5]] == ["Apr 25", "May 25", "Jun 25", "Q1 FY26", "Jul 25"]
    assert [p["name"] for p in periods[-3:]] == ["Q4 FY26", "FY26", "All Periods"]
    assert len(periods) == 12 + 4 + 1 + 1
    assert all(len(p["id"]) == 10 and p["id"].isdigit() for p in periods)
    versions = ok(model.api.get(f"{model.base}/lineItems/{amount}/dimensions/{VERSIONS}/items"))
    assert [v["name"] for v in versions["items"]] == ["Actual", "Forecast"]
    assert all(v["id"].startswith("107") for v in versions["items"])
    everything = ok(model.api.get(f"{model.model_base}/lineItems", params={"includeAll": "true"}))
    details = next(li for li in everything["items"] if li["name"] == "Amount")
    assert details["timeScale"] == "Month"
    assert details["appliesTo"] == [{"id": regions, "name": "Regions"}]


def test_views_place_time_and_versions_on_their_axes(model: Sales) -> None:
    views = _views(model)
    info = ok(model.api.get(f"{model.model_base}/views/{views['Revenue.By Month']}"))
    assert info["rows"] == [{"id": model.lists["Regions"], "name": "Regions"}]
    assert info["columns"] == [{"id": TIME, "name": "Time"}]
    assert info["pages"] == [
        {"id": VERSIONS, "name": "Versions"},
        {"id": LINE_ITEMS, "name": "Line Items"},
    ]
    default = ok(model.api.get(f"{model.model_base}/views/{views['Revenue']}"))
    assert default["pages"] == [
        {"id": TIME, "name": "Time"},
        {"id": VERSIONS, "name": "Versions"},
    ]
    view_periods = ok(
        model.api.get(
            f"{model.model_base}/views/{views['Revenue.By Month']}/dimensions/{TIME}/items"
        )
    )["items"]
    assert view_periods[3]["name"] == "Q1 FY26"


def test_cells_by_time_and_version_show_with_their_totals(model: Sales) -> None:
    amount = _line_items(model)["Amount"]
    amount_periods = ok(
        model.api.get(f"{model.model_base}/lineItems/{amount}/dimensions/{TIME}/items")
    )["items"]
    april = next(p["id"] for p in amount_periods if p["name"] == "Apr 25")
    versions = ok(model.api.get(f"{model.model_base}/versions"))["versionMetadata"]
    actual = next(v["id"] for v in versions if v["name"] == "Actual")
    north = next(
        i["id"]
        for i in ok(model.api.get(model.items_path("Regions")))["listItems"]
        if i["name"] == "North"
    )
    body = _write(
        model,
        [
            {  # by ids, as the reference's example writes them
                "lineItemId": amount,
                "dimensions": [
                    {"dimensionId": model.lists["Regions"], "itemId": north},
                    {"dimensionId": TIME, "itemId": april},
                    {"dimensionId": VERSIONS, "itemId": actual},
                ],
                "value": 100,
            },
            _cell("N", "May 25", "Actual", 20),
            _cell("S", "jun 25", "Actual", "5.5"),  # a period label in any case
            _cell("S", "Jan 26", "Actual", 1),
            _cell("N", "Apr 25", "Forecast", 999),
            _cell("N", "Q1 FY26", "Actual", 1),  # 5: a quarter is a total
            _cell("N", "FY26", "Actual", 1),  # 6: so is the year
            _cell("N", "Apr 24", "Actual", 1),  # 7: outside the time scale
            _cell("N", "Apr 25", "Budget", 1),  # 8: no such version
            _cell("N", "Apr 25", "Actual", "hello", "Note"),
            _cell("All Regions", "Apr 25", "Actual", 1),  # 10: no such code
        ],
    )
    assert body["numberOfCellsChanged"] == 6
    assert [(f["requestIndex"], f["failureType"]) for f in body["failures"]] == [
        (5, "cellIsCalculated"),
        (6, "cellIsCalculated"),
        (7, "invalidItem"),
        (8, "invalidItem"),
        (10, "invalidItem"),
    ]
    grid = _grid(model, "Revenue.By Month")
    assert grid[0] == ["Actual", "Amount", *[""] * 17]
    header = grid[1]
    assert header[:6] == ["", "Apr 25", "May 25", "Jun 25", "Q1 FY26", "Jul 25"]
    assert header[-2:] == ["FY26", "All Periods"]
    rows = {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in grid[2:]}
    assert list(rows) == ["All Regions", "North", "South"]
    assert (rows["North"]["Apr 25"], rows["North"]["May 25"], rows["North"]["Q1 FY26"]) == (
        "100",
        "20",
        "120",
    )
    assert rows["South"]["Q1 FY26"] == "5.5"
    assert rows["South"]["Q4 FY26"] == "1"
    assert rows["South"]["FY26"] == "6.5"
    assert rows["All Regions"]["Q1 FY26"] == "125.5"
    assert rows["All Regions"]["All Periods"] == "126.5"
    assert rows["North"]["Jul 25"] == ""
    forecast = next(v["id"] for v in versions if v["name"] == "Forecast")
    chosen = _grid(model, "Revenue.By Month", pages=f"{VERSIONS}:{forecast}")
    assert chosen[0][0] == "Forecast"
    assert chosen[3][1:5] == ["999", "", "", "999"]
    lines = _line_items(model)
    note_page = f"{VERSIONS}:{actual},{LINE_ITEMS}:{lines['Note']}"
    notes = _grid(model, "Revenue.By Month", pages=note_page)
    assert notes[3][1] == "hello"
    assert notes[3][4] == ""  # text has no total
    sideways = _grid(model, "Revenue.Versions Side", pages=f"{model.lists['Regions']}:{north}")
    assert sideways[1] == ["", "Actual", "Forecast"]
    assert sideways[2] == ["Apr 25", "100", "999"]
    assert sideways[5] == ["Q1 FY26", "120", "999"]


def test_a_total_can_be_the_page_and_json_shows_the_same(model: Sales) -> None:
    _write(model, [_cell("N", "Apr 25", "Actual", 3), _cell("S", "Apr 25", "Forecast", 4)])
    regions = model.lists["Regions"]
    everyone = next(
        i["id"]
        for i in ok(model.api.get(model.items_path("Regions")))["listItems"]
        if i["name"] == "All Regions"
    )
    side = _grid(model, "Revenue.Versions Side", pages=f"{regions}:{everyone}")
    assert side[0][0] == "All Regions"
    assert side[2] == ["Apr 25", "3", "4"]
    view = _views(model)["Revenue.Versions Side"]
    as_json = ok(
        model.api.get(
            f"{model.model_base}/views/{view}/data",
            params={"format": "v1", "pages": f"{regions}:{everyone}"},
            headers={"Accept": "application/json"},
        )
    )
    assert as_json["pages"] == ["All Regions", "Amount"]
    assert as_json["columnCoordinates"] == [["Actual"], ["Forecast"]]
    assert as_json["rows"][0] == {"rowCoordinates": ["Apr 25"], "cells": ["3", "4"]}
    bad = assert_error(
        model.api.get(f"{model.model_base}/views/{view}/data", params={"pages": f"{TIME}:1"}),
        400,
    )
    assert bad["status"]["message"] == f"Invalid page selector [{TIME}]"


def test_time_and_versions_lookups_and_the_model_level_refusal(model: Sales) -> None:
    found = ok(
        model.api.post(
            f"{model.base}/dimensions/{TIME}/items", json={"names": ["may 25", "Q1 FY26", "x"]}
        )
    )["items"]
    assert [i["name"] for i in found] == ["May 25", "Q1 FY26"]
    assert all("code" not in i for i in found)
    versions = ok(
        model.api.post(
            f"{model.model_base}/dimensions/{VERSIONS}/items",
            json={"names": ["forecast"], "codes": None},
        )
    )["items"]
    assert [v["name"] for v in versions] == ["Forecast"]
    assert_error(
        model.api.post(f"{model.base}/dimensions/{TIME}/items", json={"codes": ["Q1"]}), 400
    )
    assert_error(model.api.get(f"{model.model_base}/dimensions/{TIME}/items"), 400)
    assert_error(model.api.get(f"{model.model_base}/dimensions/{VERSIONS}/items"), 400)


def test_imports_and_exports_address_periods_and_versions(model: Sales) -> None:
    task = model.run("imports", model.imports["Load Revenue"])
    result = task["result"]
    assert result["successful"] is True
    assert result["failureDumpAvailable"] is True  # the quarter row is rejected
    rows = list(csv.reader(io.StringIO(model.export_text("Revenue Export"))))
    assert rows[0] == ["Regions", "Time", "Versions", "Amount", "Note"]
    assert sorted(rows[1:]) == [
        ["N", "Apr 25", "Actual", "5", ""],
        ["S", "May 25", "Forecast", "6", ""],
    ]
    grid = _grid(model, "Revenue.By Month")
    assert grid[2][1] == "5"  # All Regions, Apr 25, Actual


def test_export_types_lay_the_view_out_as_grids_or_tables(model: Sales) -> None:
    _write(
        model,
        [
            _cell("N", "Apr 25", "Actual", 3),
            _cell("S", "Apr 25", "Forecast", 4),
            _cell("N", "Apr 25", "Actual", "ok", "Note"),
        ],
    )
    view = _views(model)["Revenue.By Month"]
    revenue = _revenue(model)
    path = f"{model.model_base}/views/{view}/data"

    def table(export_type: str, **params: str) -> list[list[str]]:
        response = model.api.get(path, params={"exportType": export_type, **params})
        assert response.status_code == 200, response.text
        return list(csv.reader(io.StringIO(response.text)))

    multi = table("TABULAR_MULTI_COLUMN", moduleId=revenue)
    assert multi[0] == ["Versions", "Regions", "Time", "Amount", "Note"]
    assert ["Actual", "North", "Apr 25", "3", "ok"] in multi
    assert ["Actual", "North", "Q1 FY26", "3", ""] in multi
    assert ["Forecast", "All Regions", "FY26", "4", ""] in multi
    assert len(multi) == 1 + 2 * 3 * 18  # versions x regions (with the top level) x periods
    single = table("TABULAR_SINGLE_COLUMN", moduleId=revenue, maxRows="4")
    assert single == [
        ["Versions", "Regions", "Time", "Line Items", "Value"],
        ["Actual", "All Regions", "Apr 25", "Amount", "3"],
        ["Actual", "All Regions", "Apr 25", "Note", ""],
        ["Actual", "All Regions", "May 25", "Amount", ""],
        ["Actual", "All Regions", "May 25", "Note", ""],
    ]
    pages = table("GRID_ALL_PAGES")
    page_lines = [line[:2] for line in pages if line[0] and line[0] in ("Actual", "Forecast")]
    assert page_lines == [
        ["Actual", "Amount"],
        ["Actual", "Note"],
        ["Forecast", "Amount"],
        ["Forecast", "Note"],
    ]
    assert table("GRID_CURRENT_PAGE") == _grid(model, "Revenue.By Month")
    for params, message in (
        ({"exportType": "TABULAR_MULTI_COLUMN"}, "needs the moduleId parameter"),
        ({"exportType": "TABULAR_MULTI_COLUMN", "moduleId": "102999999999"}, "is not a view of"),
        ({"exportType": "SIDEWAYS"}, "Invalid exportType 'SIDEWAYS'"),
    ):
        refused = assert_error(model.api.get(path, params=params), 400)
        assert message in refused["status"]["message"]
    as_json = model.api.get(
        path,
        params={"format": "v1", "exportType": "GRID_ALL_PAGES"},
        headers={"Accept": "application/json"},
    )
    assert_error(as_json, 400)


def test_a_forecast_shows_actuals_before_its_switchover(model: Sales) -> None:
    _write(
        model,
        [
            _cell("N", "Apr 25", "Actual", 10),
            _cell("N", "May 25", "Actual", 20),
            _cell("N", "Jun 25", "Actual", 30),
            _cell("N", "Apr 25", "Forecast", 999),
            _cell("N", "Jun 25", "Forecast", 7),
        ],
    )
    versions = ok(model.api.get(f"{model.model_base}/versions"))["versionMetadata"]
    forecast = next(v["id"] for v in versions if v["name"] == "Forecast")
    switch = f"{model.model_base}/versions/{forecast}/switchover"
    assert ok(model.api.put(switch, json={"date": "2025-06-15"}))["versionSwitchover"]["date"] == (
        "2025-06-01"
    )
    line_items = _line_items(model)
    amount_page = f"{VERSIONS}:{forecast},{LINE_ITEMS}:{line_items['Amount']}"
    grid = _grid(model, "Revenue.By Month", pages=amount_page)
    north = dict(zip(grid[1][1:], grid[3][1:], strict=True))
    assert (north["Apr 25"], north["May 25"], north["Jun 25"], north["Q1 FY26"]) == (
        "10",
        "20",
        "7",
        "37",
    )
    refused = _write(
        model, [_cell("N", "May 25", "Forecast", 1), _cell("N", "Jul 25", "Forecast", 2)]
    )
    assert refused["numberOfCellsChanged"] == 1
    assert [(f["requestIndex"], f["failureType"]) for f in refused["failures"]] == [
        (0, "cellIsNotWriteable")
    ]
    ok(model.api.put(switch, json={"date": ""}))  # no switchover: the forecast's own cells again
    again = _grid(model, "Revenue.By Month", pages=amount_page)
    assert dict(zip(again[1][1:], again[3][1:], strict=True))["Apr 25"] == "999"


def test_a_read_request_of_a_view_by_time_reads_its_months(model: Sales) -> None:
    _write(model, [_cell("N", "Apr 25", "Actual", 3), _cell("S", "Mar 26", "Forecast", 4)])
    view = _views(model)["Revenue.By Month"]
    path = f"{model.base}/views/{view}/readRequests"
    started = ok(model.api.post(path, json={"exportType": "TABULAR_MULTI_COLUMN"}))
    request = f"{path}/{started['viewReadRequest']['requestId']}"
    deadline = time.monotonic() + 30
    while True:
        state = ok(model.api.get(request))["viewReadRequest"]
        if state["requestState"] == "COMPLETE" or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert state["requestState"] == "COMPLETE"
    data = b"".join(
        model.api.get(f"{request}/pages/{n}", headers={"Accept": "text/csv"}).content
        for n in range(state["availablePages"])
    )
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == ["Versions", "Regions", "Time", "Amount", "Note"]
    assert ["Actual", "North", "Apr 25", "3", ""] in rows
    assert ["Forecast", "South", "Mar 26", "4", ""] in rows
    assert len(rows) == 1 + 2 * 2 * 12  # the stored periods: months, no totals
    ok(model.api.delete(request))


def test_every_page_of_grid_all_pages_is_that_page_s_grid(model: Sales) -> None:
    _write(
        model,
        [
            _cell("N", "Apr 25", "Actual", 3),
            _cell("S", "May 25", "Forecast", 4),
            _cell("S", "May 25", "Actual", "s", "Note"),
        ],
    )
    view = _views(model)["Revenue.Versions Side"]
    path = f"{model.model_base}/views/{view}/data"
    everything = model.api.get(path, params={"exportType": "GRID_ALL_PAGES"}).text
    regions = [i["id"] for i in ok(model.api.get(model.items_path("Regions")))["listItems"]]
    line_items = list(_line_items(model).values())
    pages = [
        model.api.get(
            path, params={"pages": f"{model.lists['Regions']}:{region},{LINE_ITEMS}:{line_item}"}
        ).text
        for region in regions  # All Regions (the top level) first, then North, South
        for line_item in line_items
    ]
    assert everything == "".join(pages)
    assert pages[0].splitlines()[0].startswith("All Regions,Amount")
