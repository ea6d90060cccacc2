"""`views.read_large`/`iter_large` and `lists.read_large`/`iter_large` against the emulator over
loopback: pages streamed while the request works, progress, a dropped connection mid-page, and
the request deleted at the end, on failure, on Ctrl-C and on cancellation."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import pytest

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.engine import EmulatorEngine
from anaplan_tasks.emulator.engine.readrequests import ReadRequestSettings
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from anaplan_tasks.errors import TaskFailedError, TaskTimeoutError

from .conftest import FAST_POLL, FAST_RETRY

EMAIL = "reader@example.com"
PASSWORD = "secret"
ITEMS = 200

DEFINITION = f"""
[[users]]
email = "{EMAIL}"
password = "{PASSWORD}"

[[workspaces]]
name = "Large"
admins = ["{EMAIL}"]

[[workspaces.models]]
name = "Big"

[[workspaces.models.lists]]
name = "Things"
properties = [{{ name = "Size", format = "number" }}]
items = [{
    ", ".join(f'{{ code = "T{n:04d}", name = "Thing {n}", Size = {n} }}' for n in range(ITEMS))
}]

[[workspaces.models.modules]]
name = "Grid"
dimensions = ["Things"]
line_items = [{{ name = "A" }}, {{ name = "B" }}]
"""


@pytest.fixture(scope="module")
def running() -> Iterator[RunningEmulator]:
    with run_emulator() as emulator:
        emulator.engine.load_definition(DEFINITION)
        yield emulator


@pytest.fixture
def emulator(running: RunningEmulator) -> Iterator[RunningEmulator]:
    running.control.reset()
    running.engine.load_definition(DEFINITION)
    engine_of(running).set_read_request_settings(ReadRequestSettings(page_size=500))
    yield running
    running.control.clear_faults()


def engine_of(emulator: RunningEmulator) -> EmulatorEngine:
    return cast("EmulatorEngine", emulator.engine)


def settings(emulator: RunningEmulator) -> dict[str, Any]:
    return {
        "base_url": emulator.base_url,
        "email": EMAIL,
        "password": PASSWORD,
        "workspace_id": "Large",
        "model_id": "Big",
        "poll": FAST_POLL,
        "retry": FAST_RETRY,
        "env": {},
    }


def fill(client: Client) -> None:
    cells = [
        {
            "lineItemName": line_item,
            "dimensions": [{"dimensionName": "Things", "itemCode": f"T{n:04d}"}],
            "value": n * (1 if line_item == "A" else 2),
        }
        for n in range(ITEMS)
        for line_item in ("A", "B")
    ]
    assert client.cells.write("Grid", cells).number_of_cells_changed == 2 * ITEMS


def expected_grid() -> list[list[str]]:
    return [["Things", "A", "B"], *[[f"Thing {n}", str(n), str(2 * n)] for n in range(ITEMS)]]


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def requests(emulator: RunningEmulator, method: str, end: str) -> int:
    return sum(
        count
        for key, count in emulator.control.request_counts().items()
        if key.startswith(f"{method} ") and key.endswith(end)
    )


def test_a_view_is_read_to_a_file_while_the_request_works(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    engine_of(emulator).set_read_request_settings(
        ReadRequestSettings(page_size=500, page_seconds=0.05)
    )
    seen: list[tuple[int, int | None]] = []
    with Client(**settings(emulator)) as client:
        fill(client)
        target = tmp_path / "grid.csv"
        written = client.views.read_large(
            "Grid", target, workers=3, on_progress=lambda done, total: seen.append((done, total))
        )
    data = target.read_bytes()
    assert written == len(data)
    assert rows(data) == expected_grid()
    assert not (tmp_path / "grid.csv.part").exists()
    pages = seen[-1][0]
    assert pages > 5
    assert seen[-1] == (pages, pages)
    assert [done for done, _ in seen[:pages]] == list(range(1, pages + 1))
    assert any(total is None for _, total in seen)  # pages were read before the request ended
    assert engine_of(emulator).read_requests.existing() == []  # deleted at the end
    assert requests(emulator, "DELETE", "/readRequests/{requestId}") == 1


def test_tabular_layouts_and_a_list_read_by_the_async_client(emulator: RunningEmulator) -> None:
    async def main() -> tuple[bytes, bytes]:
        async with AsyncClient(**settings(emulator)) as client:
            single = b"".join(
                [
                    p
                    async for p in client.views.iter_large(
                        "Grid", export_type="TABULAR_SINGLE_COLUMN"
                    )
                ]
            )
            items = b"".join([p async for p in client.lists.iter_large("Things", workers=2)])
            return single, items

    with Client(**settings(emulator)) as client:
        fill(client)
    single, items = asyncio.run(main())
    assert rows(single)[:3] == [
        ["Things", "Line Items", "Value"],
        ["Thing 0", "A", "0"],
        ["Thing 0", "B", "0"],
    ]
    assert len(rows(single)) == 1 + 2 * ITEMS
    listed = rows(items)
    assert listed[0] == ["", "Parent", "Write", "Read", "Code", "Size"]
    assert listed[1:] == [[f"Thing {n}", "", "", "", f"T{n:04d}", str(n)] for n in range(ITEMS)]
    assert engine_of(emulator).read_requests.existing() == []


def test_a_dropped_connection_mid_page_fetches_the_page_again(emulator: RunningEmulator) -> None:
    seen: list[int] = []
    with Client(**settings(emulator)) as client:
        fill(client)
        emulator.control.set_faults(
            [
                FaultRule(
                    fault="reset_after", method="GET", path="*/readRequests/*/pages/1", times=1
                )
            ],
            seed=3,
        )
        buffer = io.BytesIO()
        client.views.read_large("Grid", buffer, workers=1, on_progress=lambda d, t: seen.append(d))
    assert rows(buffer.getvalue()) == expected_grid()
    assert requests(emulator, "GET", "/pages/{pageNo}") == seen[-1] + 1  # page 1 twice
    assert engine_of(emulator).read_requests.existing() == []


def test_a_failed_request_raises_and_is_deleted(emulator: RunningEmulator, tmp_path: Path) -> None:
    engine_of(emulator).set_read_request_settings(
        ReadRequestSettings(page_size=500, fail_after_pages=2)
    )
    with Client(**settings(emulator)) as client:
        fill(client)
        with pytest.raises(TaskFailedError, match="failed"):
            client.views.read_large("Grid", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "out.csv.part").exists()
    assert engine_of(emulator).read_requests.existing() == []


def test_ctrl_c_deletes_the_request(emulator: RunningEmulator, tmp_path: Path) -> None:
    engine_of(emulator).set_read_request_settings(
        ReadRequestSettings(page_size=300, page_seconds=0.05)
    )

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with Client(**settings(emulator)) as client:
        fill(client)
        with pytest.raises(KeyboardInterrupt):
            client.views.read_large("Grid", tmp_path / "out.csv", on_progress=interrupt)
    assert not (tmp_path / "out.csv.part").exists()
    assert engine_of(emulator).read_requests.existing() == []
    assert requests(emulator, "DELETE", "/readRequests/{requestId}") == 1


def test_cancelling_the_async_read_deletes_the_request(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    engine_of(emulator).set_read_request_settings(
        ReadRequestSettings(page_size=300, page_seconds=0.2)
    )

    async def main() -> None:
        async with AsyncClient(**settings(emulator)) as client:
            first_page = asyncio.Event()
            read = asyncio.create_task(
                client.views.read_large(
                    "Grid", tmp_path / "out.csv", on_progress=lambda d, t: first_page.set()
                )
            )
            await asyncio.wait_for(first_page.wait(), 30)
            assert len(engine_of(emulator).read_requests.existing()) == 1
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read

    with Client(**settings(emulator)) as client:
        fill(client)
    asyncio.run(main())
    assert engine_of(emulator).read_requests.existing() == []
    assert not (tmp_path / "out.csv.part").exists()


def test_an_iterator_closed_early_deletes_the_request(emulator: RunningEmulator) -> None:
    engine_of(emulator).set_read_request_settings(
        ReadRequestSettings(page_size=300, page_seconds=0.05)
    )
    with Client(**settings(emulator)) as client:
        fill(client)
        pages = client.views.iter_large("Grid")
        first = next(iter(pages))
        assert first.startswith(b"Things,A,B\n")
        assert len(engine_of(emulator).read_requests.existing()) == 1
        pages.close()  # type: ignore[attr-defined]
    assert engine_of(emulator).read_requests.existing() == []


def test_a_timeout_raises_and_deletes(emulator: RunningEmulator) -> None:
    engine_of(emulator).set_read_request_settings(
        ReadRequestSettings(page_size=300, page_seconds=0.5)
    )
    with Client(**settings(emulator)) as client:
        fill(client)
        with pytest.raises(TaskTimeoutError):
            client.views.read_large("Grid", io.BytesIO(), timeout=0.3)
    assert engine_of(emulator).read_requests.existing() == []


def test_concurrent_reads_of_one_view_each_get_their_own_request_and_the_whole_grid(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    engine_of(emulator).set_read_request_settings(
        ReadRequestSettings(page_size=500, page_seconds=0.02)
    )
    with Client(**settings(emulator)) as client:
        fill(client)
        targets = [tmp_path / f"grid-{n}.csv" for n in range(3)]
        with ThreadPoolExecutor(max_workers=3) as pool:  # three threads on one client
            written = list(
                pool.map(lambda t: client.views.read_large("Grid", t, workers=2), targets)
            )

    async def two_coroutines() -> list[bytes]:
        async with AsyncClient(**settings(emulator)) as shared:

            async def read() -> bytes:
                return b"".join([p async for p in shared.views.iter_large("Grid", workers=2)])

            return list(await asyncio.gather(read(), read()))

    read_async = asyncio.run(two_coroutines())
    for target, count in zip(targets, written, strict=True):
        assert count == target.stat().st_size
        assert rows(target.read_bytes()) == expected_grid()
    assert [rows(data) for data in read_async] == [expected_grid()] * 2
    assert requests(emulator, "POST", "/readRequests") == 5  # one request per read
    assert requests(emulator, "DELETE", "/readRequests/{requestId}") == 5
    assert engine_of(emulator).read_requests.existing() == []
