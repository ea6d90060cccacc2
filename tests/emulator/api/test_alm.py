"""ALM over a real socket: dev change → revision → compare → summary → sync, and the refusals."""

from __future__ import annotations

import base64
import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.alm.diff import same_structure
from anaplan_tasks.emulator.definitions import ModelDef
from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from anaplan_tasks.models import (
    CompletedReportTask,
    CompletedSyncTask,
    FailedReportTask,
    FailedSyncTask,
    parse_report_task,
    parse_sync_task,
    parse_task_with_url,
)
from anaplan_tasks.models.alm_report import parse_comparison_report

ADMIN = ("demo@example.com", "demo")
VIEWER = ("viewer@example.com", "viewer")
INCOMPATIBLE = {
    "title": "The target and source revisions are incompatible",
    "messageText": "Please choose a target and source revision that's compatible.",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(demo=True) as running:
        yield running


def _client(emulator: RunningEmulator, who: tuple[str, str]) -> httpx2.Client:
    client = httpx2.Client(base_url=emulator.base_url, timeout=30)
    credential = base64.b64encode(f"{who[0]}:{who[1]}".encode()).decode()
    answer = client.post("/token/authenticate", headers={"Authorization": f"Basic {credential}"})
    assert answer.status_code == 201, answer.text
    token = answer.json()["tokenInfo"]["tokenValue"]
    client.headers["Authorization"] = f"AnaplanAuthToken {token}"
    return client


@dataclass
class Demo:
    api: httpx2.Client
    viewer: httpx2.Client
    control: httpx2.Client
    workspace_id: str
    dev: str
    prod: str

    def alm(self, model_id: str, path: str = "") -> str:
        return f"/2/0/models/{model_id}/alm{path}"

    def latest(self, model_id: str) -> str:
        body = ok(self.api.get(self.alm(model_id, "/latestRevision")))
        revision_id: str = body["revisions"][0]["id"]
        return revision_id

    def edit(self, model_id: str, *edits: dict[str, Any]) -> dict[str, Any]:
        return ok(self.control.post(f"/_emulator/models/{model_id}/structure", json=list(edits)))

    def structure(self, model_id: str) -> ModelDef:
        return ModelDef.model_validate(
            ok(self.control.get(f"/_emulator/models/{model_id}/structure"))
        )

    def start(self, kind: str, source_revision: str, target_revision: str) -> str:
        answer = self.api.post(
            self.alm(self.prod, f"/{kind}"),
            json={
                "sourceRevisionId": source_revision,
                "sourceModelId": self.dev,
                "targetRevisionId": target_revision,
            },
        )
        body = ok(answer, 201)
        assert body["meta"]["schema"].endswith("/objects/taskWithUrl")
        assert body["status"] == {"code": 201, "message": "Created"}
        started = parse_task_with_url(body)
        assert answer.headers["location"] == started.task_url
        assert started.task_state == "IN_PROGRESS"
        return started.id

    def status(self, kind: str, task_id: str) -> Any:
        body = ok(self.api.get(self.alm(self.prod, f"/{kind}/{task_id}")))
        if kind == "syncTasks":
            return parse_sync_task(body)
        return parse_report_task(body)


def ok(response: httpx2.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx2.Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"]["code"] == status
    if message is not None:
        assert body["status"]["message"] == message


@pytest.fixture
def demo(emulator: RunningEmulator) -> Iterator[Demo]:
    emulator.control.reset()
    api, viewer = _client(emulator, ADMIN), _client(emulator, VIEWER)
    control = httpx2.Client(base_url=emulator.base_url, timeout=30)
    workspaces = ok(api.get("/2/0/workspaces"))["workspaces"]
    workspace = next(w for w in workspaces if w["name"] == "Demo Workspace")
    models = ok(api.get(f"/2/0/workspaces/{workspace['id']}/models"))["models"]
    by_name = {m["name"]: m["id"] for m in models}
    try:
        yield Demo(api, viewer, control, workspace["id"], by_name["FP&A Dev"], by_name["FP&A Prod"])
    finally:
        for client in (api, viewer, control):
            client.close()


def _run_import(demo: Demo, model_id: str, rows: int) -> None:
    base = f"/2/0/workspaces/{demo.workspace_id}/models/{model_id}"
    files = ok(demo.api.get(f"{base}/files"))["files"]
    file_id = next(f["id"] for f in files if f["name"] == "employees.csv")
    content = b"".join(generate_employees_csv(rows))
    ok(demo.api.post(f"{base}/files/{file_id}", json={"chunkCount": 1}))
    put = demo.api.put(
        f"{base}/files/{file_id}/chunks/0",
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 204, put.text
    imports = {i["name"]: i["id"] for i in ok(demo.api.get(f"{base}/imports"))["imports"]}
    for name in ("Load Employees", "Load Headcount"):
        task = ok(
            demo.api.post(f"{base}/imports/{imports[name]}/tasks", json={"localeName": "en_US"})
        )["task"]
        _finish(demo, f"{base}/imports/{imports[name]}/tasks/{task['taskId']}")


def _finish(demo: Demo, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task: dict[str, Any] = ok(demo.api.get(url))["task"]
        if task["taskState"] in ("COMPLETE", "CANCELLED"):
            assert task["result"]["successful"], task
            return task
        time.sleep(0.05)
    raise AssertionError(f"{url} did not finish")


def _export_headcount(demo: Demo, model_id: str) -> bytes:
    base = f"/2/0/workspaces/{demo.workspace_id}/models/{model_id}"
    exports = {e["name"]: e["id"] for e in ok(demo.api.get(f"{base}/exports"))["exports"]}
    export_id = exports["Headcount Export"]
    task = ok(demo.api.post(f"{base}/exports/{export_id}/tasks", json={"localeName": "en_US"}))
    _finish(demo, f"{base}/exports/{export_id}/tasks/{task['task']['taskId']}")
    answer = demo.api.get(f"{base}/files/{export_id}")
    assert answer.status_code == 200
    return answer.content


def test_copies_share_their_origin_revision(demo: Demo) -> None:
    assert demo.latest(demo.dev) == demo.latest(demo.prod)
    body = ok(demo.api.get(demo.alm(demo.prod, "/latestRevision")))
    assert body["revisions"][0]["creationMethod"] == "Model copied"
    assert body["meta"]["schema"].endswith("/objects/revision")


def test_the_whole_flow_keeps_prod_data(demo: Demo) -> None:
    _run_import(demo, demo.prod, rows=50)
    before = _export_headcount(demo, demo.prod)
    baseline = demo.latest(demo.prod)

    refused(demo.api.post(demo.alm(demo.prod, "/revisions"), json={"name": "Nothing yet"}), 400)
    demo.edit(
        demo.dev,
        {"op": "addList", "list": {"name": "Channels", "properties": [{"name": "Owner"}]}},
        {"op": "addLineItem", "module": "Headcount", "lineItem": {"name": "Bonus"}},
    )
    created = ok(
        demo.api.post(
            demo.alm(demo.dev, "/revisions"), json={"name": "Release 1", "description": "Bonus"}
        ),
        201,
    )
    release = created["revision"]["id"]
    assert created["revision"]["creationMethod"] == "User added revision via API"

    syncable = ok(
        demo.api.get(demo.alm(demo.prod, "/syncableRevisions"), params={"sourceModelId": demo.dev})
    )
    assert [r["id"] for r in syncable["revisions"]] == [release]

    compare = demo.start("comparisonReportTasks", release, baseline)
    status = demo.status("comparisonReportTasks", compare)
    assert isinstance(status, CompletedReportTask)
    assert status.result.successful
    report_url = status.result.report_file_url  # type: ignore[union-attr]
    assert report_url.endswith(f"/alm/comparisonReports/{baseline}/{release}")
    path = f"/2/0/models/{demo.prod}/alm/comparisonReports/{baseline}/{release}"
    refused(demo.api.get(path, headers={"Accept": "application/json"}), 406)
    download = demo.api.get(path, headers={"Accept": "application/octet-stream"})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/octet-stream"
    report = parse_comparison_report(download.content)
    assert report.titles == ["LISTS ADDED", "LINE ITEMS ADDED"]
    assert [row["Name"] for row in report.rows("LISTS ADDED")] == ["Channels", "Scenarios"]
    assert [(r["Module"], r["Line Item"]) for r in report.rows("LINE ITEMS ADDED")] == [
        ("Headcount", "Bonus")
    ]
    assert (report.source.model_name, report.target.model_name) == ("FP&A Dev", "FP&A Prod")

    summary_task = demo.start("summaryReportTasks", release, baseline)
    assert isinstance(demo.status("summaryReportTasks", summary_task), CompletedReportTask)
    summary = ok(demo.api.get(f"/2/0/models/{demo.prod}/alm/summaryReports/{baseline}/{release}"))
    assert summary["summaryReport"]["totals"] == {"created": 3}
    assert summary["summaryReport"]["differences"] == {
        "lists": {"created": 2},
        "lineItems": {"created": 1},
    }

    assert (
        demo.api.put(
            f"/2/0/models/{demo.prod}/onlineStatus", json={"status": "offline"}
        ).status_code
        == 204
    )
    sync = demo.start("syncTasks", release, baseline)
    done = demo.status("syncTasks", sync)
    assert isinstance(done, CompletedSyncTask)
    assert not isinstance(done, FailedSyncTask)
    assert done.to_wire()["result"] == {
        "successful": True,
        "sourceRevisionId": release,
        "targetRevisionId": baseline,
    }
    assert (
        demo.api.put(f"/2/0/models/{demo.prod}/onlineStatus", json={"status": "online"}).status_code
        == 204
    )

    assert same_structure(demo.structure(demo.prod), demo.structure(demo.dev))
    assert demo.structure(demo.prod).name == "FP&A Prod"
    assert demo.latest(demo.prod) == release
    after = _export_headcount(demo, demo.prod)
    assert len(_rows(before)) == 50
    assert _rows(after, drop="Bonus") == _rows(before)
    assert {row["Bonus"] for row in _rows(after)} == {""}

    applied = ok(demo.api.get(demo.alm(demo.prod, f"/revisions/{release}/appliedToModels")))
    assert [(a["modelName"], a["appliedMethod"]) for a in applied["appliedToModels"]] == [
        ("FP&A Dev", "User added revision via API"),
        ("FP&A Prod", "Revision synchronized"),
    ]
    listed = ok(demo.api.get(demo.alm(demo.prod, "/syncTasks")))
    assert [t["taskId"] for t in listed["tasks"]] == [sync]
    assert "revisions" not in ok(
        demo.api.get(demo.alm(demo.prod, "/syncableRevisions"), params={"sourceModelId": demo.dev})
    )


def _rows(export: bytes, drop: str | None = None) -> list[dict[str, str]]:
    rows = csv.DictReader(io.StringIO(export.decode("utf-8")))
    return [{key: value for key, value in row.items() if key != drop} for row in rows]


def test_an_offline_model_refuses_other_work_but_not_alm(demo: Demo) -> None:
    assert (
        demo.api.put(
            f"/2/0/models/{demo.prod}/onlineStatus", json={"status": "offline"}
        ).status_code
        == 204
    )
    base = f"/2/0/workspaces/{demo.workspace_id}/models/{demo.prod}"
    imports = ok(demo.api.get(f"{base}/imports"))["imports"]
    refused(
        demo.api.post(f"{base}/imports/{imports[0]['id']}/tasks", json={"localeName": "en_US"}), 424
    )
    ok(demo.api.get(demo.alm(demo.prod, "/latestRevision")))


def test_online_status_shows_in_the_models_active_state(demo: Demo) -> None:
    def active_state() -> str:
        state: str = ok(demo.api.get(f"/2/0/models/{demo.prod}"))["model"]["activeState"]
        return state

    assert active_state() == "UNLOCKED"
    status = f"/2/0/models/{demo.prod}/onlineStatus"
    assert demo.api.put(status, json={"status": "offline"}).status_code == 204
    assert active_state() == "MAINTENANCE"
    listed = ok(demo.api.get(f"/2/0/workspaces/{demo.workspace_id}/models"))["models"]
    assert {model["id"]: model["activeState"] for model in listed}[demo.prod] == "MAINTENANCE"
    assert demo.api.put(status, json={"status": "online"}).status_code == 204
    assert active_state() == "UNLOCKED"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"sourceModelId": "X"},
            "Expected mandatory fields 'sourceRevisionId', 'sourceModelId' and 'targetRevisionId'",
        ),
        (
            {"sourceRevisionId": "A", "sourceModelId": "B", "targetRevisionId": "C", "force": True},
            "Identified an unrecognized 'force'. Amend the content so it only contains "
            "applicable fields.",
        ),
    ],
)
@pytest.mark.parametrize("kind", ["syncTasks", "comparisonReportTasks", "summaryReportTasks"])
def test_task_bodies_are_strict(demo: Demo, kind: str, body: dict[str, Any], message: str) -> None:
    refused(demo.api.post(demo.alm(demo.prod, f"/{kind}"), json=body), 400, message)


