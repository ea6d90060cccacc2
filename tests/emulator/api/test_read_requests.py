"""Large-volume reads (`…/readRequests…`) over a real socket, against the reference (§9 of the
transactional note): shapes, states, pages while the request works, consistency, delete and
cancel, retention, the quota, errors and who may see a request."""

from __future__ import annotations

import base64
import csv
import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx2
import pytest

from anaplan_tasks.emulator.definitions import load_definition
from anaplan_tasks.emulator.engine import EmulatorEngine, create_engine
from anaplan_tasks.emulator.engine.readrequests import ReadRequestSettings
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator

from .conftest import assert_error, ok

OWNER = "owner@example.com"
MEMBER = "member@example.com"
HIDDEN = "hidden@example.com"
PASSWORD = "secret"
PRODUCTS = 60
REGIONS = ["North", "South", "East"]

DEFINITION = f"""
[[users]]
email = "{OWNER}"
password = "{PASSWORD}"
[[users]]
email = "{MEMBER}"
password = "{PASSWORD}"
[[users]]
email = "{HIDDEN}"
password = "{PASSWORD}"

[[workspaces]]
name = "Reads"
admins = ["{OWNER}"]
users = ["{MEMBER}", "{HIDDEN}"]

[[workspaces.models]]
name = "Sales"
members = {{ "{HIDDEN}" = "No Access" }}

[[workspaces.models.lists]]
name = "Categories"
items = [{{ code = "C1", name = "Tools" }}, {{ code = "C2", name = "Toys" }}]

[[workspaces.models.lists]]
name = "Products"
parent_list = "Categories"
properties = [{{ name = "Weight", format = "number" }}, {{ name = "Colour", format = "text" }}]
items = [{
    ", ".join(
        f'{{ code = "P{n:03d}", name = "Product {n}", parent = "C{1 + n % 2}", '
        f'Weight = {n}.5, Colour = "c{n}" }}'
        for n in range(PRODUCTS)
    )
}]

[[workspaces.models.lists]]
name = "Regions"
items = [{", ".join(f'{{ code = "{r[0]}", name = "{r}" }}' for r in REGIONS)}]

[[workspaces.models.modules]]
name = "Plan"
dimensions = ["Products", "Regions"]
line_items = [{{ name = "Units" }}, {{ name = "Note", format = "text" }}]

[[workspaces.models.modules.views]]
name = "By Region"
rows = ["Products"]
columns = ["Regions"]
pages = ["Line Items"]

[[workspaces.models.modules.views]]
name = "Wide"
rows = ["Products"]
columns = ["Regions", "Line Items"]
"""


