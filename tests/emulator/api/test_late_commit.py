"""The `late_commit` fault: a task start that commits after the client has given up."""

from __future__ import annotations

import time

import httpx2
import pytest

from .conftest import Demo, login, ok
from .test_tasks import EN_US, employees, import_tasks, start, upload


def late_rule(delay: float, **extra: object) -> dict[str, object]:
    return {
        "fault": "late_commit",
        "method": "POST",
        "path": "*/tasks",
        "times": 1,
        "delay": delay,
        **extra,
    }


def wait_for_late_commits(api: httpx2.Client) -> None:
    for _ in range(600):
        if ok(api.get("/_emulator/faults"))["lateCommitsPending"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the late commit never ran")


def task_ids(api: httpx2.Client, tasks: str) -> list[str]:
    return [task["taskId"] for task in ok(api.get(tasks)).get("tasks", [])]


def test_the_start_commits_after_the_connection_dropped(api: httpx2.Client, demo: Demo) -> None:
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    upload(api, demo, employees(3))
    tasks = import_tasks(demo)
    ok(api.put("/_emulator/faults", json={"rules": [late_rule(3.0)]}))
    with pytest.raises(httpx2.TransportError):
        api.post(tasks, json=EN_US)
    # The client gave up and lists: nothing yet, so a naive client would start again.
    assert task_ids(api, tasks) == []
    assert ok(api.get("/_emulator/faults"))["lateCommitsPending"] == 1
    wait_for_late_commits(api)
    assert len(task_ids(api, tasks)) == 1
    assert ok(api.get("/_emulator/faults"))["rules"][0]["hits"] == 1


def test_a_retry_with_the_key_before_the_late_commit_wins(api: httpx2.Client, demo: Demo) -> None:
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    upload(api, demo, employees(3))
    tasks = import_tasks(demo)
    ok(api.put("/_emulator/faults", json={"rules": [late_rule(1.0)]}))
    key = {"Idempotency-Key": "nightly-7"}
    with pytest.raises(httpx2.TransportError):
        api.post(tasks, json=EN_US, headers=key)
    retried = start(api, tasks, **key)
    wait_for_late_commits(api)
    assert task_ids(api, tasks) == [retried["taskId"]]


def test_hold_keeps_the_connection_silent_until_the_client_times_out(
    api: httpx2.Client, demo: Demo
) -> None:
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    tasks = import_tasks(demo)
    ok(api.put("/_emulator/faults", json={"rules": [late_rule(1.5, hold=True)]}))
    with pytest.raises(httpx2.ReadTimeout):
        api.post(tasks, json=EN_US, timeout=0.5)
    wait_for_late_commits(api)
    assert len(task_ids(api, tasks)) == 1


def test_a_reset_drops_late_commits_still_waiting(api: httpx2.Client, demo: Demo) -> None:
    tasks = import_tasks(demo)
    ok(api.put("/_emulator/faults", json={"rules": [late_rule(0.5)]}))
    with pytest.raises(httpx2.TransportError):
        api.post(tasks, json=EN_US)
    assert api.post("/_emulator/reset").status_code == 204
    assert ok(api.get("/_emulator/faults"))["lateCommitsPending"] == 0
    api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"  # a reset drops tokens
    time.sleep(1.0)  # past the delay: a late run that survived the reset would have committed
    assert task_ids(api, tasks) == []


@pytest.mark.parametrize(
    "rule",
    [
        {"fault": "late_commit", "delay": -1},
        {"fault": "late_commit", "delay": 61},
        {"fault": "late_commit", "hold": "yes"},
    ],
)
def test_bad_late_commit_rules_are_refused(api: httpx2.Client, rule: dict[str, object]) -> None:
    assert api.put("/_emulator/faults", json={"rules": [rule]}).status_code == 400
