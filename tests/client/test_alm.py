"""`client.alm` against the emulator over loopback: the whole flow and its failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from anaplan_tasks.client import AsyncClient, Client, ProgressUpdate
from anaplan_tasks.emulator.demo import PROD_MODEL, VIEWER_PASSWORD, VIEWER_USER
from anaplan_tasks.errors import (
    AlmTaskFailedError,
    BadRequestError,
    ModelUnavailableError,
    PermissionDeniedError,
    TaskTimeoutError,
)
from anaplan_tasks.models import (
    CompletedReportTask,
    CompletedSyncTask,
    FailedReportTask,
    FailedSyncTask,
    PendingTask,
    ReportTaskError,
    ReportTaskFailureResult,
    ReportTaskResult,
    Revision,
    SummaryReport,
)
from anaplan_tasks.models.parsing import parse_report_task, parse_sync_task, parse_task_with_url

from .conftest import Emulator, employees_csv


def _edit(emulator: Emulator, model_id: str, *edits: dict[str, Any]) -> None:
    answer = httpx2.post(
        f"{emulator.base_url}/_emulator/models/{model_id}/structure", json=list(edits), timeout=30
    )
    assert answer.status_code == 200, answer.text


def _structure(emulator: Emulator, model_id: str) -> dict[str, Any]:
    answer = httpx2.get(f"{emulator.base_url}/_emulator/models/{model_id}/structure", timeout=30)
    assert answer.status_code == 200, answer.text
    structure: dict[str, Any] = answer.json()
    return structure


def _prod_id(client: Client) -> str:
    return next(m.id for m in client.models.list() if m.name == PROD_MODEL)


CHANGES = (
    {"op": "addList", "list": {"name": "Channels"}},
    {"op": "addLineItem", "module": "Headcount", "lineItem": {"name": "Bonus"}},
)


def test_revision_compare_summarize_sync(
    emulator: Emulator, client: Client, tmp_path: Path
) -> None:
    dev, prod = emulator.model_id, _prod_id(client)
    with client.with_model(prod) as prod_client:
        _flow(emulator, client, prod_client, dev, prod, tmp_path)


def _flow(
    emulator: Emulator, client: Client, prod_client: Client, dev: str, prod: str, tmp_path: Path
) -> None:
    prod_client.files.upload("employees.csv", employees_csv(1, 20))
    prod_client.imports.run("Load Employees")
    baseline = client.alm.latest_revision(prod)
    assert baseline is not None
    assert baseline == client.alm.latest_revision()

    _edit(emulator, dev, *CHANGES)
    release = client.alm.create_revision("Release 1", "Channels and bonus")
    assert release.creation_method == "User added revision via API"
    assert [r.id for r in client.alm.revisions()] == [baseline.id, release.id]
    assert [r.id for r in client.alm.syncable_revisions(dev, model_id=prod)] == [release.id]

    compared = client.alm.compare(dev, model_id=prod, dest=tmp_path / "release-1.tsv")
    assert isinstance(compared.task, CompletedReportTask)
    assert compared.path == tmp_path / "release-1.tsv"
    assert compared.path.read_bytes() == compared.content
    assert compared.report.titles == ["LISTS ADDED", "LINE ITEMS ADDED"]
    assert compared.report.rows("LINE ITEMS ADDED")[0]["Line Item"] == "Bonus"
    again = client.alm.comparison_report(baseline.id, release.id, model_id=prod)
    assert again == compared.content

    summary = client.alm.summarize(dev, model_id=prod).summary
    assert summary.totals.to_wire() == {"created": 3}  # with the list dev ships untagged
    assert set(summary.differences) == {"lists", "lineItems"}
    assert client.alm.summary_report(baseline.id, release.id, model_id=prod) == summary

    prod_client.alm.set_offline()
    with pytest.raises(ModelUnavailableError):
        prod_client.imports.start("Load Employees")
    synced = prod_client.alm.sync(dev)
    prod_client.alm.set_online()
    assert isinstance(synced, CompletedSyncTask)
    assert (synced.result.source_revision_id, synced.result.target_revision_id) == (
        release.id,
        baseline.id,
    )
    assert [m["name"] for m in _structure(emulator, prod)["lists"]][-1] == "Channels"
    latest = client.alm.latest_revision(prod)
    assert latest is not None
    assert latest.id == release.id
    applied = client.alm.applied_to_models(release.id)
    assert [a.applied_method for a in applied] == [
        "User added revision via API",
        "Revision synchronized",
    ]
    assert [t.id for t in prod_client.alm.list_tasks("syncTasks")] == [synced.id]
    assert client.alm.syncable_revisions(dev, model_id=prod) == []
    assert prod_client.exports.run("Headcount Export", tmp_path / "headcount.csv").result.successful


async def test_the_async_namespace_does_the_same(
    emulator: Emulator, async_client: AsyncClient
) -> None:
    dev = emulator.model_id
    models = await async_client.models.list()
    prod = next(m.id for m in models if m.name == PROD_MODEL)
    _edit(emulator, dev, *CHANGES)
    release = await async_client.alm.create_revision("Release 1")
    compared = await async_client.alm.compare(dev, model_id=prod)
    assert compared.report.titles == ["LISTS ADDED", "LINE ITEMS ADDED"]
    assert (await async_client.alm.summarize(dev, model_id=prod)).summary.totals.created == 3
    synced = await async_client.alm.sync(dev, model_id=prod)
    assert synced.result.source_revision_id == release.id
    latest = await async_client.alm.latest_revision(prod)
    assert latest is not None
    assert latest.id == release.id


def test_an_incompatible_sync_raises_anaplans_error(emulator: Emulator, client: Client) -> None:
    dev, prod = emulator.model_id, _prod_id(client)
    _edit(emulator, prod, {"op": "addList", "list": {"name": "Local"}})
    hotfix = client.alm.create_revision("Hotfix", model_id=prod)
    _edit(emulator, dev, *CHANGES)
    release = client.alm.create_revision("Release 1")
    with pytest.raises(AlmTaskFailedError) as caught:
        client.alm.sync(
            dev, source_revision_id=release.id, target_revision_id=hotfix.id, model_id=prod
        )
    error = caught.value
    assert error.title == "The target and source revisions are incompatible"
    assert error.message_text == "Please choose a target and source revision that's compatible."
    assert error.task.current_step == "Failed."
    assert "incompatible" in str(error)


def test_waiting_polls_and_reports_progress(emulator: Emulator, client: Client) -> None:
    dev, prod = emulator.model_id, _prod_id(client)
    emulator.progress("polls", polls=3)
    _edit(emulator, dev, *CHANGES)
    client.alm.create_revision("Release 1")
    seen: list[ProgressUpdate] = []
    synced = client.alm.sync(dev, model_id=prod, on_progress=seen.append)
    assert synced.result.successful
    assert [type(update.task) for update in seen] == [PendingTask, PendingTask]
    assert all(update.current_step == "Processing ..." for update in seen)


def test_a_deadline_stops_the_wait_but_not_the_task(emulator: Emulator) -> None:
    emulator.progress("polls", polls=1000)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = emulator.client_settings()
    with Client(**settings, clock=lambda: now[0], sleep=sleep) as client:  # type: ignore[arg-type]
        dev, prod = emulator.model_id, _prod_id(client)
        _edit(emulator, dev, *CHANGES)
        client.alm.create_revision("Release 1")
        with pytest.raises(TaskTimeoutError) as caught:
            client.alm.sync(dev, model_id=prod, timeout=30)
        assert "cannot be cancelled" in str(caught.value)
        assert isinstance(caught.value.task, PendingTask)
        assert now[0] >= 30


def test_ctrl_c_leaves_the_alm_task_running_and_says_so(emulator: Emulator) -> None:
    emulator.progress("polls", polls=1000)

    def sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    with Client(**emulator.client_settings(), sleep=sleep) as client:  # type: ignore[arg-type]
        dev, prod = emulator.model_id, _prod_id(client)
        _edit(emulator, dev, *CHANGES)
        client.alm.create_revision("Release 1")
        with pytest.raises(KeyboardInterrupt) as caught:
            client.alm.sync(dev, model_id=prod)
        assert any("cannot be cancelled" in note for note in caught.value.__notes__)
        (listed,) = client.alm.list_tasks("syncTasks", model_id=prod)
        assert listed.task_state == "IN_PROGRESS"


def test_non_admins_are_refused(emulator: Emulator) -> None:
    settings = {**emulator.client_settings(), "email": VIEWER_USER, "password": VIEWER_PASSWORD}
    with Client(**settings) as viewer:  # type: ignore[arg-type]
        prod = _prod_id(viewer)
        with pytest.raises(PermissionDeniedError):
            viewer.alm.sync(emulator.model_id, model_id=prod)
        with pytest.raises(PermissionDeniedError):
            viewer.alm.set_offline(prod)
        with pytest.raises(ModelUnavailableError) as caught:
            viewer.alm.start("comparisonReportTasks", emulator.model_id, "A", "B", model_id=prod)
        assert caught.value.status_code == 424


def test_revision_rules_come_back_as_bad_requests(client: Client) -> None:
    client.alm.create_revision("Scenarios")  # the demo dev model's untagged list
    with pytest.raises(BadRequestError, match="no structural change"):
        client.alm.create_revision("Nothing changed")
    with pytest.raises(BadRequestError, match="60 characters or fewer"):
        client.alm.create_revision("n" * 61)


def test_the_sync_and_async_namespaces_offer_the_same_methods() -> None:
    import inspect

    from anaplan_tasks.client import Alm, AsyncAlm

    def surface(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_")
        }

    sync, both = surface(Alm), surface(AsyncAlm)
    assert sync.keys() == both.keys()
    for name, signature in sync.items():
        assert list(signature.parameters) == list(both[name].parameters), name
        assert inspect.iscoroutinefunction(getattr(AsyncAlm, name)), name


# Every ALM payload of the API reference (§9), verbatim, and what the models make of it.
_REVISIONS = {
    "meta": {
        "paging": {"currentPageSize": 2, "offset": 0, "totalSize": 2},
        "schema": "https://api.anaplan.com/2/0/objects/revision",
    },
    "status": {"code": 200, "message": "Success"},
    "revisions": [
        {
            "id": "A1B2C3D4E5F60718293A4B5C6D7E8F90",
            "name": "Sprint 12",
            "description": "New pricing module",
            "createdOn": "2025-11-03T09:12:44Z",
            "createdBy": "8a81b09e5d6f7a8b015d6f8c9e0a1b2c",
            "creationMethod": "User added revision",
            "appliedOn": "2025-11-03T09:12:44Z",
            "appliedBy": "8a81b09e5d6f7a8b015d6f8c9e0a1b2c",
        },
        {
            "id": "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
            "name": "Baseline",
            "createdOn": "2025-10-01T14:00:00Z",
            "createdBy": "8a81b09e5d6f7a8b015d6f8c9e0a1b2c",
            "creationMethod": "Model copied",
        },
    ],
}
_CREATED_REVISION = {
    "id": "5E4D3C2B1A0F49E8D7C6B5A4F3E2D1C0",
    "name": "Release 2026.01",
    "description": "Quarterly release",
    "createdOn": "2026-01-05T08:30:00Z",
    "createdBy": "8a81b09e5d6f7a8b015d6f8c9e0a1b2c",
    "creationMethod": "User added revision via API",
    "appliedOn": "2026-01-05T08:30:00Z",
    "appliedBy": "8a81b09e5d6f7a8b015d6f8c9e0a1b2c",
}
_TASK_WITH_URL = {
    "meta": {"schema": "https://api.anaplan.com/2/0/objects/taskWithUrl"},
    "status": {"code": 201, "message": "Created"},
    "task": {
        "taskId": "6D5C4B3A29184F7E8D9C0B1A2F3E4D5C",
        "taskUrl": "https://api.anaplan.com/2/0/models/4D2C8E1F7A9B43C0B5E6F8A1C3D5E7F9/alm/"
        "syncTasks/6D5C4B3A29184F7E8D9C0B1A2F3E4D5C",
        "taskState": "IN_PROGRESS",
        "creationTime": 1767190000000,
    },
}
_SYNC_DONE = {
    "meta": {"schema": "https://api.anaplan.com/2/0/objects/task"},
    "status": {"code": 200, "message": "Success"},
    "task": {
        "taskId": "6D5C4B3A29184F7E8D9C0B1A2F3E4D5C",
        "currentStep": "Complete.",
        "result": {
            "successful": True,
            "sourceRevisionId": "A1B2C3D4E5F60718293A4B5C6D7E8F90",
            "targetRevisionId": "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        },
        "taskState": "COMPLETE",
        "creationTime": 1767190000000,
    },
}
_SYNC_FAILED = {
    "task": {
        "taskId": "2B3C4D5E6F7081920A1B2C3D4E5F6A7B",
        "currentStep": "Failed.",
        "result": {
            "successful": False,
            "error": {
                "title": "Model Synchronization Failed",
                "messageText": "Your current workspace size is 9.8 GB. The model would be 1.3 GB "
                "larger after sync.",
                "subtitle": "Completing this sync would cause your workspace to exceed its size "
                "limit of 10.0 GB.",
            },
        },
        "taskState": "COMPLETE",
        "creationTime": 1767190500000,
    }
}
_REPORT_URL = (
    "https://api.anaplan.com/2/0/models/4D2C8E1F7A9B43C0B5E6F8A1C3D5E7F9/alm/comparisonReports/"
    "0F1E2D3C4B5A69788796A5B4C3D2E1F0/A1B2C3D4E5F60718293A4B5C6D7E8F90"
)
_REPORT_DONE = {
    "meta": {"schema": "https://api.anaplan.com/2/0/objects/syncTask"},
    "status": {"code": 200, "message": "Success"},
    "task": {
        "taskId": "8F7E6D5C4B3A42918070F1E2D3C4B5A6",
        "currentStep": "Complete.",
        "result": {
            "successful": True,
            "targetRevisionId": "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
            "sourceRevisionId": "A1B2C3D4E5F60718293A4B5C6D7E8F90",
            "reportFileUrl": _REPORT_URL,
        },
        "taskState": "COMPLETE",
        "creationTime": 1767191000000,
    },
}
_REPORT_FAILED = {
    "task": {
        "taskId": "8F7E6D5C4B3A42918070F1E2D3C4B5A6",
        "currentStep": "Failed.",
        "result": {
            "successful": False,
            "error": {
                "title": "The target and source revisions are incompatible",
                "messageText": "…",
            },
        },
        "taskState": "COMPLETE",
        "creationTime": 1767191000000,
    }
}
_SUMMARY = {
    "meta": {"schema": "https://api.anaplan.com/2/0/objects/summaryReport"},
    "status": {"code": 200, "message": "Success"},
    "summaryReport": {
        "targetRevisionId": "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        "sourceRevisionId": "A1B2C3D4E5F60718293A4B5C6D7E8F90",
        "totals": {"modified": 2, "deleted": 1, "created": 4},
        "differences": {
            "lineItems": {"created": 2},
            "rolesContents": {"modified": 2},
            "lists": {"created": 1, "deleted": 1},
            "modules": {"created": 1},
        },
    },
}


def test_every_alm_payload_of_the_reference_parses_into_the_seed_models() -> None:
    sprint, baseline = (Revision.model_validate(item) for item in _REVISIONS["revisions"])
    assert (sprint.name, sprint.description, sprint.applied_by) == (
        "Sprint 12",
        "New pricing module",
        "8a81b09e5d6f7a8b015d6f8c9e0a1b2c",
    )
    assert (baseline.creation_method, baseline.description, baseline.applied_on) == (
        "Model copied",
        None,
        None,
    )
    created = Revision.model_validate(_CREATED_REVISION)
    assert created.creation_method == "User added revision via API"

    started = parse_task_with_url(_TASK_WITH_URL)
    assert (started.id, started.task_state) == ("6D5C4B3A29184F7E8D9C0B1A2F3E4D5C", "IN_PROGRESS")
    assert started.task_url is not None
    assert started.task_url.endswith(started.id)

    synced = parse_sync_task(_SYNC_DONE)
    assert type(synced) is CompletedSyncTask
    assert synced.result.successful
    assert synced.result.source_revision_id == "A1B2C3D4E5F60718293A4B5C6D7E8F90"

    failed = parse_sync_task(_SYNC_FAILED)
    assert isinstance(failed, FailedSyncTask)
    assert isinstance(failed, CompletedSyncTask)
    assert failed.current_step == "Failed."
    assert failed.result.error.title == "Model Synchronization Failed"
    assert failed.result.error.message.startswith("Your current workspace size is 9.8 GB.")
    assert failed.result.error.subtitle is not None

    reported = parse_report_task(_REPORT_DONE)
    assert type(reported) is CompletedReportTask
    assert isinstance(reported.result, ReportTaskResult)
    assert reported.result.report_file_url == _REPORT_URL

    refused = parse_report_task(_REPORT_FAILED)
    assert isinstance(refused, FailedReportTask)
    assert isinstance(refused, CompletedReportTask)
    assert isinstance(refused.result, ReportTaskFailureResult)
    assert isinstance(refused.result.error, ReportTaskError)
    assert refused.result.error.title == "The target and source revisions are incompatible"

    summary = SummaryReport.model_validate(_SUMMARY["summaryReport"])
    assert (summary.totals.created, summary.totals.modified, summary.totals.deleted) == (4, 2, 1)
    assert summary.differences["lists"].deleted == 1
    assert summary.differences["rolesContents"].modified == 2
    assert summary.differences["modules"].modified == 0
