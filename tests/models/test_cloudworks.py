"""CloudWorks wire models read the reference's shapes (invented ids) and tolerate drift."""

from __future__ import annotations

from typing import Any

from anaplan_tasks.models.cloudworks import (
    Connection,
    Integration,
    IntegrationFlow,
    Notification,
    RunErrors,
    RunHistory,
    RunStatus,
)

WS = "8a81b08e6f3c2d1a016f4b7c9e2d0a55"
MODEL = "4D2C8E1F7A9B43C0B5E6F8A1C3D5E7F9"
INTEGRATION = "c1d2e3f4a5b6478c9d0e1f2a3b4c5d6e"
RUN = "9e8d7c6b5a4f43e2d1c0b9a8f7e6d5c4"
CONNECTION = "3f9c2a7d5e1b4c8a9d0e6f1a2b3c4d5e"


def test_a_listed_connection_keeps_its_body_and_its_name() -> None:
    connection = Connection.model_validate(
        {
            "connectionId": CONNECTION,
            "connectionType": "AzureBlob",
            "body": {"name": "landing-zone", "storageAccountName": "acme", "authMethod": "SAS"},
            "creationDate": "2025-04-02T09:12:44.000Z",
            "createdBy": "Dana Planner",
            "modifiedBy": None,
            "status": 1,
            "integrationErrorCode": None,
            "workspaceId": WS,
            "authMethod": "SAS-based",
            "somethingNew": [1, 2],
        }
    )
    assert connection.name == "landing-zone"
    assert connection.connection_type == "AzureBlob"
    assert connection.status == 1
    assert connection.to_wire()["connectionId"] == CONNECTION
    assert "somethingNew" not in connection.to_wire()


def test_an_integration_record_tells_its_kind_without_the_listed_type() -> None:
    record: dict[str, Any] = {
        "integrationId": INTEGRATION,
        "name": "Load regional actuals",
        "version": "2.0",
        "workspaceId": WS,
        "modelId": MODEL,
        "nuxVisible": False,
        "notificationId": "5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0",
        "jobs": [
            {
                "type": "AmazonS3ToAnaplan",
                "sources": [
                    {
                        "type": "AmazonS3",
                        "connectionId": CONNECTION,
                        "file": "actuals/regions.csv",
                        "connectionName": "landing",
                        "isConnectionDeleted": False,
                        "bucketName": "acme-landing",
                    }
                ],
                "targets": [{"type": "Anaplan", "actionId": "112000000007", "fileId": "1130"}],
            }
        ],
    }
    integration = Integration.model_validate(record)
    assert integration.kind == "Import"
    assert integration.jobs is not None
    assert integration.jobs[0].sources[0].bucket_name == "acme-landing"
    assert integration.jobs[0].targets[0].action_id == "112000000007"
    export = Integration.model_validate(
        {**record, "jobs": [{"type": "AnaplanToAzureBlob", "sources": [], "targets": []}]}
    )
    assert export.kind == "Export"
    process = Integration.model_validate(
        {"integrationId": INTEGRATION, "name": "p", "processId": "118000000004"}
    )
    assert process.kind == "Process"
    listed = Integration.model_validate({**record, "integrationType": "Process", "latestRun": {}})
    assert listed.kind == "Process"
    assert listed.latest_run is not None
    assert listed.latest_run.end_date is None


def test_run_history_reads_epoch_seconds_and_iso_last_runs() -> None:
    run = {
        "id": RUN,
        "triggeredBy": "Dana Planner",
        "lastRun": 1748934902,
        "startDate": "2025-06-03T07:15:02.000Z",
        "endDate": "2025-06-03T07:16:40.000Z",
        "success": True,
        "message": "Success",
        "executionErrorCode": None,
        "traceId": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        "triggerSource": "manual_inf",
    }
    history = RunHistory.model_validate(
        {
            "integrationId": INTEGRATION,
            "name": "Load regional actuals",
            "integrationType": "Import",
            "schedule": None,
            "status": 1,
            "runs": [run, {**run, "lastRun": "2025-06-03T07:15:02.000Z", "endDate": None}],
            "totalRuns": 2,
        }
    )
    assert history.total_runs == 2
    assert history.runs[0].last_run == 1748934902
    assert history.runs[0].finished
    assert history.runs[1].last_run == "2025-06-03T07:15:02.000Z"
    assert not history.runs[1].finished


