"""Property test: whatever clients do, tasks move only forward and one runs per model at a time."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from anaplan_tasks.emulator.demo import DEV_MODEL, PROD_MODEL, generate_employees_csv
from anaplan_tasks.emulator.engine import create_engine
from anaplan_tasks.emulator.engine.contract import ActionKind, Progression, ProgressionMode

from .conftest import DemoModel, FakeClock, demo_model

RANK = {"NOT_STARTED": 0, "IN_PROGRESS": 1, "CANCELLING": 2, "COMPLETE": 3, "CANCELLED": 3}
ACTIONS: list[tuple[ActionKind, str]] = [
    ("imports", "Load Employees"),
    ("imports", "Load Headcount"),
    ("exports", "Headcount Export"),
    ("actions", "Remove Inactive Employees"),
    ("processes", "Nightly Load"),
]
MODES: list[ProgressionMode] = ["polls", "manual", "real"]
CSV = b"".join(generate_employees_csv(60, bad_rows=4))


class TaskLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.engine = create_engine(memory=True, demo=True, clock=self.clock)
        self.models = [demo_model(self.engine, DEV_MODEL), demo_model(self.engine, PROD_MODEL)]
        for model in self.models:
            model.upload(CSV)
        self.engine.set_progression(Progression(mode="polls", polls=2))
        self.tasks: list[tuple[DemoModel, ActionKind, str, str]] = []
        self.last: dict[str, str] = {}

    def teardown(self) -> None:
        self.clock.release()
        self.engine.close()

    def _observe(self, model: DemoModel, kind: ActionKind, name: str, task_id: str) -> None:
        state = str(model.status(kind, name, task_id).task_state)
        before = self.last.get(task_id)
        if before is not None:
            assert RANK[state] >= RANK[before], f"{task_id}: {before} -> {state}"
            if RANK[before] == 3:
                assert state == before, f"{task_id}: finished as {before}, then {state}"
        self.last[task_id] = state

    @rule(model=st.integers(0, 1), action=st.sampled_from(ACTIONS))
    def start(self, model: int, action: tuple[ActionKind, str]) -> None:
        kind, name = action
        target = self.models[model]
        task_id = target.start(kind, name)
        self.tasks.append((target, kind, name, task_id))
        self._observe(target, kind, name, task_id)

    @precondition(lambda self: self.tasks)
    @rule(pick=st.integers(0, 1_000))
    def poll(self, pick: int) -> None:
        self._observe(*self.tasks[pick % len(self.tasks)])

    @precondition(lambda self: self.tasks)
    @rule(pick=st.integers(0, 1_000))
    def cancel(self, pick: int) -> None:
        model, kind, name, task_id = self.tasks[pick % len(self.tasks)]
        model.engine.cancel_task(model.principal, model.model_id, kind, model.ids[name], task_id)
        self._observe(model, kind, name, task_id)

    @rule(mode=st.sampled_from(MODES))
    def progression(self, mode: ProgressionMode) -> None:
        self.engine.set_progression(Progression(mode=mode, polls=2))

    @rule()
    def advance(self) -> None:
        self.engine.advance()

    @invariant()
    def one_running_task_per_model(self) -> None:
        with self.engine._lock:
            running = Counter(
                live.model_id
                for live in self.engine._live.values()
                if live.state in ("IN_PROGRESS", "CANCELLING")
            )
        assert all(count <= 1 for count in running.values()), running


TaskLifecycle.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestTaskLifecycle = TaskLifecycle.TestCase