class EngineClock:
    """The engine's clock, moved by hand (retention)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Reads:
    api: httpx2.Client
    emulator: RunningEmulator
    clock: EngineClock
    workspace_id: str
    model_id: str
    view_id: str  # the module's default view (Products on rows, Line Items on columns)
    saved_view_id: str
    products_id: str

    @property
    def base(self) -> str:
        return f"/2/0/workspaces/{self.workspace_id}/models/{self.model_id}"

    @property
    def model_base(self) -> str:
        return f"/2/0/models/{self.model_id}"

    @property
    def engine(self) -> EmulatorEngine:
        return cast("EmulatorEngine", self.emulator.engine)

    def settings(self, **values: Any) -> None:
        self.engine.set_read_request_settings(ReadRequestSettings(**values))


@pytest.fixture(scope="module")
def clock() -> EngineClock:
    return EngineClock()


@pytest.fixture(scope="module")
def emulator(
    tmp_path_factory: pytest.TempPathFactory, clock: EngineClock
) -> Iterator[RunningEmulator]:
    path = Path(tmp_path_factory.mktemp("reads")) / "reads.toml"
    path.write_text(DEFINITION)
    engine = create_engine(memory=True, definitions=[load_definition(path)], clock=clock)
    try:
        with run_emulator(engine=engine) as running:
            yield running
    finally:
        engine.close()


@contextmanager
def sign_in(base_url: str, email: str = OWNER) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=base_url, timeout=30) as client:
        credential = base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
        response = client.post(
            "/token/authenticate", headers={"Authorization": f"Basic {credential}"}
        )
        token = response.json()["tokenInfo"]["tokenValue"]
        client.headers["Authorization"] = f"AnaplanAuthToken {token}"
        yield client


def expected_units(product: int, region: int) -> str:
    return str(product * 10 + region)


@pytest.fixture
def reads(emulator: RunningEmulator, clock: EngineClock) -> Iterator[Reads]:
    emulator.control.reset()
    clock.offset = 0.0
    cast("EmulatorEngine", emulator.engine).set_read_request_settings(ReadRequestSettings())
    with sign_in(emulator.base_url) as api:
        workspace = ok(api.get("/2/0/workspaces"))["workspaces"][0]["id"]
        model = ok(api.get(f"/2/0/workspaces/{workspace}/models"))["models"][0]["id"]
        base = f"/2/0/models/{model}"
        views = {v["name"]: v["id"] for v in ok(api.get(f"{base}/views"))["views"]}
        lists = {item["name"]: item["id"] for item in ok(api.get(f"{base}/lists"))["lists"]}
        found = Reads(
            api,
            emulator,
            clock,
            workspace,
            model,
            views["Plan"],
            views["Plan.By Region"],
            lists["Products"],
        )
        cells = [
            {
                "lineItemName": line_item,
                "dimensions": [
                    {"dimensionName": "Products", "itemCode": f"P{p:03d}"},
                    {"dimensionName": "Regions", "itemCode": REGIONS[r][0]},
                ],
                "value": expected_units(p, r) if line_item == "Units" else f"n,{p}\n{r}",
            }
            for p in range(PRODUCTS)
            for r in range(len(REGIONS))
            for line_item in ("Units", "Note")
            if not (line_item == "Note" and r != 0)
        ]
        written = ok(api.post(f"{base}/modules/{views['Plan']}/data", json=cells))
        assert written["numberOfCellsChanged"] == len(cells)
        yield found


def start(reads: Reads, export_type: str = "TABULAR_MULTI_COLUMN", view: str | None = None) -> str:
    body = ok(
        reads.api.post(
            f"{reads.base}/views/{view or reads.view_id}/readRequests",
            json={"exportType": export_type},
        )
    )
    request_id: str = body["viewReadRequest"]["requestId"]
    return request_id


def status_path(reads: Reads, request_id: str, view: str | None = None) -> str:
    return f"{reads.base}/views/{view or reads.view_id}/readRequests/{request_id}"


def wait_complete(reads: Reads, path: str, *, key: str = "viewReadRequest") -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found: dict[str, Any] = ok(reads.api.get(path))[key]
        if found["requestState"] in ("COMPLETE", "CANCELLED"):
            return found
        time.sleep(0.01)
    raise AssertionError(f"{path} did not finish")


def all_pages(reads: Reads, path: str, count: int) -> bytes:
    data = b""
    for number in range(count):
        response = reads.api.get(f"{path}/pages/{number}", headers={"Accept": "text/csv"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        data += response.content
    return data


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


# -- shapes --------------------------------------------------------------------------------------


def test_view_read_start_status_pages_and_delete(reads: Reads) -> None:
    response = reads.api.post(
        f"{reads.base}/views/{reads.view_id}/readRequests/",  # the docs' URL ends in a slash
        json={"exportType": "TABULAR_MULTI_COLUMN"},
    )
    body = ok(response)
    assert body["meta"]["schema"].endswith("/2/0/objects/viewReadRequest")
    assert body["status"] == {"code": 200, "message": "Success"}
    started = body["viewReadRequest"]
    assert set(started) == {"requestId", "requestState", "url"}
    assert re.fullmatch(r"[0-9A-F]{32}", started["requestId"])
    assert started["requestState"] in ("NOT_STARTED", "IN_PROGRESS")
    path = status_path(reads, started["requestId"])
    assert started["url"] == f"{reads.emulator.base_url}{path}"

    done = wait_complete(reads, path)
    assert set(done) == {
        "requestId",
        "viewId",
        "requestState",
        "url",
        "availablePages",
        "successful",
    }
    assert done["viewId"] == int(reads.view_id)  # a JSON number here (§9.3)
    assert (done["requestState"], done["successful"], done["availablePages"]) == (
        "COMPLETE",
        True,
        1,
    )
    rows = rows_of(all_pages(reads, path, 1))
    # the dimensions in the view's order: pages (Regions), rows (Products), columns
    assert rows[0] == ["Regions", "Products", "Units", "Note"]
    assert len(rows) == 1 + PRODUCTS * len(REGIONS)
    assert rows[1] == ["North", "Product 0", "0", "n,0\n0"]  # a quoted line break survives
    assert rows[2] == ["North", "Product 1", "10", "n,1\n0"]
    assert rows[1 + PRODUCTS] == ["South", "Product 0", "1", ""]
    assert rows[-1] == ["East", "Product 59", expected_units(59, 2), ""]

    # the model-direct form sees the same request
    assert (
        ok(
            reads.api.get(
                f"{reads.model_base}/views/{reads.view_id}/readRequests/{started['requestId']}"
            )
        )["viewReadRequest"]["requestState"]
        == "COMPLETE"
    )
    deleted = ok(reads.api.delete(path))["viewReadRequest"]
    assert (deleted["requestState"], deleted["successful"]) == ("COMPLETE", True)
    assert_error(reads.api.get(path), 404)
    assert_error(reads.api.get(f"{path}/pages/0"), 404)
    assert_error(reads.api.delete(path), 404)


def test_pages_are_gzipped_when_asked(reads: Reads) -> None:
    request_id = start(reads)
    path = status_path(reads, request_id)
    wait_complete(reads, path)
    plain = reads.api.get(f"{path}/pages/0", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = reads.api.get(f"{path}/pages/0", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(plain.content)
    assert packed.content == plain.content  # decoded by the HTTP client


def test_read_request_knobs_through_the_control_api(reads: Reads) -> None:
    control = f"{reads.emulator.base_url}/_emulator/read-requests"
    answer = ok(reads.api.put(control, json={"pageSize": 300, "failAfterPages": 2}))
    assert answer == {
        "pageSize": 300,
        "pageSeconds": 0.0,
        "maxPerModel": 10,
        "retention": 1800.0,
        "failAfterPages": 2,
    }
    done = wait_complete(reads, status_path(reads, start(reads)))
    assert (done["requestState"], done["successful"], done["availablePages"]) == (
        "COMPLETE",
        False,
        2,
    )
    assert_error(reads.api.put(control, json={"pageSize": 0}), 400)
    assert_error(reads.api.put(control, json={"pageSize": "big"}), 400)
    assert_error(reads.api.put(control, json={"pages": 1}), 400)
    reads.emulator.control.reset()
    assert ok(reads.api.get(control))["pageSize"] == 10 * 1024 * 1024  # a reset restores them


def test_grid_and_single_column_layouts(reads: Reads) -> None:
    grid_id = start(reads, "GRID_ALL_PAGES", view=reads.saved_view_id)
    grid_path = status_path(reads, grid_id, view=reads.saved_view_id)
    done = wait_complete(reads, grid_path)
    grid = rows_of(all_pages(reads, grid_path, done["availablePages"]))
    # pages (Line Items) then rows (Products) lead each line; columns (Regions) head the cells
    assert grid[0] == ["Line Items", "Products", *REGIONS]
    assert grid[1] == ["Units", "Product 0", "0", "1", "2"]
    assert grid[1 + PRODUCTS] == ["Note", "Product 0", "n,0\n0", "", ""]
    assert len(grid) == 1 + 2 * PRODUCTS

    wide = ok(reads.api.get(f"{reads.model_base}/views"))["views"]
    wide_id = next(v["id"] for v in wide if v["name"] == "Plan.Wide")
    wide_path = status_path(reads, start(reads, "GRID_ALL_PAGES", view=wide_id), view=wide_id)
    done = wait_complete(reads, wide_path)
    two_levels = rows_of(all_pages(reads, wide_path, done["availablePages"]))
    # one header line per column level; the last names the row dimension
    assert two_levels[0] == ["", "North", "North", "South", "South", "East", "East"]
    assert two_levels[1] == ["Products", "Units", "Note", "Units", "Note", "Units", "Note"]
    assert two_levels[2] == ["Product 0", "0", "n,0\n0", "1", "", "2", ""]
    assert len(two_levels) == 2 + PRODUCTS

    single_id = start(reads, "TABULAR_SINGLE_COLUMN")
    single_path = status_path(reads, single_id)
    done = wait_complete(reads, single_path)
    single = rows_of(all_pages(reads, single_path, done["availablePages"]))
    assert single[0] == ["Regions", "Products", "Line Items", "Value"]
    assert single[1:3] == [
        ["North", "Product 0", "Units", "0"],
        ["North", "Product 0", "Note", "n,0\n0"],
    ]
    assert len(single) == 1 + PRODUCTS * len(REGIONS) * 2


def test_list_read_with_no_body_or_an_empty_object(reads: Reads) -> None:
    for kwargs in ({}, {"json": {}}):
        body = ok(reads.api.post(f"{reads.base}/lists/{reads.products_id}/readRequests", **kwargs))
        assert body["meta"]["schema"].endswith("/objects/listReadRequest")
        request_id = body["listReadRequest"]["requestId"]
        path = f"{reads.base}/lists/{reads.products_id}/readRequests/{request_id}"
        done = wait_complete(reads, path, key="listReadRequest")
        assert done["listId"] == int(reads.products_id)
        assert set(done) == {
            "requestId",
            "listId",
            "requestState",
            "url",
            "availablePages",
            "successful",
        }
        rows = rows_of(all_pages(reads, path, done["availablePages"]))
        assert rows[0] == ["", "Parent", "Write", "Read", "Code", "Weight", "Colour"]
        assert rows[1] == ["Product 0", "Tools", "", "", "P000", "0.5", "c0"]
        assert rows[2] == ["Product 1", "Toys", "", "", "P001", "1.5", "c1"]
        assert len(rows) == 1 + PRODUCTS
        ok(reads.api.delete(path))


# -- pages while the request works ---------------------------------------------------------------


def test_pages_are_readable_while_in_progress_and_cut_at_record_ends(reads: Reads) -> None:
    reads.settings(page_size=600, page_seconds=0.08)
    request_id = start(reads)
    path = status_path(reads, request_id)
    seen_in_progress: list[int] = []
    fetched: list[bytes] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = ok(reads.api.get(path))["viewReadRequest"]
        while len(fetched) < found["availablePages"]:
            response = reads.api.get(f"{path}/pages/{len(fetched)}")
            assert response.status_code == 200, response.text
            if found["requestState"] == "IN_PROGRESS":
                seen_in_progress.append(len(fetched))
            fetched.append(response.content)
        if found["requestState"] == "COMPLETE":
            break
        assert found["requestState"] in ("NOT_STARTED", "IN_PROGRESS")
        assert found["successful"] is False  # false until success
        time.sleep(0.01)
    assert len(seen_in_progress) >= 3
    assert len(fetched) > 5
    assert all(len(page) <= 600 for page in fetched)
    assert all(page.endswith(b"\n") for page in fetched)
    rows = rows_of(b"".join(fetched))
    assert rows[0] == ["Regions", "Products", "Units", "Note"]  # the header is on page 0 only
    assert sum(1 for row in rows if row[0] == "Regions") == 1
    assert len(rows) == 1 + PRODUCTS * len(REGIONS)
    assert_error(reads.api.get(f"{path}/pages/{len(fetched)}"), 404)
    assert_error(reads.api.get(f"{path}/pages/x"), 400)
    assert_error(reads.api.get(f"{path}/pages/%C2%B2"), 400)  # "²" is a digit, not a number


def test_a_write_during_the_read_changes_nothing_in_it(reads: Reads) -> None:
    reads.settings(page_size=400, page_seconds=0.05)
    request_id = start(reads)
    path = status_path(reads, request_id)
    deadline = time.monotonic() + 30
    while ok(reads.api.get(path))["viewReadRequest"]["availablePages"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    last = {
        "lineItemName": "Units",
        "dimensions": [
            {"dimensionName": "Products", "itemCode": f"P{PRODUCTS - 1:03d}"},
            {"dimensionName": "Regions", "itemCode": "E"},
        ],
        "value": 999999,
    }
    ok(reads.api.post(f"{reads.model_base}/modules/{reads.view_id}/data", json=[last]))
    during = ok(reads.api.get(path))["viewReadRequest"]
    assert during["requestState"] == "IN_PROGRESS"  # the write landed while the read ran
    done = wait_complete(reads, path)
    rows = rows_of(all_pages(reads, path, done["availablePages"]))
    assert rows[-1] == ["East", "Product 59", expected_units(59, 2), ""]


def test_delete_cancels_a_running_request(reads: Reads) -> None:
    reads.settings(page_size=300, page_seconds=0.2)
    request_id = start(reads)
    path = status_path(reads, request_id)
    deleted = ok(reads.api.delete(path))["viewReadRequest"]
    assert deleted["requestState"] == "CANCELLED"
    assert deleted["successful"] is False
    assert_error(reads.api.get(path), 404)
    assert_error(reads.api.get(f"{path}/pages/0"), 404)


def test_reset_during_a_read_forgets_it(reads: Reads) -> None:
    reads.settings(page_size=300, page_seconds=0.2)
    request_id = start(reads)
    reads.emulator.control.reset()
    with sign_in(reads.emulator.base_url) as api:
        assert_error(api.get(status_path(reads, request_id)), 404)


# -- limits, retention, errors, roles ------------------------------------------------------------


def test_retention_restarts_only_on_pages_divisible_by_100(reads: Reads) -> None:
    reads.settings(page_size=200)
    request_id = start(reads)
    path = status_path(reads, request_id)
    done = wait_complete(reads, path)
    assert done["availablePages"] >= 2
    reads.clock.offset += 29 * 60
    assert reads.api.get(f"{path}/pages/1").status_code == 200  # does not restart the timer
    reads.clock.offset += 2 * 60
    assert_error(reads.api.get(path), 404)

    request_id = start(reads)
    path = status_path(reads, request_id)
    wait_complete(reads, path)
    reads.clock.offset += 29 * 60
    assert reads.api.get(f"{path}/pages/0").status_code == 200  # restarts it
    reads.clock.offset += 29 * 60
    assert ok(reads.api.get(path))["viewReadRequest"]["requestState"] == "COMPLETE"
    reads.clock.offset += 2 * 60
    assert_error(reads.api.get(path), 404)


def test_a_model_holds_a_bounded_number_of_requests(reads: Reads) -> None:
    reads.settings(max_per_model=2)
    first = start(reads)
    start(reads)
    body = assert_error(
        reads.api.post(
            f"{reads.base}/views/{reads.view_id}/readRequests",
            json={"exportType": "GRID_ALL_PAGES"},
        ),
        400,
    )
    assert "read requests" in body["status"]["message"]
    ok(reads.api.delete(status_path(reads, first)))
    start(reads)  # room again


def test_bad_starts(reads: Reads) -> None:
    url = f"{reads.base}/views/{reads.view_id}/readRequests"
    assert "exportType" in assert_error(reads.api.post(url, json={}), 400)["status"]["message"]
    body = assert_error(reads.api.post(url, json={"exportType": "TABULAR_SINGLE_ITEMS"}), 400)
    assert "GRID_ALL_PAGES" in body["status"]["message"]
    assert_error(reads.api.post(url, json={"exportType": 3}), 400)
    assert_error(reads.api.post(url, content=b"{nope"), 400)
    assert_error(reads.api.post(url, content=b""), 400)
    assert_error(
        reads.api.post(
            f"{reads.base}/views/102999999999/readRequests", json={"exportType": "GRID_ALL_PAGES"}
        ),
        404,
    )
    assert_error(reads.api.post(f"{reads.base}/lists/101999999998/readRequests"), 404)
    assert_error(reads.api.get(f"{url}/0123456789ABCDEF0123456789ABCDEF"), 404)


def test_a_request_is_its_owners_and_no_access_is_404(reads: Reads) -> None:
    request_id = start(reads)
    path = status_path(reads, request_id)
    with sign_in(reads.emulator.base_url, MEMBER) as member:
        assert_error(member.get(path), 404)  # another user's request does not exist for them
        body = ok(
            member.post(
                f"{reads.base}/views/{reads.view_id}/readRequests",
                json={"exportType": "GRID_ALL_PAGES"},
            )
        )  # a standard user may read (reference §1.5)
        assert body["viewReadRequest"]["requestId"]
    with sign_in(reads.emulator.base_url, HIDDEN) as hidden:
        assert_error(
            hidden.post(
                f"{reads.base}/views/{reads.view_id}/readRequests",
                json={"exportType": "GRID_ALL_PAGES"},
            ),
            404,
        )
    # a request is found under the object it reads only
    assert_error(reads.api.get(status_path(reads, request_id, view=reads.saved_view_id)), 404)
