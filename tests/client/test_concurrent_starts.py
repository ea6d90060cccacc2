"""Two clients start the same import under faults: each call gets its own task or a clear error.

Two users (each with their own private upload of the import's file, as on Anaplan) run imports
of the same action at the same time, while the emulator answers starts with 503s, loses their
answers after committing (`reset_after`) and commits them after the client gave up
(`late_commit`). Every call loads a different number of rows with ids no other call uses, so a
task's `totalRowCount` says whose upload it imported, and the list's items say which rows
landed.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from anaplan_tasks.client import AsyncClient, Client, RetryPolicy
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.errors import AmbiguousStartError, AnaplanError
from anaplan_tasks.models import CompletedTask

from .conftest import FAST_RETRY, Emulator, employees_csv

SECOND_USER = "second@example.com"
SECOND_PASSWORD = "second"
SECOND_USER_TOML = f"""
[[users]]
email = "{SECOND_USER}"
password = "{SECOND_PASSWORD}"

[[workspaces]]
name = "Demo Workspace"
admins = ["{SECOND_USER}"]
"""
IMPORT = "Load Employees"
CALLS = 6


def start_faults(*, late_delay: float) -> list[FaultRule]:
    tasks = "*/imports/*/tasks"
    return [
        FaultRule("status", method="POST", path=tasks, probability=0.2, status=503),
        FaultRule("reset_after", method="POST", path=tasks, probability=0.15),
        FaultRule("late_commit", method="POST", path=tasks, probability=0.15, delay=late_delay),
    ]


@dataclass
class Call:
    """One import run: the rows it uploaded, and what it returned or raised."""

    rows: int
    first: int
    task: CompletedTask | None = None
    error: AnaplanError | None = None

    @property
    def codes(self) -> set[str]:
        return {f"E{number:07d}" for number in range(self.first, self.first + self.rows)}


@dataclass
class Caller:
    """One user's client settings and its calls."""

    settings: dict[str, Any]
    calls: list[Call] = field(default_factory=list)


def callers(emulator: Emulator, retry: RetryPolicy) -> list[Caller]:
    emulator.running.control.load_definition(SECOND_USER_TOML)
    first = {**emulator.client_settings(), "retry": retry}
    second = {**first, "email": SECOND_USER, "password": SECOND_PASSWORD}
    made = [Caller(first), Caller(second)]
    next_id = 1
    for index, caller in enumerate(made):
        for number in range(CALLS):
            rows = 3 + index * CALLS + number  # a row count no other call has
            caller.calls.append(Call(rows, next_id))
            next_id += rows
    return made


def total_rows(task: CompletedTask) -> int:
    (detail,) = task.result.details
    values = dict(zip(detail.values[::2], detail.values[1::2], strict=True))
    return int(values["totalRowCount"])


def run_sync(caller: Caller) -> None:
    with Client(**caller.settings) as client:
        for call in caller.calls:
            try:
                call.task = client.imports.run(IMPORT, employees_csv(call.first, call.rows))
            except AnaplanError as error:
                call.error = error


async def run_async(caller: Caller) -> None:
    async with AsyncClient(**caller.settings) as client:
        for call in caller.calls:
            try:
                csv = employees_csv(call.first, call.rows)
                call.task = await client.imports.run(IMPORT, csv)
            except AnaplanError as error:
                call.error = error


def wait_for_late_commits(emulator: Emulator) -> None:
    """Until every late start has committed and every task has ended (so the reset that ends
    the test finds the emulator idle)."""
    for _ in range(400):
        if emulator.running.control.faults.snapshot()["lateCommitsPending"] == 0:
            break
        threading.Event().wait(0.05)
    else:
        raise AssertionError("late commits never ran")
    with Client(**emulator.client_settings()) as client:  # type: ignore[arg-type]
        for _ in range(400):
            listed = client.imports.list_tasks(IMPORT)
            if all(item.task_state in ("COMPLETE", "CANCELLED") for item in listed):
                return
            threading.Event().wait(0.05)
    raise AssertionError("tasks never ended")


def landed(emulator: Emulator) -> set[str]:
    return set(emulator.running.control.engine.model_data(emulator.model_id).item_keys("Employees"))


def check_every_call_got_its_own_task_or_an_error(
    emulator: Emulator, made: list[Caller]
) -> list[Call]:
    calls = [call for caller in made for call in caller.calls]
    returned = [call for call in calls if call.task is not None]
    for call in returned:
        assert call.task is not None
        assert total_rows(call.task) == call.rows, "a call returned a task that is not its own"
    assert len({call.task.id for call in returned if call.task}) == len(returned)
    reported = set().union(*(call.codes for call in returned))
    rows = landed(emulator)
    assert reported <= rows, "rows a call reported as loaded are missing"
    unsure = set().union(
        *(call.codes for call in calls if isinstance(call.error, AmbiguousStartError))
    )
    assert rows <= reported | unsure, "rows landed that no returned or ambiguous call uploaded"
    return returned


