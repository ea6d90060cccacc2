"""Optimizer actions over a real socket (§10 of the transactional note): listed as `OPTIMIZER`
actions, run as a task on their own or as a process step, and their solution log served under
the optimizer's id and the running task's id; administrators only (403 before any id is looked
at), 404 for any unknown id, gone 48 hours after the last read."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.definitions import parse_definition
from anaplan_tasks.emulator.engine import create_engine
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from tests.emulator.engine.conftest import FakeClock

from .conftest import assert_error, ok

DEFINITION = """
[[users]]
email = "ann@example.com"
password = "pw"

[[users]]
email = "bo@example.com"
password = "pw"

[[workspaces]]
name = "Plan WS"
admins = ["ann@example.com"]
users = ["bo@example.com"]

[[workspaces.models]]
name = "Supply"

[[workspaces.models.lists]]
name = "Plants"
items = [{ code = "P1", name = "Lyon" }, { code = "P2", name = "Porto" }]

[[workspaces.models.modules]]
name = "Capacity"
dimensions = ["Plants"]
line_items = [{ name = "Units" }]

[[workspaces.models.optimizer_actions]]
name = "Plan Capacity"
module = "Capacity"
objective = "Units"

[[workspaces.models.optimizer_actions]]
name = "Impossible Plan"
module = "Capacity"
objective = "Units"
sense = "minimize"
feasible = false

[[workspaces.models.processes]]
name = "Nightly Optimize"
actions = ["Plan Capacity"]
"""

HOURS = 3600.0


@pytest.fixture(scope="module")
def clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    yield fake
    fake.release()


@pytest.fixture(scope="module")
def emulator(clock: FakeClock) -> Iterator[RunningEmulator]:
    engine = create_engine(memory=True, definitions=[parse_definition(DEFINITION)], clock=clock)
    try:
        with run_emulator(engine=engine, token_lifetime=1e9, clock=clock.now) as running:
            yield running
    finally:
        engine.close()


@dataclass
class Supply:
    api: httpx2.Client
    base: str

    def ids(self, kind: str) -> dict[str, str]:
        return {x["name"]: x["id"] for x in ok(self.api.get(f"{self.base}/{kind}"))[kind]}

    def run(self, kind: str, action_id: str) -> dict[str, Any]:
        path = f"{self.base}/{kind}/{action_id}/tasks"
        task_id = ok(self.api.post(path, json={"localeName": "en_US"}))["task"]["taskId"]
        for _ in range(5000):
            task: dict[str, Any] = ok(self.api.get(f"{path}/{task_id}"))["task"]
            if task["taskState"] == "COMPLETE":
                return task
        raise AssertionError("the task did not finish")

    def log_path(self, action_id: str, correlation_id: str) -> str:
        return f"{self.base}/optimizeActions/{action_id}/tasks/{correlation_id}/solutionLogs"


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


@pytest.fixture
def supply(emulator: RunningEmulator) -> Iterator[Supply]:
    emulator.control.reset()
    with _signed_in(emulator, "ann@example.com") as api:
        workspace = ok(api.get("/2/0/workspaces"))["workspaces"][0]
        model = ok(api.get(f"/2/0/workspaces/{workspace['id']}/models"))["models"][0]
        yield Supply(api, f"/2/0/workspaces/{workspace['id']}/models/{model['id']}")


def _write_units(supply: Supply) -> None:
    module = supply.ids("modules")["Capacity"]
    cells = [
        {
            "lineItemName": "Units",
            "dimensions": [{"dimensionName": "Plants", "itemCode": code}],
            "value": value,
        }
        for code, value in (("P1", 40), ("P2", 2.5))
    ]
    assert (
        ok(supply.api.post(f"{supply.base}/modules/{module}/data", json=cells))[
            "numberOfCellsChanged"
        ]
        == 2
    )


def test_optimizers_are_listed_as_actions_and_in_process_metadata(supply: Supply) -> None:
    actions = ok(supply.api.get(f"{supply.base}/actions"))["actions"]
    optimizers = [a for a in actions if a["actionType"] == "OPTIMIZER"]
    assert [a["name"] for a in optimizers] == ["Plan Capacity", "Impossible Plan"]
    assert all(a["id"].startswith("117") for a in optimizers)
    process = supply.ids("processes")["Nightly Optimize"]
    metadata = ok(supply.api.get(f"{supply.base}/processes/{process}"))["processMetadata"]
    assert metadata["actions"] == [
        {"id": optimizers[0]["id"], "name": "Plan Capacity", "actionType": "OPTIMIZER"}
    ]


def test_an_optimizer_task_and_its_solution_log(supply: Supply) -> None:
    _write_units(supply)
    plan = supply.ids("actions")["Plan Capacity"]
    task = supply.run("actions", plan)
    result = task["result"]
    assert (result["successful"], result["objectId"]) == (True, plan)
    assert result["details"][0]["type"] == "optimizerSucceeded"
    assert "objective 42.5" in result["details"][0]["localMessageText"]
    response = supply.api.get(
        supply.log_path(plan, task["taskId"]), headers={"Accept": "text/plain"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.splitlines()[0] == "Optimize a model with 2 rows, 2 columns and 2 nonzeros"
    assert "Optimal solution found (tolerance 1.00e-04)" in response.text
    assert "Best objective 4.250000000000e+01" in response.text
    dumps = f"{supply.base}/processes/{supply.ids('processes')['Nightly Optimize']}/tasks"
    assert_error(supply.api.get(f"{dumps}/{task['taskId']}/dumps/{plan}"), 404)


def test_a_process_that_runs_an_optimizer_leaves_the_log_under_its_task(supply: Supply) -> None:
    _write_units(supply)
    process = supply.ids("processes")["Nightly Optimize"]
    plan = supply.ids("actions")["Plan Capacity"]
    task = supply.run("processes", process)
    assert task["result"]["successful"] is True
    assert task["result"]["nestedResults"][0]["objectId"] == plan
    log = supply.api.get(supply.log_path(plan, task["taskId"]))
    assert log.status_code == 200
    assert "Optimal solution found" in log.text
    # The process's own id is not an optimizer's: 404 even with the right task.
    assert_error(supply.api.get(supply.log_path(process, task["taskId"])), 404)
    assert_error(supply.api.get(supply.log_path(plan, "0" * 32)), 404)


def test_an_infeasible_optimizer_fails_with_a_log_that_says_so(supply: Supply) -> None:
    impossible = supply.ids("actions")["Impossible Plan"]
    task = supply.run("actions", impossible)
    assert task["result"]["successful"] is False
    assert task["result"]["details"][0]["type"] == "optimizerInfeasible"
    log = supply.api.get(supply.log_path(impossible, task["taskId"]))
    assert "Model is infeasible" in log.text


def test_only_administrators_read_logs_and_unread_logs_expire(
    emulator: RunningEmulator, clock: FakeClock, supply: Supply
) -> None:
    plan = supply.ids("actions")["Plan Capacity"]
    task = supply.run("actions", plan)
    path = supply.log_path(plan, task["taskId"])
    with _signed_in(emulator, "bo@example.com") as bo:
        assert_error(bo.get(path), 403)
        assert_error(bo.get(supply.log_path("117999999999", "F" * 32)), 403)  # before any id
    clock.advance(47 * HOURS)
    assert supply.api.get(path).status_code == 200  # read: 48 more hours
    clock.advance(47 * HOURS)
    assert supply.api.get(path).status_code == 200
    clock.advance(49 * HOURS)
    assert_error(supply.api.get(path), 404)
    assert_error(supply.api.get(path), 404)
