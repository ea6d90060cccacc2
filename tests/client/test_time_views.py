"""`client.views` and `client.cells` on a module by Time and Versions, against the emulator over
loopback: cells written by period and version, the view read with its totals, the tabular
layouts downloaded, periods looked up by label."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from tests.client.test_lists import FAST_RETRY
from tests.emulator.api.test_time_dimensions import FORECAST_TOML

TIME = "20000000003"
VERSIONS = "20000000020"


@pytest.fixture(scope="module")
def forecast_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    path: Path = tmp_path_factory.mktemp("forecast") / "forecast.toml"
    path.write_text(FORECAST_TOML, encoding="utf-8")
    with run_emulator(definitions=[path]) as running:
        yield running


def _settings(running: RunningEmulator) -> dict[str, Any]:
    return {
        "base_url": running.base_url,
        "email": "ann@example.com",
        "password": "pw",
        "retry": FAST_RETRY,
        "env": {},
        "workspace_id": "Forecast WS",
        "model_id": "Forecast",
    }


@pytest.fixture
def client(forecast_emulator: RunningEmulator) -> Iterator[Client]:
    forecast_emulator.control.reset()
    with Client(**_settings(forecast_emulator)) as opened:
        yield opened


def _cell(region: str, month: str, version: str, value: Any) -> dict[str, Any]:
    return {
        "lineItemName": "Amount",
        "dimensions": [
            {"dimensionName": "Regions", "itemCode": region},
            {"dimensionName": "Time", "itemName": month},
            {"dimensionName": "Versions", "itemName": version},
        ],
        "value": value,
    }


def test_cells_by_period_and_version_and_the_view_with_its_totals(client: Client) -> None:
    result = client.cells.write(
        "Revenue",
        [
            _cell("N", "Apr 25", "Actual", 10),
            _cell("N", "Jun 25", "Actual", 5),
            _cell("S", "Apr 25", "Actual", 1),
            _cell("N", "Q1 FY26", "Actual", 1),
        ],
    )
    assert result.number_of_cells_changed == 3
    assert [(f.request_index, f.failure_type) for f in result.failures] == [(3, "cellIsCalculated")]
    axes = client.views.get("Revenue.By Month")
    assert [a.id for a in axes.columns] == [TIME]
    assert [a.id for a in axes.pages] == [VERSIONS, "20000000012"]
    data = client.views.read("Revenue.By Month")
    assert data.pages == ["Actual", "Amount"]
    header = [coordinates[0] for coordinates in data.column_coordinates]
    assert header[:4] == ["Apr 25", "May 25", "Jun 25", "Q1 FY26"]
    rows = {row.row_coordinates[0]: dict(zip(header, row.cells, strict=True)) for row in data.rows}
    assert rows["North"]["Q1 FY26"] == "15"
    assert rows["All Regions"]["Apr 25"] == "11"
    assert rows["All Regions"]["All Periods"] == "16"
    streamed = list(client.views.iter_rows("Revenue.By Month"))
    assert streamed == data.rows
    found = client.modules.lookup_items(TIME, names=["apr 25", "fy26"])
    assert [i.name for i in found] == ["Apr 25", "FY26"]
    forecast = client.modules.lookup_items(VERSIONS, names=["Forecast"])[0]
    assert client.views.read("Revenue.By Month", pages={VERSIONS: forecast.id}).pages == [
        "Forecast",
        "Amount",
    ]


def test_tabular_layouts_download_as_csv(client: Client, tmp_path: Path) -> None:
    client.cells.write("Revenue", [_cell("S", "May 25", "Forecast", 7)])
    target = tmp_path / "revenue.csv"
    written = client.views.download("Revenue.By Month", target, layout="TABULAR_MULTI_COLUMN")
    assert written == target.stat().st_size
    lines = list(csv.reader(io.StringIO(target.read_text())))
    assert lines[0] == ["Versions", "Regions", "Time", "Amount", "Note"]
    assert ["Forecast", "South", "May 25", "7", ""] in lines
    single = b"".join(client.views.iter_csv("Revenue", layout="TABULAR_SINGLE_COLUMN"))
    first = list(csv.reader(io.StringIO(single.decode())))
    # The default view: Time and Versions on pages, Regions on rows (pages first).
    assert first[0] == ["Time", "Versions", "Regions", "Line Items", "Value"]
    assert ["May 25", "Forecast", "South", "Amount", "7"] in first
    pages = b"".join(client.views.iter_csv("Revenue.By Month", layout="GRID_ALL_PAGES"))
    assert pages.decode().count("Forecast,Amount") == 1


def test_the_async_client_downloads_a_tabular_view(forecast_emulator: RunningEmulator) -> None:
    forecast_emulator.control.reset()

    async def scenario() -> bytes:
        async with AsyncClient(**_settings(forecast_emulator)) as client:
            await client.cells.write("Revenue", [_cell("N", "Apr 25", "Actual", 2)])
            sink = io.BytesIO()
            await client.views.download("Revenue", sink, layout="TABULAR_MULTI_COLUMN")
            return sink.getvalue()

    body = asyncio.run(scenario()).decode()
    assert "Apr 25,Actual,North,2," in body
    assert "All Periods,Actual,All Regions,2," in body
