"""`client.modules`, `views`, `cells`, `calendar`, `versions` and `users` against the emulator
over loopback; and the round trip a pipeline makes: import employees, read the list's items and
a view of the module, write cells, export, and find the written cells in the export."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import date

import pytest

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.server import RunningEmulator
from anaplan_tasks.errors import BadRequestError, NotFoundError

from .conftest import Emulator, employees_csv
from .test_lists import sales_emulator as sales_emulator
from .test_lists import settings


@pytest.fixture
def sales(sales_emulator: RunningEmulator) -> Iterator[Client]:
    sales_emulator.control.reset()
    with Client(**settings(sales_emulator)) as opened:
        yield opened


def test_modules_line_items_and_dimension_items(sales: Client) -> None:
    assert [m.name for m in sales.modules.list()] == ["Targets", "Plan"]
    plan = sales.modules.line_items("Plan", include_all=True)
    assert [li.name for li in plan] == ["Units", "Comment", "Approved", "Due", "Lead"]
    assert plan[0].format == "NUMBER"
    assert plan[0].applies_to is not None
    assert [ref.name for ref in plan[0].applies_to] == ["Regions", "Region Groups"]
    assert len(sales.modules.line_items()) == 7
    dims = sales.modules.line_item_dimensions(plan[0].id)
    regions = dims[0].id
    assert [i.code for i in sales.modules.dimension_items(regions)] == ["N", "S"]
    found = sales.modules.lookup_items(regions, names=["SOUTH"], codes=["n"])
    assert [i.name for i in found] == ["North", "South"]
    with pytest.raises(NotFoundError, match="did you mean 'Plan'"):
        sales.modules.line_items("Plam")


def test_views_cells_and_streamed_rows(sales: Client, tmp_path: object) -> None:
    views = {v.name: v for v in sales.views.list("Plan")}
    assert list(views) == ["Plan", "Plan.By Group", "Plan.'P&L'"]
    axes = sales.views.get("Plan")
    assert [a.name for a in axes.rows] == ["Regions"]
    cells = [
        {
            "lineItemName": "Units",
            "dimensions": [
                {"dimensionName": "Regions", "itemCode": region},
                {"dimensionName": "Region Groups", "itemCode": "G1"},
            ],
            "value": value,
        }
        for region, value in (("N", 10), ("S", 'a "quoted", value'))
    ]
    result = sales.cells.write("Plan", cells)
    assert result.number_of_cells_changed == 1
    assert [(f.request_index, f.failure_type) for f in result.failures] == [
        (1, "valueDataTypeMismatch")
    ]
    comment = {**cells[1], "lineItemName": "Comment"}
    assert not sales.cells.write("Plan", [comment]).failures
    data = sales.views.read("Plan")
    assert data.pages == ["North Group"]
    # Regions with its hierarchy: the top level, then each group above its regions.
    assert [row.row_coordinates[0] for row in data.rows] == [
        "Total Regions",
        "North Group",
        "North",
        "South Group",
        "South",
    ]
    assert [row.cells[0] for row in data.rows] == ["10", "10", "10", "", ""]
    streamed = list(sales.views.iter_rows("Plan"))
    assert streamed == data.rows
    assert streamed[4].cells[1] == 'a "quoted", value'
    assert streamed[0].cells[1] == ""  # text has no aggregate
    by_group = list(sales.views.iter_rows("Plan.By Group"))
    assert by_group[0].row_coordinates == ["Units"]
    groups = {i.code: i.id for i in sales.lists.items("Region Groups") if i.code}
    page = {axes.pages[0].id: groups["G2"]}
    assert sales.views.read("Plan", pages=page).pages == ["South Group"]
    assert sales.views.download("Plan", io.BytesIO()) > 0


def test_cell_writes_go_in_chunks(sales: Client, sales_emulator: RunningEmulator) -> None:
    names = [f"R{n}" for n in range(60_000)]
    sales.lists.add("Regions", [{"name": name, "parent": "G1"} for name in names])
    cells = (
        {
            "lineItemName": "Target",
            "dimensions": [{"dimensionName": "Regions", "itemName": name}],
            "value": n,
        }
        for n, name in enumerate([*names, *names[:50_000], "missing"])
    )
    result = sales.cells.write("Targets", cells)
    assert result.number_of_cells_changed == 110_000
    assert [f.request_index for f in result.failures] == [110_000]
    posts = sum(
        count
        for key, count in sales_emulator.control.request_counts().items()
        if key.startswith("POST ") and key.endswith("/data")
    )
    assert posts == 2


def test_calendar_versions_and_users(sales: Client) -> None:
    assert sales.calendar.current_period().period_text == "May 25"
    moved = sales.calendar.set_current_period(date(2025, 8, 3))
    assert (moved.period_text, moved.last_day) == ("Aug 25", "2025-08-31")
    calendar = sales.calendar.get()
    assert calendar.fiscal_year is not None
    assert calendar.fiscal_year.year == "FY26"
    assert sales.calendar.set_fiscal_year("FY27").start_date == "2026-04-01"
    with pytest.raises(BadRequestError, match="out of timescale range"):
        sales.calendar.set_current_period("2040-01-01")
    versions = sales.versions.list()
    assert [v.name for v in versions] == ["Actual", "Forecast", "Budget"]
    assert sales.versions.set_switchover("Budget", "2025-10-09").date == "2025-10-01"
    with pytest.raises(BadRequestError):
        sales.versions.set_switchover(versions[0].id, "2025-10-09")
    me = sales.users.me()
    assert (me.email, me.email_opt_in) == ("ann@example.com", False)
    assert {u.email for u in sales.users.list()} == {"ann@example.com", "bo@example.com"}
    assert [u.email for u in sales.users.list(sort=["-email"])] == [
        "bo@example.com",
        "ann@example.com",
    ]
    assert [u.first_name for u in sales.users.list(sort=["+firstName"])] == ["Ann", "Bo"]
    with pytest.raises(ValueError, match="cannot sort users by 'emailAddress'"):
        sales.users.list(sort=["emailAddress"])
    assert sales.users.get(me.id) == me


def test_the_round_trip_a_pipeline_makes(emulator: Emulator, client: Client) -> None:
    client.imports.run("Load Employees", source=employees_csv(1, 20))
    employees = client.lists.items("Employees", include_all=True)
    assert len(employees) == 20
    assert employees[0].properties is not None
    assert employees[0].properties["Region"] == "EMEA"
    client.imports.run("Load Headcount", source=employees_csv(1, 20))
    rows = list(client.views.iter_rows("Headcount"))
    assert len(rows) == 20
    assert rows[0].cells[0] == "50000"
    written = client.cells.write(
        "Headcount",
        [
            {
                "lineItemName": "Salary",
                "dimensions": [{"dimensionName": "Employees", "itemId": item.id}],
                "value": 70_000 + n,
            }
            for n, item in enumerate(employees[:5])
        ],
    )
    assert written.number_of_cells_changed == 5
    assert not written.failures
    out = io.BytesIO()
    client.exports.run("Headcount Export", out)
    exported = {row[0]: row for row in csv.reader(io.StringIO(out.getvalue().decode()))}
    for n, item in enumerate(employees[:5]):
        assert item.code is not None
        assert exported[item.code][1] == str(70_000 + n)
    assert exported[employees[5].code or ""][1] == "50000"
    assert client.views.read("Headcount").rows[0].cells[0] == "70000"


def test_the_async_client_reads_views_and_writes_cells(sales_emulator: RunningEmulator) -> None:
    sales_emulator.control.reset()

    async def scenario() -> tuple[int, list[str]]:
        async with AsyncClient(**settings(sales_emulator)) as client:
            result = await client.cells.write(
                "Targets",
                [
                    {
                        "lineItemName": "Target",
                        "dimensions": [{"dimensionName": "Regions", "itemCode": "S"}],
                        "value": 9,
                    }
                ],
            )
            cells = [row.cells[0] async for row in client.views.iter_rows("Targets")]
            return result.number_of_cells_changed, cells

    changed, cells = asyncio.run(scenario())
    assert changed == 1
    assert cells == ["9", "", "", "9", "9"]  # Total Regions, North Group, North, South Group, South
