"""Tasks and failure dumps (§6, §7): start, list, poll, cancel, dumps, in both path forms."""

from __future__ import annotations

import csv
import gzip
import io
import re
import time
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.demo import bad_rows_of, generate_employees_csv
from anaplan_tasks.models import CancelledTask, CompletedTask, Task, parse_task, parse_task_list

from .conftest import Demo, assert_error, ok

TASK_ID = re.compile(r"^[0-9A-F]{32}$")
EN_US = {"localeName": "en_US"}


def employees(rows: int, bad_rows: int = 0) -> bytes:
    return b"".join(generate_employees_csv(rows, bad_rows, seed=3))


def upload(api: httpx2.Client, demo: Demo, content: bytes, chunks: int = 2) -> None:
    """Upload employees.csv in gzip chunks cut at arbitrary bytes."""
    path = f"{demo.base}/files/{demo.file_id}"
    ok(api.post(path, json={"chunkCount": chunks}))
    size = -(-len(content) // chunks)
    for index in range(chunks):
        piece = gzip.compress(content[index * size : (index + 1) * size])
        response = api.put(
            f"{path}/chunks/{index}", content=piece, headers={"Content-Type": "application/x-gzip"}
        )
        assert response.status_code == 204, response.text


def start(api: httpx2.Client, tasks_path: str, **headers: str) -> dict[str, Any]:
    body = ok(api.post(tasks_path, json=EN_US, headers=headers))
    assert body["meta"]["schema"].endswith("/objects/task")
    task: dict[str, Any] = body["task"]
    assert TASK_ID.match(task["taskId"])
    assert task["taskState"] in ("NOT_STARTED", "IN_PROGRESS", "COMPLETE")
    assert isinstance(task["creationTime"], int)
    return task


def finish(api: httpx2.Client, task_path: str, **params: str) -> CompletedTask:
    """Poll until the task is terminal (each poll may block briefly in `polls` mode).

    Bounded by a generous deadline, not a poll count: a busy machine makes big imports slow.
    """
    give_up = time.monotonic() + 120.0
    while time.monotonic() < give_up:
        body = ok(api.get(task_path, params=params))
        task = parse_task(body)
        if task.task_state in ("COMPLETE", "CANCELLED"):
            assert isinstance(task, CompletedTask), body
            return task
        time.sleep(0.005)
    raise AssertionError(f"{task_path} did not finish")


@pytest.fixture
def polled(api: httpx2.Client) -> None:
    """Tasks finish at their first status read after they started: no waiting on wall time."""
    ok(api.put("/_emulator/progression", json={"mode": "polls", "polls": 1}))


def import_tasks(demo: Demo, name: str = "Load Employees", base: str | None = None) -> str:
    return f"{base or demo.base}/imports/{demo.imports[name]}/tasks"


def headcount_export(api: httpx2.Client, demo: Demo) -> bytes:
    tasks = f"{demo.base}/exports/{demo.exports['Headcount Export']}/tasks"
    task = start(api, tasks)
    assert finish(api, f"{tasks}/{task['taskId']}").result.successful
    response = api.get(f"{demo.base}/files/{demo.exports['Headcount Export']}")
    assert response.status_code == 200
    return response.content


# -- starting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/json"),
        (b"{}", "application/json"),
        (b'{"localeName": ""}', "application/json"),
        (b'{"localeName": 5}', "application/json"),
        (b'{"localeName": "en_US"', "application/json"),
        (b'["en_US"]', "application/json"),
        (b"localeName=en_US", "application/x-www-form-urlencoded"),
        (b'{"localeName": "en_US", "mappingParameters": {"entityType": "Version"}}', None),
        (b'{"localeName": "en_US", "mappingParameters": [{"entityName": "Actual"}]}', None),
        (b'{"localeName": "en_US", "mappingParameters": ["Version"]}', None),
        (
            b'{"localeName": "en_US", "mappingParameters": [{"entityType": "V", "entityName": 1}]}',
            None,
        ),
    ],
)
def test_a_bad_start_is_a_400_and_starts_nothing(
    api: httpx2.Client, demo: Demo, body: bytes, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    tasks = import_tasks(demo)
    assert_error(api.post(tasks, content=body, headers=headers), 400)
    listing = ok(api.get(tasks))
    assert "tasks" not in listing
    assert listing["meta"]["paging"]["totalSize"] == 0


def test_missing_locale_says_so(api: httpx2.Client, demo: Demo) -> None:
    body = assert_error(api.post(import_tasks(demo), json={"mappingParameters": []}), 400)
    assert "localeName" in body["status"]["message"]


def test_starting_unknown_actions_is_a_404(api: httpx2.Client, demo: Demo) -> None:
    for kind, unknown in (
        ("imports", "112999999999"),
        ("exports", "116999999999"),
        ("actions", "117999999999"),
        ("processes", "118999999999"),
        ("imports", "not-an-id"),
    ):
        assert_error(api.post(f"{demo.base}/{kind}/{unknown}/tasks", json=EN_US), 404)
    assert_error(api.post(f"/2/0/models/{'0' * 32}/imports/112000000000/tasks", json=EN_US), 404)


def test_import_runs_to_complete(api: httpx2.Client, demo: Demo, polled: None) -> None:
    upload(api, demo, employees(10))
    tasks = import_tasks(demo)
    task = start(api, tasks)
    done = finish(api, f"{tasks}/{task['taskId']}")
    assert done.id == task["taskId"]
    assert done.current_step == "Complete."
    assert done.progress == 1.0
    result = done.result
    assert result.successful is True
    assert result.failure_dump_available is False
    assert result.object_id == demo.imports["Load Employees"]
    summary = next(d for d in result.details if d.type.startswith("hierarchyRowsProcessed"))
    values = summary.value_map
    assert values["hierarchyName"] == "Employees"
    assert values["successRowCount"] == 10
    assert values["totalRowCount"] == 10
    assert values["failedCount"] == 0
    assert len(summary.values) % 2 == 0
    assert_error(api.get(f"{tasks}/{task['taskId']}/dump"), 404)


def run_import(api: httpx2.Client, demo: Demo, name: str) -> CompletedTask:
    tasks = import_tasks(demo, name)
    return finish(api, f"{tasks}/{start(api, tasks)['taskId']}")


def dump_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def test_list_import_with_bad_rows_counts_and_dumps_exactly_those_rows(
    api: httpx2.Client, demo: Demo, polled: None
) -> None:
    content = employees(20, bad_rows=4)
    upload(api, demo, content, chunks=3)
    tasks = import_tasks(demo)
    task = start(api, tasks)
    result = finish(api, f"{tasks}/{task['taskId']}").result
    assert result.failure_dump_available is True
    summary = next(d for d in result.details if d.type.startswith("hierarchyRowsProcessed"))
    assert summary.type == "hierarchyRowsProcessedWithFailures"
    # Rows 4, 8 and 16 break the list import (unknown region, bad date, repeated id);
    # row 12's malformed salary is not mapped into the list.
    expected_lines = {
        number + 1 for number, kind in bad_rows_of(20, 4).items() if kind != "malformed number"
    }
    assert summary.value_map["failedCount"] == len(expected_lines) == 3
    assert summary.value_map["successRowCount"] == 20 - 3
    task_path = f"{tasks}/{task['taskId']}"
    whole = api.get(f"{task_path}/dump")
    assert whole.status_code == 200
    rows = dump_rows(whole.content)
    header = rows[0]
    assert header[0] == "_Status_"
    assert header[-2:] == ["_Line_", "_Error_1_"]
    source_lines = content.decode().splitlines()
    assert header[1:-2] == next(csv.reader([source_lines[0]]))
    assert {int(row[-2]) for row in rows[1:]} == expected_lines
    for row in rows[1:]:
        assert row[0] == "E"
        assert row[1:-2] == next(csv.reader([source_lines[int(row[-2]) - 1]]))
        assert row[-1]
    chunks = ok(api.get(f"{task_path}/dump/chunks"))
    assert chunks["meta"]["schema"].endswith("/objects/chunk")
    assert [c["id"] for c in chunks["chunks"]] == [str(i) for i in range(len(chunks["chunks"]))]
    joined = b"".join(
        api.get(f"{task_path}/dump/chunks/{c['id']}").content for c in chunks["chunks"]
    )
    assert joined == whole.content
    assert_error(api.get(f"{task_path}/dump/chunks/{len(chunks['chunks'])}"), 404)


def test_module_import_with_bad_rows_dumps_exactly_those_rows(
    api: httpx2.Client, demo: Demo, polled: None
) -> None:
    upload(api, demo, employees(40))
    assert run_import(api, demo, "Load Employees").result.successful
    upload(api, demo, employees(40, bad_rows=4))
    tasks = import_tasks(demo, "Load Headcount")
    task = start(api, tasks)
    result = finish(api, f"{tasks}/{task['taskId']}").result
    assert result.failure_dump_available is True
    assert any(d.type.startswith("lineItemRowsProcessed") for d in result.details)
    assert result.failure_details()
    # A malformed date or salary breaks a module row; a region or a repeated id does not.
    expected_lines = {
        number + 1
        for number, kind in bad_rows_of(40, 4).items()
        if kind in ("malformed date", "malformed number")
    }
    rows = dump_rows(api.get(f"{tasks}/{task['taskId']}/dump").content)
    assert {int(row[-2]) for row in rows[1:]} == expected_lines


def test_task_lists(api: httpx2.Client, demo: Demo, polled: None) -> None:
    upload(api, demo, employees(3))
    tasks = import_tasks(demo)
    empty = ok(api.get(tasks))
    assert "tasks" not in empty
    assert empty["meta"]["paging"] == {"currentPageSize": 0, "offset": 0, "totalSize": 0}
    first = start(api, tasks)
    finish(api, f"{tasks}/{first['taskId']}")
    second = start(api, tasks)
    finish(api, f"{tasks}/{second['taskId']}")
    body = ok(api.get(tasks))
    assert body["meta"]["schema"].endswith("/objects/task")
    listed = parse_task_list(body)
    assert [t.id for t in listed] == [first["taskId"], second["taskId"]]
    assert [t.task_state for t in listed] == ["COMPLETE", "COMPLETE"]
    assert listed[0].creation_time <= listed[1].creation_time
    page = ok(api.get(tasks, params={"limit": 1, "offset": 1}))
    assert [t["taskId"] for t in page["tasks"]] == [second["taskId"]]
    assert page["meta"]["paging"]["totalSize"] == 2
    # An unknown action in a reachable model lists nothing, like Anaplan.
    unknown = ok(api.get(f"{demo.base}/imports/112999999999/tasks"))
    assert "tasks" not in unknown


def test_unknown_task_ids_are_404s(api: httpx2.Client, demo: Demo) -> None:
    tasks = import_tasks(demo)
    missing = "0123456789ABCDEF0123456789ABCDEF"
    assert_error(api.get(f"{tasks}/{missing}"), 404)
    assert_error(api.delete(f"{tasks}/{missing}"), 404)
    assert_error(api.get(f"{tasks}/{missing}/dump"), 404)
    assert_error(api.get(f"{tasks}/{missing}/dump/chunks"), 404)
    process = demo.processes["Nightly Load"]
    import_id = demo.imports["Load Employees"]
    assert_error(api.get(f"{demo.base}/processes/{process}/tasks/{missing}/dumps/{import_id}"), 404)


def test_tasks_in_the_workspace_less_form_with_trailing_slashes(
    api: httpx2.Client, demo: Demo, polled: None
) -> None:
    upload(api, demo, employees(5))
    tasks = import_tasks(demo, base=demo.model_base)
    task = start(api, tasks + "/")
    done = finish(api, f"{tasks}/{task['taskId']}/")
    assert done.result.successful
    assert ok(api.get(f"{import_tasks(demo)}/"))["tasks"][0]["taskId"] == task["taskId"]


def test_mapping_parameters_are_accepted_but_one_no_import_asks_for_fails_the_task(
    api: httpx2.Client, demo: Demo, polled: None
) -> None:
    upload(api, demo, employees(2))
    tasks = import_tasks(demo)
    body = {
        "localeName": "en_US",
        "mappingParameters": [{"entityType": "Version", "entityName": "Actual"}],
    }
    task = ok(api.post(tasks, json=body))["task"]  # the body is well formed: started
    result = finish(api, f"{tasks}/{task['taskId']}").result
    assert not result.successful
    assert "Mapping parameter 'Version' is not asked for" in result.details[0].text


def test_an_idempotency_key_starts_one_task(api: httpx2.Client, demo: Demo) -> None:
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    tasks = import_tasks(demo)
    first = start(api, tasks, **{"Idempotency-Key": "nightly-2026-11-28"})
    again = start(api, tasks, **{"Idempotency-Key": "nightly-2026-11-28"})
    other = start(api, tasks, **{"Idempotency-Key": "nightly-2026-11-29"})
    assert again["taskId"] == first["taskId"]
    assert other["taskId"] != first["taskId"]
    assert len(ok(api.get(tasks))["tasks"]) == 2
    too_long = {"Idempotency-Key": "k" * 256}
    assert_error(api.post(tasks, json=EN_US, headers=too_long), 400)


def test_a_start_whose_answer_was_lost_is_retried_safely_with_its_key(
    api: httpx2.Client, demo: Demo, polled: None
) -> None:
    upload(api, demo, employees(3))
    tasks = import_tasks(demo)
    rule = {"fault": "reset_after", "method": "POST", "path": "*/tasks", "times": 1}
    ok(api.put("/_emulator/faults", json={"rules": [rule]}))
    key = {"Idempotency-Key": "run-42"}
    with pytest.raises(httpx2.TransportError):  # the task was created, the answer lost
        api.post(tasks, json=EN_US, headers=key)
    retried = start(api, tasks, **key)
    listed = ok(api.get(tasks))["tasks"]
    assert [task["taskId"] for task in listed] == [retried["taskId"]]
    assert finish(api, f"{tasks}/{retried['taskId']}").result.successful


def test_one_task_at_a_time_per_model_in_order(api: httpx2.Client, demo: Demo) -> None:
    upload(api, demo, employees(5))
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    tasks = import_tasks(demo)
    first = start(api, tasks)
    export_tasks = f"{demo.base}/exports/{demo.exports['Headcount Export']}/tasks"
    second = start(api, export_tasks)
    for task in (first, second):
        assert task["taskState"] == "NOT_STARTED"
    status = parse_task(ok(api.get(f"{tasks}/{first['taskId']}")))
    assert isinstance(status, Task)
    assert (status.task_state, status.progress, status.current_step) == ("NOT_STARTED", 0.0, None)
    # Hold the first task once it runs; the second must wait for it.
    ok(api.put("/_emulator/progression", json={"mode": "polls", "polls": 1000}))
    assert api.post("/_emulator/advance", json={}).status_code == 204
    for _ in range(5000):
        if parse_task(ok(api.get(f"{tasks}/{first['taskId']}"))).task_state == "IN_PROGRESS":
            break
    running = parse_task(ok(api.get(f"{tasks}/{first['taskId']}")))
    assert running.task_state == "IN_PROGRESS"
    assert 0.0 <= running.progress < 1.0
    second_path = f"{export_tasks}/{second['taskId']}"
    for _ in range(3):
        assert parse_task(ok(api.get(second_path))).task_state == "NOT_STARTED"
    ok(api.put("/_emulator/progression", json={"mode": "polls", "polls": 1}))
    assert finish(api, f"{tasks}/{first['taskId']}").result.successful
    assert finish(api, second_path).result.successful


def test_polls_progression_and_poll_counts(api: httpx2.Client, demo: Demo) -> None:
    upload(api, demo, employees(5))
    ok(api.put("/_emulator/progression", json={"mode": "polls", "polls": 3}))
    tasks = import_tasks(demo)
    task = start(api, tasks)
    done = finish(api, f"{tasks}/{task['taskId']}")
    assert done.result.successful
    polls = ok(api.get("/_emulator/polls"))["polls"]
    assert polls[task["taskId"]] >= 3


def test_task_times_tell_when_each_task_queued_ran_and_ended(
    api: httpx2.Client, demo: Demo
) -> None:
    upload(api, demo, employees(5))
    ok(api.put("/_emulator/progression", json={"mode": "fixed", "seconds": 0.3}))
    tasks = import_tasks(demo)
    first, second = start(api, tasks), start(api, tasks)
    assert finish(api, f"{tasks}/{second['taskId']}").result.successful
    times = {row["taskId"]: row for row in ok(api.get("/_emulator/tasks"))["tasks"]}
    ran, queued = times[first["taskId"]], times[second["taskId"]]
    assert ran["taskState"] == queued["taskState"] == "COMPLETE"
    assert ran["modelId"] == demo.model_id
    assert ran["createdMs"] <= ran["startedMs"] < ran["finishedMs"]
    # One task at a time per model: the second waited for the first to end.
    assert queued["createdMs"] < ran["finishedMs"] <= queued["startedMs"] < queued["finishedMs"]
    for row in (ran, queued):
        assert row["finishedMs"] - row["startedMs"] >= 300


def test_cancel_a_queued_task_changes_nothing(api: httpx2.Client, demo: Demo) -> None:
    before = headcount_export(api, demo)
    upload(api, demo, employees(30))
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    tasks = import_tasks(demo, "Load Headcount")
    task = start(api, tasks)
    cancelled = ok(api.delete(f"{tasks}/{task['taskId']}"))
    assert cancelled["meta"]["schema"].endswith("/objects/task")
    status = parse_task(cancelled)
    assert isinstance(status, CancelledTask)
    assert status.task_state in ("CANCELLING", "CANCELLED")
    api.post("/_emulator/advance", json={})
    ok(api.put("/_emulator/progression", json={"mode": "real"}))
    for _ in range(5000):
        status = parse_task(ok(api.get(f"{tasks}/{task['taskId']}")))
        if status.task_state == "CANCELLED":
            break
    assert status.task_state == "CANCELLED"
    assert [t.task_state for t in parse_task_list(ok(api.get(tasks)))] == ["CANCELLED"]
    assert headcount_export(api, demo) == before


def test_cancel_a_running_task_rolls_it_back(api: httpx2.Client, demo: Demo) -> None:
    before = headcount_export(api, demo)
    upload(api, demo, employees(50))
    ok(api.put("/_emulator/progression", json={"mode": "polls", "polls": 1000}))
    tasks = import_tasks(demo, "Load Headcount")
    task = start(api, tasks)
    for _ in range(5000):  # held at the gate: all rows written, nothing committed
        if parse_task(ok(api.get(f"{tasks}/{task['taskId']}"))).task_state == "IN_PROGRESS":
            break
    status = parse_task(ok(api.delete(f"{tasks}/{task['taskId']}")))
    assert status.task_state in ("CANCELLING", "CANCELLED")
    ok(api.put("/_emulator/progression", json={"mode": "real"}))
    for _ in range(5000):
        status = parse_task(ok(api.get(f"{tasks}/{task['taskId']}")))
        if status.task_state == "CANCELLED":
            break
    assert isinstance(status, CancelledTask)
    assert status.task_state == "CANCELLED"
    assert status.cancelled_by == "demo@example.com"
    assert headcount_export(api, demo) == before


def test_cancelling_a_finished_task_changes_nothing(
    api: httpx2.Client, demo: Demo, polled: None
) -> None:
    upload(api, demo, employees(2))
    tasks = import_tasks(demo)
    task = start(api, tasks)
    done = finish(api, f"{tasks}/{task['taskId']}")
    after = parse_task(ok(api.delete(f"{tasks}/{task['taskId']}")))
    assert after == done


def test_export_writes_its_file(api: httpx2.Client, demo: Demo, polled: None) -> None:
    upload(api, demo, employees(8))
    assert run_import(api, demo, "Load Employees").result.successful
    assert run_import(api, demo, "Load Headcount").result.successful
    export_id = demo.exports["Headcount Export"]
    tasks = f"{demo.base}/exports/{export_id}/tasks"
    result = finish(api, f"{tasks}/{start(api, tasks)['taskId']}").result
    assert result.successful
    assert result.failure_dump_available is False
    assert result.object_id == export_id
    whole = api.get(f"{demo.base}/files/{export_id}")
    assert whole.status_code == 200
    lines = whole.content.decode().splitlines()
    assert len(lines) >= 9
    chunks = ok(api.get(f"{demo.base}/files/{export_id}/chunks"))["chunks"]
    joined = b"".join(
        api.get(f"{demo.base}/files/{export_id}/chunks/{c['id']}").content for c in chunks
    )
    assert joined == whole.content
    listed = next(f for f in ok(api.get(f"{demo.base}/files"))["files"] if f["id"] == export_id)
    assert listed["chunkCount"] == len(chunks)


def test_delete_action_task(api: httpx2.Client, demo: Demo, polled: None) -> None:
    upload(api, demo, employees(20))
    load = import_tasks(demo)
    finish(api, f"{load}/{start(api, load)['taskId']}")
    action_id = demo.actions["Remove Inactive Employees"]
    tasks = f"{demo.base}/actions/{action_id}/tasks"
    result = finish(api, f"{tasks}/{start(api, tasks)['taskId']}").result
    assert result.successful
    assert result.object_id == action_id
    assert result.failure_dump_available is False


def test_process_with_details_and_nested_dumps(
    api: httpx2.Client, demo: Demo, polled: None
) -> None:
    upload(api, demo, employees(40, bad_rows=4))
    process_id = demo.processes["Nightly Load"]
    tasks = f"{demo.base}/processes/{process_id}/tasks"
    task = start(api, tasks)
    task_path = f"{tasks}/{task['taskId']}"
    done = finish(api, task_path, includeProcessDetails="true")
    result = done.result
    assert result.object_id == process_id
    assert [nested.object_id for nested in result.nested_results] == [
        demo.imports["Load Employees"],
        demo.imports["Load Headcount"],
        demo.actions["Remove Inactive Employees"],
        demo.exports["Headcount Export"],
    ]
    for part in (result, *result.nested_results):
        assert part.duration_ms is not None
        assert part.duration_ms >= 0
        assert part.start_time_ms is not None
        assert part.start_time_ms > 0
    plain = parse_task(ok(api.get(task_path)))
    assert isinstance(plain, CompletedTask)
    assert plain.result.duration_ms is None
    assert result.failure_dump_available is True
    with_dumps = [n for n in result.nested_results if n.failure_dump_available]
    assert with_dumps
    for nested in with_dumps:
        dump_path = f"{task_path}/dumps/{nested.object_id}"
        whole = api.get(dump_path)
        assert whole.status_code == 200
        assert whole.content.startswith(b'"_Status_"')
        chunks = ok(api.get(f"{dump_path}/chunks"))["chunks"]
        joined = b"".join(api.get(f"{dump_path}/chunks/{c['id']}").content for c in chunks)
        assert joined == whole.content
    clean = demo.actions["Remove Inactive Employees"]
    assert_error(api.get(f"{task_path}/dumps/{clean}"), 404)
