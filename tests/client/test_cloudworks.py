"""`client.cloudworks` against the emulator over loopback: real runs that move real rows.

The emulator's CloudWorks reads an "Amazon S3" bucket from a local directory that the
definition names, runs the model's import, export or process as a real task, and writes an
export's file back there. Scripted edge cases (lost answers, page caps, HTML 404s) are in
tests/_core/test_cloudworks.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from anaplan_tasks.client import AsyncClient, Client, RunProgress
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.errors import (
    ConflictError,
    IntegrationRunFailedError,
    NotFoundError,
    TaskCancelledError,
)
from anaplan_tasks.models.cloudworks import RunStatus

from .conftest import FAST_RETRY, Emulator, employees_csv


@dataclass
class Bucket:
    """The local directory standing in for an S3 bucket, and the connection to it."""

    path: Path
    connection_id: str


@pytest.fixture
def bucket(emulator: Emulator, client: Client, tmp_path: Path) -> Bucket:
    path = tmp_path / "landing"
    path.mkdir()
    emulator.running.control.load_definition(
        f'[[buckets]]\nname = "acme-landing"\npath = "{path.as_posix()}"\ntype = "AmazonS3"\n'
    )
    connection_id = client.cloudworks.connections.create(
        "AmazonS3",
        {
            "name": "landing",
            "accessKeyId": "AKIAEXAMPLE",
            "secretAccessKey": "secret",
            "bucketName": "acme-landing",
            "workspaceId": emulator.workspace_id,
        },
    )
    return Bucket(path, connection_id)


def import_integration(client: Client, bucket: Bucket, name: str = "S3 employees") -> str:
    load = client.imports.get("Load Employees")
    return client.cloudworks.create(
        {
            "name": name,
            "jobs": [
                {
                    "type": "AmazonS3ToAnaplan",
                    "sources": [
                        {
                            "type": "AmazonS3",
                            "connectionId": bucket.connection_id,
                            "file": "in/employees.csv",
                        }
                    ],
                    "targets": [
                        {
                            "type": "Anaplan",
                            "actionId": load.id,
                            "fileId": load.import_data_source_id,
                        }
                    ],
                }
            ],
        }
    )


def write_source(bucket: Bucket, content: bytes) -> None:
    (bucket.path / "in").mkdir(exist_ok=True)
    (bucket.path / "in" / "employees.csv").write_bytes(content)


def test_an_import_run_moves_the_buckets_rows_into_the_model(
    client: Client, bucket: Bucket
) -> None:
    write_source(bucket, employees_csv(1, 250))
    integration_id = import_integration(client, bucket)
    seen: list[RunProgress] = []
    status = client.cloudworks.run("S3 employees", on_progress=seen.append)
    assert status.success
    assert status.integration_id == integration_id
    assert status.finished
    codes = {item.code for item in client.lists.items("Employees")}
    assert {f"E{number:07d}" for number in range(1, 251)} <= codes
    history = client.cloudworks.runs("S3 employees")
    assert [run.id for run in history.runs] == [status.id]
    assert history.runs[0].success
    listed = next(i for i in client.cloudworks.list() if i.integration_id == integration_id)
    assert listed.kind == "Import"
    assert listed.latest_run is not None
    assert listed.latest_run.success
    assert client.cloudworks.run_errors(status.id) is None


def test_a_failed_run_raises_with_its_errors_and_its_dump_names_the_rejected_rows(
    client: Client, bucket: Bucket
) -> None:
    good = employees_csv(1, 20)
    bad = b"E9000001,Nobody,NOWHERE,2020-01-01,true,1,1\nE9000002,Late,EMEA,not-a-date,true,1,1\n"
    write_source(bucket, good + bad)
    import_integration(client, bucket)
    with pytest.raises(IntegrationRunFailedError) as caught:
        client.cloudworks.run("S3 employees")
    failure = caught.value
    assert "S3 employees" in str(failure)
    assert failure.errors is not None
    assert failure.errors.error_messages
    assert failure.dumps is not None
    rows = failure.dumps.rows()
    assert sorted(row.columns["Employee ID"] for row in rows) == ["E9000001", "E9000002"]
    assert all(row.errors for row in rows)
    assert {row.line for row in rows} == {22, 23}
    again = client.cloudworks.dumps(failure.run.id).read()
    assert again.count(b"E900000") == 2
    # The rows that were good landed.
    assert "E0000020" in {item.code for item in client.lists.items("Employees")}


def test_an_export_run_writes_the_models_file_into_the_bucket(
    client: Client, bucket: Bucket
) -> None:
    client.imports.run("Load Employees", source=employees_csv(1, 30))
    client.imports.run("Load Headcount")
    export = client.exports.get("Headcount Export")
    client.cloudworks.create(
        {
            "name": "Headcount to S3",
            "jobs": [
                {
                    "type": "AnaplanToAmazonS3",
                    "sources": [{"type": "Anaplan", "actionId": export.id}],
                    "targets": [
                        {
                            "type": "AmazonS3",
                            "connectionId": bucket.connection_id,
                            "file": "out/headcount.csv",
                            "overwrite": True,
                        }
                    ],
                }
            ],
        }
    )
    assert client.cloudworks.run("Headcount to S3").success
    written = (bucket.path / "out" / "headcount.csv").read_text()
    rows = list(csv.reader(io.StringIO(written)))
    assert len(rows) >= 31
    assert any("E0000030" in row for row in rows)


def test_a_process_integration_runs_the_models_process(client: Client, bucket: Bucket) -> None:
    client.files.upload("employees.csv", employees_csv(1, 40))
    process = client.processes.get("Nightly Load")
    integration_id = client.cloudworks.create({"name": "Nightly", "processId": process.id})
    assert client.cloudworks.get(integration_id).kind == "Process"
    status = client.cloudworks.run(integration_id)
    assert status.success
    assert "E0000040" in {item.code for item in client.lists.items("Employees")}


def test_a_second_run_while_one_runs_is_refused_and_ctrl_c_cancels_the_run(
    emulator: Emulator, client: Client, bucket: Bucket
) -> None:
    emulator.progress("manual")
    write_source(bucket, employees_csv(1, 10))
    import_integration(client, bucket)
    started = client.cloudworks.start("S3 employees")
    with pytest.raises(ConflictError, match="already running"):
        client.cloudworks.start("S3 employees")
    polls: list[RunStatus] = []

    def interrupt(update: RunProgress) -> None:
        polls.append(update.run)
        if len(polls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(TaskCancelledError) as caught:
        client.cloudworks.wait(started, on_progress=interrupt)
    assert caught.value.cancelled_by_us
    final = client.cloudworks.run_status(started)
    assert final.finished
    assert final.cancelled
    with pytest.raises(ConflictError, match="not in running state"):
        client.cloudworks.cancel("S3 employees")


def test_schedules_notifications_and_deletes_round_trip(client: Client, bucket: Bucket) -> None:
    integration_id = import_integration(client, bucket)
    schedule = {
        "name": "Nightly",
        "type": "daily",
        "timezone": "Europe/London",
        "time": "02:00",
        "startDate": "2099-01-01",
    }
    client.cloudworks.schedules.create("S3 employees", schedule)
    scheduled = client.cloudworks.get(integration_id).schedule
    assert scheduled is not None
    assert scheduled.type == "daily"
    client.cloudworks.schedules.update("S3 employees", {**schedule, "time": "03:30"})
    client.cloudworks.schedules.disable("S3 employees")
    scheduled = client.cloudworks.get(integration_id).schedule
    assert scheduled is not None
    assert scheduled.time == "03:30"
    assert scheduled.status == "Inactive"
    client.cloudworks.schedules.delete("S3 employees")
    assert client.cloudworks.get(integration_id).schedule is None

    notification_id = client.cloudworks.get(integration_id).notification_id
    assert notification_id is not None
    me = client.users.me()
    client.cloudworks.notifications.update(
        notification_id,
        {
            "integrationIds": [integration_id],
            "channels": ["email"],
            "notifications": {"config": [{"type": "full_failure", "users": [me.id]}]},
        },
    )
    notification = client.cloudworks.notifications.get(notification_id)
    assert notification.channels == ["email"]
    (config,) = notification.notifications.config
    assert not isinstance(config.users[0], str)
    assert config.users[0].user_guid == me.id

    with pytest.raises(ConflictError, match="referenced"):
        client.cloudworks.connections.delete("landing")
    client.cloudworks.delete("S3 employees")
    with pytest.raises(NotFoundError):
        client.cloudworks.get(integration_id)
    client.cloudworks.connections.delete("landing")
    assert client.cloudworks.connections.list() == []


def test_a_flow_runs_its_integrations_in_order(client: Client, bucket: Bucket) -> None:
    write_source(bucket, employees_csv(1, 15))
    first = import_integration(client, bucket)
    process = client.processes.get("Nightly Load")
    second = client.cloudworks.create({"name": "Nightly", "processId": process.id})
    flow_id = client.cloudworks.flows.create(
        {
            "name": "Load then process",
            "steps": [
                {"type": "Integration", "referrer": first, "dependsOn": [], "isSkipped": False},
                {
                    "type": "Integration",
                    "referrer": second,
                    "dependsOn": [first],
                    "isSkipped": False,
                },
            ],
        }
    )
    flow = client.cloudworks.flows.get("Load then process")
    assert flow.id == flow_id
    assert [step.referrer for step in flow.steps or []] == [first, second]
    status = client.cloudworks.flows.run("Load then process")
    assert status.success
    assert client.cloudworks.runs(first).runs[0].success
    assert client.cloudworks.runs(second).runs[0].success


async def test_the_async_client_runs_and_explains_the_same_way(
    emulator: Emulator, client: Client, bucket: Bucket, async_client: AsyncClient
) -> None:
    write_source(bucket, employees_csv(1, 5) + b"E9000009,Nobody,NOWHERE,2020-01-01,true,1,1\n")
    import_integration(client, bucket)
    with pytest.raises(IntegrationRunFailedError) as caught:
        await async_client.cloudworks.run("S3 employees")
    assert caught.value.dumps is not None
    rows = await caught.value.dumps.rows()
    assert [row.columns["Employee ID"] for row in rows] == ["E9000009"]
    write_source(bucket, employees_csv(100, 5))
    emulator.progress("manual")
    started = await async_client.cloudworks.start("S3 employees")
    waiting = asyncio.ensure_future(async_client.cloudworks.wait(started))
    await asyncio.sleep(0.2)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    final = await async_client.cloudworks.run_status(started)
    assert final.cancelled


def test_a_run_start_whose_answer_is_lost_is_adopted_never_run_twice(
    emulator: Emulator, client: Client, bucket: Bucket
) -> None:
    write_source(bucket, employees_csv(1, 10))
    import_integration(client, bucket)
    emulator.fail(
        FaultRule(fault="reset_after", method="POST", path="*/integrations/*/run", times=1),
        FaultRule(fault="status", method="GET", path="*/integrations/runs/*", status=503, times=1),
    )
    with client.with_options(retry=replace(FAST_RETRY, start_settle=0.1)) as quick:
        status = quick.cloudworks.run("S3 employees")
    assert status.success
    history = client.cloudworks.runs("S3 employees")
    assert [run.id for run in history.runs] == [status.id]
    assert emulator.requests("POST", "/run") == 1


def test_the_cloudworks_root_is_configurable_and_a_wrong_one_says_so(
    emulator: Emulator, client: Client, bucket: Bucket
) -> None:
    integration_id = import_integration(client, bucket)
    other_root = f"{emulator.base_url}/cloudworks/2/0"  # Anaplan's second form, served too
    with client.with_options(cloudworks_base_url=other_root) as aliased:
        assert [i.integration_id for i in aliased.cloudworks.list()] == [integration_id]
    wrong_root = f"{emulator.base_url}/2/0/integrations/x"  # under CloudWorks, but unrouted
    wrong = client.with_options(cloudworks_base_url=wrong_root)
    with wrong, pytest.raises(NotFoundError, match="CloudWorks has no such route"):
        wrong.cloudworks.list()
    with pytest.raises(NotFoundError, match="Resource not found"):
        client.cloudworks.get("0" * 32)


def test_connections_integrations_and_flows_are_changed_in_place(
    emulator: Emulator, client: Client, bucket: Bucket
) -> None:
    client.cloudworks.connections.patch("landing", {"name": "landing-zone"})
    renamed = client.cloudworks.connections.get("landing-zone")
    assert renamed.connection_id == bucket.connection_id
    assert renamed.body["bucketName"] == "acme-landing"
    full = {
        "name": "landing",
        "accessKeyId": "AKIAOTHER",
        "secretAccessKey": "other",
        "bucketName": "acme-landing",
        "workspaceId": emulator.workspace_id,
    }
    client.cloudworks.connections.update("landing-zone", full)
    assert client.cloudworks.connections.get(bucket.connection_id).name == "landing"

    first = import_integration(client, bucket)
    process = client.processes.get("Nightly Load")
    client.cloudworks.update(first, {"name": "Nightly instead", "processId": process.id})
    changed = client.cloudworks.get("Nightly instead")
    assert changed.integration_id == first
    assert changed.kind == "Process"
    assert [i.name for i in client.cloudworks.list(mine=True)] == ["Nightly instead"]

    second = import_integration(client, bucket, name="Second")
    steps = [
        {"type": "Integration", "referrer": first, "dependsOn": []},
        {"type": "Integration", "referrer": second, "dependsOn": [first]},
    ]
    flow_id = client.cloudworks.flows.create({"name": "Pair", "steps": steps})
    client.cloudworks.flows.update("Pair", {"name": "Pair, renamed", "steps": steps})
    assert [f.name for f in client.cloudworks.flows.list()] == ["Pair, renamed"]
    client.cloudworks.flows.delete(flow_id)
    assert client.cloudworks.flows.list() == []


def test_a_failed_flow_names_the_step_that_stopped_it(client: Client, bucket: Bucket) -> None:
    write_source(bucket, employees_csv(1, 5) + b"E9000009,Nobody,NOWHERE,2020-01-01,true,1,1\n")
    first = import_integration(client, bucket)
    second = import_integration(client, bucket, name="Second")
    stop = [
        {"type": "failure", "strategy": "stop"},
        {"type": "partial_success", "strategy": "stop"},
    ]
    client.cloudworks.flows.create(
        {
            "name": "Strict pair",
            "steps": [
                {"type": "Integration", "referrer": first, "exceptionBehavior": stop},
                {"type": "Integration", "referrer": second, "dependsOn": [first]},
            ],
        }
    )
    with pytest.raises(IntegrationRunFailedError) as caught:
        client.cloudworks.flows.run("Strict pair")
    failure = caught.value
    assert str(failure).startswith("integration flow 'Strict pair'")
    assert failure.errors is not None
    assert [action.action_name for action in failure.errors.error_messages] == ["S3 employees"]
    assert client.cloudworks.runs(second).runs == []