def test_a_run_status_says_running_failed_or_cancelled() -> None:
    base = {"id": RUN, "integrationId": INTEGRATION, "startDate": "2025-06-03T07:15:02.000Z"}
    running = RunStatus.model_validate({**base, "endDate": None, "message": "Running"})
    assert not running.finished
    assert running.describe() == f"run {RUN} running"
    done = {**base, "endDate": "2025-06-03T07:16:40.000Z"}
    failed = RunStatus.model_validate(
        {**done, "success": False, "message": "Process failed", "executionErrorCode": 12}
    )
    assert failed.finished
    assert not failed.cancelled
    assert failed.describe() == f"run {RUN} failed: Process failed (error code 12)"
    cancelled = RunStatus.model_validate({**done, "success": False, "message": "Cancelled"})
    assert cancelled.cancelled


def test_run_errors_name_the_messages_and_the_dumps() -> None:
    errors = RunErrors.model_validate(
        {
            "id": RUN,
            "taskId": "6D1E2F3A4B5C4D6E8F9A0B1C2D3E4F5A",
            "errorMessages": [
                {
                    "errorMessage": [
                        {
                            "localMessageText": "Regions: 8 (8/10) rows successful, 2 failed",
                            "occurrences": 0,
                            "type": "hierarchyRowsProcessedWithFailures",
                            "values": [],
                        }
                    ],
                    "actionId": "112000000007",
                    "actionName": "Import Regions",
                    "failureDumpGenerated": True,
                },
                {"errorMessage": [], "actionId": "112000000008", "failureDumpGenerated": False},
            ],
        }
    )
    assert errors.texts() == ["Import Regions: Regions: 8 (8/10) rows successful, 2 failed"]
    assert errors.dump_actions() == ["112000000007"]


def test_a_notification_reads_expanded_users_and_plain_guids() -> None:
    notification = Notification.model_validate(
        {
            "notificationId": "5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0",
            "integrationIds": [INTEGRATION],
            "channels": ["email", "in_app"],
            "notifications": {
                "config": [
                    {
                        "type": "full_failure",
                        "users": [{"userGuid": "8a81", "firstName": "Dana", "lastName": "P"}],
                    },
                    {"type": "success", "users": ["8a82"]},
                ]
            },
        }
    )
    first, second = notification.notifications.config
    assert not isinstance(first.users[0], str)
    assert first.users[0].first_name == "Dana"
    assert second.users == ["8a82"]


def test_a_flow_is_read_by_id_from_lists_and_by_integration_flow_id_from_creates() -> None:
    listed = IntegrationFlow.model_validate(
        {"id": "f" * 32, "name": "Nightly actuals", "stepsCount": 2, "nuxVisible": False}
    )
    created = IntegrationFlow.model_validate({"integrationFlowId": "e" * 32, "name": "x"})
    assert listed.id == "f" * 32
    assert listed.steps_count == 2
    assert created.id == "e" * 32
    detail = IntegrationFlow.model_validate(
        {
            "id": "f" * 32,
            "name": "Nightly actuals",
            "version": "2.0",
            "steps": [
                {
                    "type": "Import",
                    "referrer": INTEGRATION,
                    "name": "Load regional actuals",
                    "createdDate": "2025-06-03 07:15:02.123456+00:00",
                    "dependsOn": [],
                    "isSkipped": False,
                    "exceptionBehavior": [{"type": "failure", "strategy": "stop"}],
                }
            ],
        }
    )
    assert detail.steps is not None
    assert detail.steps[0].exception_behavior[0].strategy == "stop"
    assert detail.to_wire()["steps"][0]["dependsOn"] == []