def test_two_clients_on_a_server_that_honours_keys_each_get_their_own_task(
    emulator: Emulator,
) -> None:
    made = callers(emulator, replace(FAST_RETRY, idempotency_keys="honoured"))
    emulator.fail(*start_faults(late_delay=0.3), seed=11)
    threads = [threading.Thread(target=run_sync, args=(caller,)) for caller in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for_late_commits(emulator)
    errors = [call.error for caller in made for call in caller.calls if call.error]
    assert errors == []
    returned = check_every_call_got_its_own_task_or_an_error(emulator, made)
    calls = [call for caller in made for call in caller.calls]
    assert landed(emulator) == set().union(*(call.codes for call in calls))
    assert len(returned) == 2 * CALLS
    hits = [rule["hits"] for rule in emulator.running.control.faults.snapshot()["rules"]]
    assert all(hits), f"every kind of fault fired: {hits}"
    # Each call created exactly one task: the late commits found their key already used.
    with Client(**made[0].settings) as client:
        listed = client.imports.list_tasks(IMPORT)
    assert len(listed) == 2 * CALLS


async def test_two_async_clients_learn_that_keys_are_honoured_and_get_their_own_tasks(
    emulator: Emulator,
) -> None:
    made = callers(emulator, FAST_RETRY)  # idempotency_keys="auto": learned from the echo
    emulator.fail(*start_faults(late_delay=0.3), seed=5)
    await asyncio.gather(*(run_async(caller) for caller in made))
    wait_for_late_commits(emulator)
    check_every_call_got_its_own_task_or_an_error(emulator, made)
    calls = [call for caller in made for call in caller.calls]
    # Until a client's first clean start answer, it cannot know keys are honoured: those calls
    # may end in AmbiguousStartError; every other call returns its own task.
    for call in calls:
        assert call.task is not None or isinstance(call.error, AmbiguousStartError), call.error


def test_two_clients_on_a_keyless_server_never_adopt_each_others_tasks(
    emulator: Emulator,
) -> None:
    retry = replace(FAST_RETRY, idempotency_keys="ignored", shared_actions=True, start_settle=1.0)
    made = callers(emulator, retry)
    emulator.fail(*start_faults(late_delay=0.3), seed=3)
    threads = [threading.Thread(target=run_sync, args=(caller,)) for caller in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for_late_commits(emulator)
    check_every_call_got_its_own_task_or_an_error(emulator, made)
    calls = [call for caller in made for call in caller.calls]
    ambiguous = [call for call in calls if isinstance(call.error, AmbiguousStartError)]
    assert ambiguous, "the faults left some starts unresolved"
    for call in calls:
        assert call.task is not None or isinstance(call.error, AmbiguousStartError), call.error
    for call in ambiguous:
        assert isinstance(call.error, AmbiguousStartError)
        assert call.error.candidates
        assert "before starting the action again" in str(call.error)


@pytest.mark.parametrize("mode", ["auto", "honoured"])
def test_an_uncertain_start_is_sent_again_with_its_key_without_listing(
    emulator: Emulator, client: Client, mode: str
) -> None:
    retry = replace(FAST_RETRY, idempotency_keys=mode)  # type: ignore[arg-type]
    with Client(**{**emulator.client_settings(), "retry": retry}) as keyed:
        keyed.imports.run(IMPORT, employees_csv(1, 3))  # the emulator echoes the key
        emulator.fail(FaultRule("reset_after", method="POST", path="*/tasks", times=1))
        task = keyed.imports.run(IMPORT, employees_csv(10, 4))
    assert total_rows(task) == 4
    assert emulator.requests("GET", "/tasks") == 0
    assert emulator.requests("POST", "/tasks") == 3
    assert len(client.imports.list_tasks(IMPORT)) == 2


@pytest.mark.parametrize("mode", ["honoured", "ignored"])
def test_a_start_that_commits_after_the_client_timed_out_runs_once(
    emulator: Emulator, client: Client, mode: str
) -> None:
    retry = replace(FAST_RETRY, idempotency_keys=mode, start_settle=1.5)  # type: ignore[arg-type]
    emulator.fail(
        FaultRule("late_commit", method="POST", path="*/tasks", times=1, delay=0.6, hold=True)
    )
    settings = {**emulator.client_settings(), "retry": retry, "timeout": 0.3}
    with Client(**settings) as impatient:  # type: ignore[arg-type]
        task = impatient.imports.run(IMPORT, employees_csv(1, 5))
    lists = emulator.requests("GET", "/tasks")
    wait_for_late_commits(emulator)
    assert total_rows(task) == 5
    (only,) = client.imports.list_tasks(IMPORT)
    assert only.id == task.id
    # With keys the start is sent again at once and wins; without, the task list is read after
    # the settle time, when the late start has committed, and the task is adopted.
    assert lists == (0 if mode == "honoured" else 1)
