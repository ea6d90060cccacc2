"""One emulator per test module, reset before each test; plain HTTP requests from the reference."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.server import RunningEmulator, run_emulator

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo"


class FakeClock:
    """A clock the tests move by hand (token expiry, certificate timestamps)."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def emulator(clock: FakeClock) -> Iterator[RunningEmulator]:
    with run_emulator(demo=True, clock=clock) as running:
        yield running


@pytest.fixture
def http(emulator: RunningEmulator) -> Iterator[httpx2.Client]:
    """A plain client on the emulator's origin, no credentials; the emulator is reset first."""
    emulator.control.reset()
    with httpx2.Client(base_url=emulator.base_url, timeout=30) as client:
        yield client


def basic(email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> dict[str, str]:
    credential = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credential}"}


def login(http: httpx2.Client, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> str:
    response = http.post("/token/authenticate", headers=basic(email, password))
    assert response.status_code == 201, response.text
    token: str = response.json()["tokenInfo"]["tokenValue"]
    return token


@pytest.fixture
def api(http: httpx2.Client) -> httpx2.Client:
    """The plain client, signed in as the demo user."""
    http.headers["Authorization"] = f"AnaplanAuthToken {login(http)}"
    return http


@dataclass
class Demo:
    """Ids of the demo workspace, found through the API."""

    workspace_id: str
    model_id: str
    prod_model_id: str
    file_id: str
    imports: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    processes: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/2/0/workspaces/{self.workspace_id}/models/{self.model_id}"

    @property
    def model_base(self) -> str:
        return f"/2/0/models/{self.model_id}"


def ok(response: httpx2.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def demo(api: httpx2.Client) -> Demo:
    workspaces = ok(api.get("/2/0/workspaces"))["workspaces"]
    workspace = next(w for w in workspaces if w["name"] == "Demo Workspace")
    models = ok(api.get(f"/2/0/workspaces/{workspace['id']}/models"))["models"]
    by_name = {m["name"]: m["id"] for m in models}
    found = Demo(
        workspace_id=workspace["id"],
        model_id=by_name["FP&A Dev"],
        prod_model_id=by_name["FP&A Prod"],
        file_id="",
    )
    base = found.base
    files = ok(api.get(f"{base}/files"))["files"]
    found.file_id = next(f["id"] for f in files if f["name"] == "employees.csv")
    for kind, target in (
        ("imports", found.imports),
        ("exports", found.exports),
        ("actions", found.actions),
        ("processes", found.processes),
    ):
        for item in ok(api.get(f"{base}/{kind}")).get(kind, []):
            target[item["name"]] = item["id"]
    return found


def assert_error(response: httpx2.Response, status: int) -> dict[str, Any]:
    """The response is Anaplan's error envelope with this status."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"]["code"] == status
    assert isinstance(body["status"]["message"], str)
    assert body["status"]["message"]
    assert body["path"] == response.request.url.path.rstrip("/")
    assert body["timestamp"].endswith("Z")
    return body