def test_incompatible_revisions_fail_the_task(demo: Demo) -> None:
    demo.edit(demo.prod, {"op": "addList", "list": {"name": "Local"}})
    prod_own = ok(demo.api.post(demo.alm(demo.prod, "/revisions"), json={"name": "Hotfix"}), 201)
    demo.edit(demo.dev, {"op": "addList", "list": {"name": "Channels"}})
    release = ok(demo.api.post(demo.alm(demo.dev, "/revisions"), json={"name": "R1"}), 201)
    for kind in ("syncTasks", "comparisonReportTasks", "summaryReportTasks"):
        task = demo.start(kind, release["revision"]["id"], prod_own["revision"]["id"])
        status = demo.status(kind, task)
        assert isinstance(status, FailedSyncTask | FailedReportTask)
        wire = status.to_wire()
        assert wire["currentStep"] == "Failed."
        assert wire["taskState"] == "COMPLETE"
        assert wire["result"] == {"successful": False, "error": INCOMPATIBLE}


def test_revision_names_and_descriptions_are_limited(demo: Demo) -> None:
    demo.edit(demo.dev, {"op": "addList", "list": {"name": "Channels"}})
    url = demo.alm(demo.dev, "/revisions")
    refused(
        demo.api.post(url, json={"name": "n" * 61}),
        400,
        "The title of your revision tag must be 60 characters or fewer.",
    )
    refused(
        demo.api.post(url, json={"name": "ok", "description": "d" * 251}),
        400,
        "Revision tag descriptions must be 250 characters or fewer.",
    )
    ok(demo.api.post(url, json={"name": "n" * 60, "description": "d" * 250}), 201)


