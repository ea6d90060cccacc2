"""Resets while requests run: uploads, imports, downloads and resets interleaved over loopback.

Several threads upload, import, poll and download for ~30 s while two others reset the emulator,
one through `POST /_emulator/reset` and one the way the pytest fixture does (`control.reset()`),
and another adds definitions. The server must stay up and answer every request: a success, a
401 (a reset drops tokens) or a 404 (a reset drops tasks); never a 5xx, never a dropped
connection; and log no error.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator

DURATION = 30.0
WORKERS = 4
BASIC = {"Authorization": "Basic " + base64.b64encode(b"demo@example.com:demo").decode()}
ANSWERED = {200, 201, 204, 401, 404}
CONTENT = b"".join(generate_employees_csv(2000, 5, seed=1))


class Errors(logging.Handler):
    """Collects log records of level ERROR and above."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged_errors() -> Iterator[Errors]:
    handler = Errors()
    names = ("uvicorn", "uvicorn.error", "anaplan_tasks")
    for name in names:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in names:
        logging.getLogger(name).removeHandler(handler)


class Caller:
    """One thread's client: signs in again whenever a reset dropped its token."""

    def __init__(self, base_url: str, statuses: Counter[str], failures: list[str]):
        self.http = httpx2.Client(base_url=base_url, timeout=60)
        self.statuses = statuses
        self.failures = failures
        self.token: str | None = None

    def call(self, method: str, path: str, **kwargs: Any) -> httpx2.Response | None:
        if self.token is None and not path.startswith("/token/"):
            self.sign_in()
        headers = dict(kwargs.pop("headers", {}))
        if not path.startswith("/token/") and self.token:
            headers["Authorization"] = f"AnaplanAuthToken {self.token}"
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx2.TransportError as error:
            self.failures.append(f"{method} {path}: {error!r}")
            return None
        self.statuses[f"{method} {response.status_code}"] += 1
        if response.status_code not in ANSWERED:
            self.failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if response.status_code == 401:
            self.token = None
        return response

    def sign_in(self) -> None:
        response = self.call("POST", "/token/authenticate", headers=BASIC)
        if response is not None and response.status_code == 201:
            self.token = response.json()["tokenInfo"]["tokenValue"]


def demo_ids(caller: Caller) -> tuple[str, str, str]:
    """(model base path, employees.csv id, Load Employees import id), found through the API."""
    workspaces = caller.call("GET", "/2/0/workspaces")
    assert workspaces is not None
    workspace = next(w for w in workspaces.json()["workspaces"] if w["name"] == "Demo Workspace")
    models = caller.call("GET", f"/2/0/workspaces/{workspace['id']}/models")
    assert models is not None
    model = next(m for m in models.json()["models"] if m["name"] == "FP&A Dev")
    base = f"/2/0/workspaces/{workspace['id']}/models/{model['id']}"
    files = caller.call("GET", f"{base}/files")
    imports = caller.call("GET", f"{base}/imports")
    assert files is not None
    assert imports is not None
    file_id = next(f["id"] for f in files.json()["files"] if f["name"] == "employees.csv")
    import_id = next(i["id"] for i in imports.json()["imports"] if i["name"] == "Load Employees")
    return base, file_id, import_id


def work(caller: Caller, ids: tuple[str, str, str], seed: int, until: float) -> None:
    base, file_id, import_id = ids
    rng = random.Random(seed)
    half = len(CONTENT) // 2
    octets = {"Content-Type": "application/octet-stream"}
    while time.monotonic() < until:
        caller.call("POST", f"{base}/files/{file_id}", json={"chunkCount": 2})
        caller.call(
            "PUT", f"{base}/files/{file_id}/chunks/0", content=CONTENT[:half], headers=octets
        )
        caller.call(
            "PUT", f"{base}/files/{file_id}/chunks/1", content=CONTENT[half:], headers=octets
        )
        tasks = f"{base}/imports/{import_id}/tasks"
        started = caller.call("POST", tasks, json={"localeName": "en_US"})
        if started is not None and started.status_code == 200:
            task_id = started.json()["task"]["taskId"]
            for _ in range(rng.randint(1, 4)):
                caller.call("GET", f"{tasks}/{task_id}")
        caller.call("GET", f"{base}/files/{file_id}")
        caller.call("GET", tasks)


def keep_loading_definitions(base_url: str, until: float, failures: list[str]) -> None:
    """Another lifecycle operation: definitions added (a new user and workspace each time)."""
    number = 0
    with httpx2.Client(base_url=base_url, timeout=60) as http:
        while time.monotonic() < until:
            number += 1
            text = (
                f'{{"users": [{{"email": "u{number}@example.com", "password": "x"}}], '
                f'"workspaces": [{{"name": "W{number}", "admins": ["u{number}@example.com"]}}]}}'
            )
            try:
                response = http.post("/_emulator/definitions", content=text)
            except httpx2.TransportError as error:
                failures.append(f"POST /_emulator/definitions: {error!r}")
                return
            if response.status_code != 204:
                failures.append(f"POST /_emulator/definitions: {response.status_code}")
            time.sleep(0.2)


def keep_resetting(reset: Callable[[], None], seed: int, until: float, count: list[int]) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        time.sleep(rng.uniform(0.05, 0.6))
        reset()
        count.append(1)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(demo=True) as running:
        yield running


def test_resets_while_requests_run_leave_the_server_up_and_every_request_answered(
    emulator: RunningEmulator, logged_errors: Errors
) -> None:
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    callers = [Caller(emulator.base_url, statuses, failures) for _ in range(WORKERS)]
    ids = demo_ids(callers[0])
    until = time.monotonic() + DURATION
    resets: list[int] = []
    control_http = httpx2.Client(base_url=emulator.base_url, timeout=60)

    def reset_over_http() -> None:
        try:
            response = control_http.post("/_emulator/reset")
        except httpx2.TransportError as error:
            failures.append(f"POST /_emulator/reset: {error!r}")
            return
        if response.status_code != 204:
            failures.append(f"POST /_emulator/reset: {response.status_code}")

    threads = [
        threading.Thread(target=work, args=(caller, ids, seed, until))
        for seed, caller in enumerate(callers)
    ]
    threads.append(
        threading.Thread(target=keep_resetting, args=(reset_over_http, 1, until, resets))
    )
    threads.append(
        threading.Thread(target=keep_resetting, args=(emulator.control.reset, 2, until, resets))
    )
    threads.append(
        threading.Thread(target=keep_loading_definitions, args=(emulator.base_url, until, failures))
    )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [], "\n".join(failures)
    assert httpx2.get(f"{emulator.base_url}/_emulator/health").status_code == 200
    assert len(resets) >= 10
    for kind in ("PUT 204", "POST 200", "GET 200", "POST 201"):
        assert statuses[kind] > 0, statuses
    assert [record.getMessage() for record in logged_errors.records] == []
    for caller in callers:
        caller.http.close()
    control_http.close()
