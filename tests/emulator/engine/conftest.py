"""Fixtures for engine tests: a fake clock and the demo workspace in an ephemeral store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anaplan_tasks.emulator.demo import DEMO_PASSWORD, DEMO_USER, DEV_MODEL, PROD_MODEL
from anaplan_tasks.emulator.engine import EmulatorEngine, create_engine
from anaplan_tasks.emulator.engine.contract import (
    ActionKind,
    Page,
    Principal,
    Progression,
    TaskStart,
)
from anaplan_tasks.models import BulkTaskStatus, CompletedTask

START = 1_767_180_000.0


class FakeClock:
    """A clock that moves only when told; `sleep` blocks until the time has come."""

    def __init__(self, now: float = START):
        self._now = now
        self._cond = threading.Condition()
        self._released = False

    def now(self) -> float:
        with self._cond:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._cond:
            target = self._now + seconds
            while self._now < target and not self._released:
                self._cond.wait()

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += seconds
            self._cond.notify_all()

    def release(self) -> None:
        """Let every sleeper go (teardown)."""
        with self._cond:
            self._released = True
            self._cond.notify_all()


@dataclass
class DemoModel:
    """The demo's FP&A Dev model seen by the demo user, with helpers to drive it."""

    engine: EmulatorEngine
    principal: Principal
    model_id: str
    ids: dict[str, str]

    @property
    def file_id(self) -> str:
        return self.ids["employees.csv"]

    def upload(self, data: bytes, chunk_size: int = 0, file_id: str | None = None) -> None:
        file_id = file_id or self.file_id
        size = chunk_size or max(len(data), 1)
        chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        self.engine.set_chunk_count(self.principal, self.model_id, file_id, len(chunks))
        for index, chunk in enumerate(chunks):
            self.engine.put_chunk(self.principal, self.model_id, file_id, index, chunk)

    def start(self, kind: ActionKind, name: str, **start: object) -> str:
        task = self.engine.start_task(
            self.principal,
            self.model_id,
            kind,
            self.ids[name],
            TaskStart(locale_name="en_US", **start),  # type: ignore[arg-type]
        )
        return task.id

    def status(self, kind: ActionKind, name: str, task_id: str, **flags: bool) -> BulkTaskStatus:
        return self.engine.task(
            self.principal, self.model_id, kind, self.ids[name], task_id, **flags
        )

    def run(self, kind: ActionKind, name: str, **start: object) -> CompletedTask:
        task_id = self.start(kind, name, **start)
        assert self.engine.wait_idle(30)
        status = self.status(kind, name, task_id)
        assert isinstance(status, CompletedTask), status
        return status

    def items(self, list_name: str = "Employees") -> list[tuple[object, ...]]:
        data = self.engine.model_data(self.model_id)
        return [(c, n, p, tuple(sorted(props.items()))) for c, n, p, props in data.items(list_name)]

    def cells(self, module: str = "Headcount") -> list[tuple[object, ...]]:
        data = self.engine.model_data(self.model_id)
        return [(key, tuple(sorted(v.items()))) for key, v in data.cells(module)]


def demo_model(engine: EmulatorEngine, name: str = DEV_MODEL) -> DemoModel:
    principal = engine.authenticate_basic(DEMO_USER, DEMO_PASSWORD)
    assert principal is not None
    model = next(m for m in engine.models(principal, None, Page()).items if m.name == name)
    ids: dict[str, str] = {}
    for listing in (
        engine.files(principal, model.id, Page()).items,
        engine.imports(principal, model.id, Page()).items,
        engine.exports(principal, model.id, Page()).items,
        engine.actions(principal, model.id, Page()).items,
        engine.processes(principal, model.id, Page()).items,
    ):
        for entry in listing:
            ids.setdefault(entry.name, entry.id)
    return DemoModel(engine, principal, model.id, ids)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    yield fake
    fake.release()


@pytest.fixture
def engine(clock: FakeClock) -> Iterator[EmulatorEngine]:
    built = create_engine(memory=True, demo=True, clock=clock)
    yield built
    clock.release()
    built.close()


@pytest.fixture
def dev(engine: EmulatorEngine) -> DemoModel:
    return demo_model(engine, DEV_MODEL)


@pytest.fixture
def prod(engine: EmulatorEngine) -> DemoModel:
    return demo_model(engine, PROD_MODEL)


def open_engine(path: Path, clock: FakeClock, **options: object) -> EmulatorEngine:
    """An engine on a data directory (durable store)."""
    return create_engine(data_dir=path, demo=True, clock=clock, **options)  # type: ignore[arg-type]


def polls(count: int) -> Progression:
    return Progression(mode="polls", polls=count)


def another_member(engine: EmulatorEngine) -> Principal:
    """A second Full Access member of the demo workspace (the demo's viewer only views)."""
    engine.load_definition(
        """
[[users]]
email = "analyst@example.com"
password = "analyst"

[[workspaces]]
name = "Demo Workspace"
users = ["analyst@example.com"]
"""
    )
    principal = engine.authenticate_basic("analyst@example.com", "analyst")
    assert principal is not None
    return principal
