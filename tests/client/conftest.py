"""Client tests run against the real emulator over loopback (one per session, reset per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from anaplan_tasks.client import AsyncClient, Client, PollPolicy, RetryPolicy
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.demo import DEMO_PASSWORD, DEMO_USER, DEV_MODEL
from anaplan_tasks.emulator.engine.contract import Progression
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator

# Fast schedules so tests spend little wall time; production defaults are tested in tests/_core.
FAST_POLL = PollPolicy(initial_interval=0.02, min_interval=0.05, max_interval=0.2, fast_phase=0.5)
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, busy_base_delay=0.01, max_attempts=6)


@dataclass
class Emulator:
    """The running emulator plus the demo model's ids and a few knobs."""

    running: RunningEmulator
    workspace_id: str
    model_id: str

    @property
    def base_url(self) -> str:
        return self.running.base_url

    def fail(self, *rules: FaultRule, seed: int = 1) -> None:
        self.running.control.set_faults(list(rules), seed)

    def progress(self, mode: str, *, seconds: float = 0.0, polls: int = 0) -> None:
        self.running.control.set_progression(
            Progression(mode=mode, seconds=seconds, polls=polls)  # type: ignore[arg-type]
        )

    def requests(self, method: str, route_end: str) -> int:
        return sum(
            count
            for key, count in self.running.control.request_counts().items()
            if key.startswith(f"{method} ") and key.endswith(route_end)
        )

    def client_settings(self) -> dict[str, object]:
        return {
            "base_url": self.base_url,
            "email": DEMO_USER,
            "password": DEMO_PASSWORD,
            "workspace_id": self.workspace_id,
            "model_id": self.model_id,
            "poll": FAST_POLL,
            "retry": FAST_RETRY,
            "env": {},
        }


@pytest.fixture(scope="session")
def _running() -> Iterator[Emulator]:
    with run_emulator(demo=True) as running:
        login = {"email": DEMO_USER, "password": DEMO_PASSWORD, "env": {}}
        with Client(base_url=running.base_url, **login) as c:  # type: ignore[arg-type]
            workspace = c.workspaces.list()[0]
            model = next(m for m in c.models.list(workspace.id) if m.name == DEV_MODEL)
        yield Emulator(running, workspace.id, model.id)


@pytest.fixture
def emulator(_running: Emulator) -> Iterator[Emulator]:
    _running.running.control.reset()
    _running.running.control.token_lifetime = 35 * 60.0
    yield _running
    _running.running.control.reset()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Client]:
    with Client(**emulator.client_settings()) as sync_client:  # type: ignore[arg-type]
        yield sync_client


@pytest.fixture
async def async_client(emulator: Emulator) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(**emulator.client_settings()) as client:  # type: ignore[arg-type]
        yield client


def employees_csv(first: int, count: int, *, region: str = "EMEA") -> bytes:
    """Employees with ids `E<first>` … (distinct across calls with distinct ranges)."""
    lines = ['"Employee ID",Name,Region,"Start Date",Active,Salary,FTE']
    for number in range(first, first + count):
        lines.append(f"E{number:07d},Person {number},{region},2020-01-01,true,50000,1")
    return ("\n".join(lines) + "\n").encode()