def test_syncable_revisions_need_the_source_parameter(demo: Demo) -> None:
    refused(
        demo.api.get(demo.alm(demo.prod, "/syncableRevisions")),
        400,
        "Missing 'sourceModelId' request parameter.",
    )


def test_non_admins_are_refused(demo: Demo) -> None:
    refused(demo.viewer.get(demo.alm(demo.prod, "/latestRevision")), 403)
    refused(demo.viewer.get(demo.alm(demo.prod, "/syncTasks")), 403)
    refused(demo.viewer.post(demo.alm(demo.prod, "/syncTasks"), json={}), 403)
    refused(
        demo.viewer.put(f"/2/0/models/{demo.prod}/onlineStatus", json={"status": "offline"}), 403
    )
    for kind in ("comparisonReportTasks", "summaryReportTasks"):
        refused(demo.viewer.post(demo.alm(demo.prod, f"/{kind}"), json={}), 424)
    refused(demo.viewer.get(demo.alm(demo.prod, "/summaryReports/A/B")), 424)
    refused(
        demo.viewer.get(
            demo.alm(demo.prod, "/comparisonReports/A/B"),
            headers={"Accept": "application/octet-stream"},
        ),
        424,
    )
    # the Accept check comes before the role check
    refused(
        demo.viewer.get(
            demo.alm(demo.prod, "/comparisonReports/A/B"), headers={"Accept": "text/plain"}
        ),
        406,
    )


