"""Users, workspaces, models and the action catalogue: envelopes, paging and ids (§1, §3, §5)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.engine.contract import Progression
from anaplan_tasks.emulator.server import RunningEmulator

from .conftest import Demo, assert_error, login, ok

WORKSPACE_ID = re.compile(r"^[0-9a-f]{32}$")
MODEL_ID = re.compile(r"^[0-9A-F]{32}$")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$")


def assert_schema(body: dict[str, object], suffix: str) -> None:
    meta = body["meta"]
    assert isinstance(meta, dict)
    assert meta["schema"].endswith(suffix), meta["schema"]
    assert body["status"] == {"code": 200, "message": "Success"}


def test_users_me(api: httpx2.Client) -> None:
    body = ok(api.get("/2/0/users/me"))
    assert_schema(body, "/2/0/objects/user")
    user = body["user"]
    assert user["email"] == "demo@example.com"
    assert WORKSPACE_ID.match(user["id"])


def test_workspaces_list_and_tenant_details(api: httpx2.Client, demo: Demo) -> None:
    body = ok(api.get("/2/0/workspaces"))
    assert_schema(body, "/2/0/objects/workspace")
    assert body["meta"]["paging"]["totalSize"] == len(body["workspaces"])
    workspace = next(w for w in body["workspaces"] if w["id"] == demo.workspace_id)
    assert WORKSPACE_ID.match(workspace["id"])
    assert workspace["name"] == "Demo Workspace"
    assert workspace["active"] is True
    assert "sizeAllowance" not in workspace
    assert "currentSize" not in workspace

    def sized() -> dict[str, Any]:
        listed = ok(api.get("/2/0/workspaces", params={"tenantDetails": "true"}))["workspaces"]
        found: dict[str, Any] = next(w for w in listed if w["id"] == demo.workspace_id)
        one = ok(api.get(f"/2/0/workspaces/{demo.workspace_id}?tenantDetails=true"))
        assert one["workspace"] == found
        return found

    before = sized()
    assert before["name"] == "Demo Workspace"
    assert before["sizeAllowance"] == 10 * 1024**3
    assert isinstance(before["currentSize"], int)
    # currentSize counts the file content stored for the workspace's models.
    created = ok(api.post(f"{demo.base}/files/sizing.csv", json={"chunkCount": 1}))["file"]
    chunk = f"{demo.base}/files/{created['id']}/chunks/0"
    put = api.put(chunk, content=b"x" * 1234, headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 204
    assert sized()["currentSize"] == before["currentSize"] + 1234


def test_one_workspace(api: httpx2.Client, demo: Demo) -> None:
    body = ok(api.get(f"/2/0/workspaces/{demo.workspace_id}"))
    assert_schema(body, "/2/0/objects/workspace")
    assert body["workspace"]["name"] == "Demo Workspace"
    assert_error(api.get("/2/0/workspaces/" + "0" * 32), 404)


def test_models_list_with_and_without_details(api: httpx2.Client, demo: Demo) -> None:
    body = ok(api.get("/2/0/models"))
    assert_schema(body, "/2/0/objects/model")
    names = {m["name"] for m in body["models"]}
    assert {"FP&A Dev", "FP&A Prod"} <= names
    model = next(m for m in body["models"] if m["id"] == demo.model_id)
    assert MODEL_ID.match(model["id"])
    assert model["currentWorkspaceId"] == demo.workspace_id
    assert model["activeState"] in ("UNLOCKED", "PRODUCTION")
    assert "lastModified" not in model
    assert "modelTransactionRunning" not in model
    assert "isoCreationDate" not in model
    detailed = ok(api.get("/2/0/models", params={"modelDetails": "true"}))["models"]
    assert all("modelTransactionRunning" not in m for m in detailed)
    assert all(ISO_DATE.match(m["isoCreationDate"]) for m in detailed)
    in_workspace = ok(api.get(f"/2/0/workspaces/{demo.workspace_id}/models"))["models"]
    assert {m["id"] for m in in_workspace} == {demo.model_id, demo.prod_model_id}


def test_one_model_carries_its_details(api: httpx2.Client, demo: Demo) -> None:
    body = ok(api.get(f"/2/0/models/{demo.model_id}"))
    assert_schema(body, "/2/0/objects/model")
    assert body["model"]["id"] == demo.model_id
    assert body["model"]["modelTransactionRunning"] is False
    assert ISO_DATE.match(body["model"]["isoCreationDate"])
    assert_error(api.get("/2/0/models/" + "F" * 32), 404)


def test_model_status_in_both_forms(api: httpx2.Client, demo: Demo) -> None:
    bare = ok(api.get(f"/2/0/models/{demo.model_id}/status"))
    assert set(bare) == {"requestStatus"}
    assert bare["requestStatus"]["currentStep"] == "Open"
    assert bare["requestStatus"]["progress"] == -1.0
    assert bare["requestStatus"]["taskId"] is None
    wrapped = ok(api.post(f"{demo.base}/status"))
    assert wrapped["status"]["code"] == 200
    assert wrapped["requestStatus"]["currentStep"] == "Open"


def test_a_running_task_shows_in_the_model_and_its_status(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator
) -> None:
    emulator.control.set_progression(Progression(mode="fixed", seconds=30))
    started = ok(api.post(f"{demo.base}/imports/112000000000/tasks", json={"localeName": "en_US"}))
    task_id = started["task"]["taskId"]
    deadline = time.monotonic() + 10
    while (
        ok(api.get(f"{demo.base}/imports/112000000000/tasks/{task_id}"))["task"]["taskState"]
        != "IN_PROGRESS"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert ok(api.get(f"/2/0/models/{demo.model_id}"))["model"]["modelTransactionRunning"] is True
    busy = ok(api.get(f"/2/0/models/{demo.model_id}/status"))["requestStatus"]
    assert busy["currentStep"] == "Processing ..."
    api.delete(f"{demo.base}/imports/112000000000/tasks/{task_id}")


def test_open_and_close_model(api: httpx2.Client, demo: Demo) -> None:
    assert api.post(f"{demo.base}/open").status_code == 200
    assert api.post(f"{demo.base}/close").status_code == 204


@pytest.mark.parametrize(
    ("kind", "key", "object_type", "prefix", "name"),
    [
        ("imports", "imports", "import", "112", "Load Employees"),
        ("exports", "exports", "export", "116", "Headcount Export"),
        ("actions", "actions", "action", "117", "Remove Inactive Employees"),
        ("processes", "processes", "process", "118", "Nightly Load"),
        ("files", "files", "file", "113", "employees.csv"),
    ],
)
def test_catalogue_lists_in_both_path_forms(
    api: httpx2.Client, demo: Demo, kind: str, key: str, object_type: str, prefix: str, name: str
) -> None:
    for base in (demo.base, demo.model_base, demo.base + "/"):
        path = f"{base.rstrip('/')}/{kind}" + ("/" if base.endswith("/") else "")
        body = ok(api.get(path))
        assert body["meta"]["schema"].endswith(f"/2/0/models/{demo.model_id}/objects/{object_type}")
        items = body[key]
        assert body["meta"]["paging"]["totalSize"] >= len(items) > 0
        item = next(i for i in items if i["name"] == name)
        assert re.fullmatch(prefix + r"\d{9}", item["id"])


def test_import_metadata(api: httpx2.Client, demo: Demo) -> None:
    import_id = demo.imports["Load Employees"]
    listed = next(i for i in ok(api.get(f"{demo.base}/imports"))["imports"] if i["id"] == import_id)
    assert listed["importType"] == "HIERARCHY_DATA"
    assert listed["importDataSourceId"] == demo.file_id
    body = ok(api.get(f"{demo.base}/imports/{import_id}"))
    assert body["meta"]["schema"].endswith("/objects/importMetadata")
    metadata = body["importMetadata"]
    assert metadata["name"] == "Load Employees"
    assert metadata["type"] == "FILE"
    assert metadata["source"]["columnCount"] == len(metadata["source"]["headerNames"]) > 0
    assert_error(api.get(f"{demo.base}/imports/112999999999"), 404)


def test_export_metadata(api: httpx2.Client, demo: Demo) -> None:
    export_id = demo.exports["Headcount Export"]
    listed = next(e for e in ok(api.get(f"{demo.base}/exports"))["exports"] if e["id"] == export_id)
    assert listed["exportFormat"]
    assert listed["layout"]
    body = ok(api.get(f"{demo.model_base}/exports/{export_id}"))
    assert body["meta"]["schema"].endswith("/objects/exportMetadata")
    metadata = body["exportMetadata"]
    assert metadata["columnCount"] == len(metadata["headerNames"]) == len(metadata["dataTypes"])
    assert_error(api.get(f"{demo.base}/exports/116999999999"), 404)


def test_action_and_process_metadata(api: httpx2.Client, demo: Demo) -> None:
    action_id = demo.actions["Remove Inactive Employees"]
    action = ok(api.get(f"{demo.base}/actions/{action_id}"))["action"]
    assert action["actionType"] == "DELETE_BY_SELECTION"
    process_id = demo.processes["Nightly Load"]
    body = ok(api.get(f"{demo.model_base}/processes/{process_id}"))
    metadata = body["processMetadata"]
    assert metadata["name"] == "Nightly Load"
    assert [a["name"] for a in metadata["actions"]] == [
        "Load Employees",
        "Load Headcount",
        "Remove Inactive Employees",
        "Headcount Export",
    ]
    assert_error(api.get(f"{demo.base}/actions/117999999999"), 404)
    assert_error(api.get(f"{demo.base}/processes/118999999999"), 404)


def test_paging_with_limit_and_offset(api: httpx2.Client, demo: Demo) -> None:
    everything = ok(api.get(f"{demo.base}/imports"))
    total = everything["meta"]["paging"]["totalSize"]
    assert total >= 2
    assert "next" not in everything["meta"]["paging"]
    assert "previous" not in everything["meta"]["paging"]
    first = ok(api.get(f"{demo.base}/imports", params={"limit": 1}))
    paging = first["meta"]["paging"]
    assert paging["currentPageSize"] == 1
    assert paging["offset"] == 0
    assert paging["totalSize"] == total
    assert "offset=1" in paging["next"]
    assert "limit=1" in paging["next"]
    second = ok(api.get(paging["next"]))
    assert second["meta"]["paging"]["offset"] == 1
    assert "offset=0" in second["meta"]["paging"]["previous"]
    assert second["imports"][0] == everything["imports"][1]
    beyond = ok(api.get(f"{demo.base}/imports", params={"offset": total}))
    assert "imports" not in beyond
    paging = beyond["meta"]["paging"]
    assert (paging["currentPageSize"], paging["offset"], paging["totalSize"]) == (0, total, total)
    assert "next" not in paging
    assert "previous" in paging


@pytest.mark.parametrize(
    "params", [{"limit": "x"}, {"limit": "0"}, {"limit": "-5"}, {"offset": "-1"}, {"offset": "y"}]
)
def test_bad_paging_is_a_400(api: httpx2.Client, demo: Demo, params: dict[str, str]) -> None:
    assert_error(api.get(f"{demo.base}/files", params=params), 400)


def test_unknown_ids_are_404s(api: httpx2.Client, demo: Demo) -> None:
    unknown_model = "0" * 32
    assert_error(api.get(f"/2/0/models/{unknown_model}/imports"), 404)
    assert_error(api.get(f"/2/0/workspaces/{demo.workspace_id}/models/{unknown_model}/files"), 404)
    other_workspace = "f" * 32
    assert_error(api.get(f"/2/0/workspaces/{other_workspace}/models/{demo.model_id}/files"), 404)
    assert_error(api.get(f"{demo.base}/nothing-here"), 404)


def test_wrong_verb_is_a_405(api: httpx2.Client, demo: Demo) -> None:
    body = assert_error(api.delete(f"{demo.base}/imports"), 405)
    assert body["status"]["message"] == "Method Not Allowed"


def test_users_see_only_their_workspaces(api: httpx2.Client, demo: Demo) -> None:
    definition = {
        "users": [{"email": "outsider@example.com", "password": "secret"}],
        "workspaces": [{"name": "Outsider Space", "admins": ["outsider@example.com"]}],
    }
    assert api.post("/_emulator/definitions", content=json.dumps(definition)).status_code == 204
    token = login(api, "outsider@example.com", "secret")
    outsider = {"Authorization": f"AnaplanAuthToken {token}"}
    names = [w["name"] for w in ok(api.get("/2/0/workspaces", headers=outsider))["workspaces"]]
    assert names == ["Outsider Space"]
    assert "models" not in ok(api.get("/2/0/models", headers=outsider))
    assert_error(api.get(f"{demo.base}/files", headers=outsider), 404)
    assert_error(api.get(f"/2/0/models/{demo.model_id}/imports", headers=outsider), 404)
    demo_names = {w["name"] for w in ok(api.get("/2/0/workspaces"))["workspaces"]}
    assert "Outsider Space" not in demo_names
