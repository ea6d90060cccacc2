"""`client.actions` runs an optimizer like any action and fetches its solution log, against
the emulator over loopback (sync and async), and a process's run of it too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from anaplan_tasks.errors import NotFoundError, PermissionDeniedError, TaskFailedError
from tests.client.conftest import FAST_RETRY
from tests.emulator.api.test_optimizer import DEFINITION


@pytest.fixture(scope="module")
def supply_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    path: Path = tmp_path_factory.mktemp("supply") / "supply.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    with run_emulator(definitions=[path]) as running:
        yield running


def _settings(running: RunningEmulator, email: str = "ann@example.com") -> dict[str, Any]:
    return {
        "base_url": running.base_url,
        "email": email,
        "password": "pw",
        "retry": FAST_RETRY,
        "env": {},
        "workspace_id": "Plan WS",
        "model_id": "Supply",
    }


@pytest.fixture
def client(supply_emulator: RunningEmulator) -> Iterator[Client]:
    supply_emulator.control.reset()
    with Client(**_settings(supply_emulator)) as opened:
        yield opened


def test_an_optimizer_runs_like_any_action_and_its_log_is_one_call_away(client: Client) -> None:
    optimizers = [a for a in client.actions.list() if a.action_type == "OPTIMIZER"]
    assert [a.name for a in optimizers] == ["Plan Capacity", "Impossible Plan"]
    task = client.actions.run("Plan Capacity")
    assert task.result.successful
    log = client.actions.solution_log("Plan Capacity", task)
    assert "Optimal solution found" in log
    assert client.actions.solution_log(optimizers[0].id, task.id) == log
    process = client.processes.run("Nightly Optimize")
    assert "Optimize a model with" in client.actions.solution_log("Plan Capacity", process)
    with pytest.raises(NotFoundError):
        client.actions.solution_log("Plan Capacity", "0" * 32)


def test_an_infeasible_optimizer_raises_and_its_log_explains(client: Client) -> None:
    with pytest.raises(TaskFailedError) as failed:
        client.actions.run("Impossible Plan")
    assert "infeasible" in str(failed.value)
    task_id = failed.value.task.id
    assert "Model is infeasible" in client.actions.solution_log("Impossible Plan", task_id)


def test_a_standard_user_is_refused_the_log(supply_emulator: RunningEmulator) -> None:
    supply_emulator.control.reset()
    with Client(**_settings(supply_emulator)) as ann:
        task = ann.actions.run("Plan Capacity")
    with (
        Client(**_settings(supply_emulator, "bo@example.com")) as bo,
        pytest.raises(PermissionDeniedError),
    ):
        bo.actions.solution_log("Plan Capacity", task)


def test_the_async_client_fetches_a_log(supply_emulator: RunningEmulator) -> None:
    supply_emulator.control.reset()

    async def scenario() -> str:
        async with AsyncClient(**_settings(supply_emulator)) as client:
            task = await client.actions.run("Plan Capacity")
            return await client.actions.solution_log("Plan Capacity", task)

    assert "Best objective" in asyncio.run(scenario())