def test_task_lists_without_tasks_have_no_key(demo: Demo) -> None:
    body = ok(demo.api.get(demo.alm(demo.prod, "/syncTasks")))
    assert "tasks" not in body
    assert body["status"] == {"code": 200, "message": "Success"}


def test_structure_control_refuses_bad_edits(demo: Demo) -> None:
    answer = demo.control.post(
        f"/_emulator/models/{demo.dev}/structure", json={"op": "removeList", "name": "Regions"}
    )
    refused(answer, 400)
    assert "still used by" in answer.json()["status"]["message"]


def test_a_model_without_revision_has_no_revisions_key(demo: Demo) -> None:
    definition = """
[[workspaces]]
name = "Demo Workspace"
admins = ["demo@example.com"]

[[workspaces.models]]
name = "Sandbox"

[[workspaces.models.lists]]
name = "Regions"
"""
    assert demo.control.post("/_emulator/definitions", content=definition).status_code == 204
    models = ok(demo.api.get(f"/2/0/workspaces/{demo.workspace_id}/models"))["models"]
    sandbox = next(m["id"] for m in models if m["name"] == "Sandbox")
    body = ok(demo.api.get(demo.alm(sandbox, "/latestRevision")))
    assert body == {
        "meta": {"schema": body["meta"]["schema"]},
        "status": {"code": 200, "message": "Success"},
    }
    listed = ok(demo.api.get(demo.alm(sandbox, "/revisions")))
    assert "revisions" not in listed
    assert listed["meta"]["paging"]["totalSize"] == 0
    demo.edit(sandbox, {"op": "addList", "list": {"name": "Products"}})
    first = ok(demo.api.post(demo.alm(sandbox, "/revisions"), json={"name": "First"}), 201)
    assert demo.latest(sandbox) == first["revision"]["id"]


def test_the_workspace_form_of_the_paths_checks_the_workspace(demo: Demo) -> None:
    path = f"/2/0/workspaces/{demo.workspace_id}/models/{demo.prod}/alm/latestRevision"
    assert ok(demo.api.get(path))["revisions"][0]["id"] == demo.latest(demo.prod)
    refused(demo.api.get(path.replace(demo.workspace_id, "0" * 32)), 404)
    refused(demo.api.get(demo.alm("0" * 32, "/latestRevision")), 404)
    refused(demo.control.get(f"/_emulator/models/{'0' * 32}/structure"), 404)
