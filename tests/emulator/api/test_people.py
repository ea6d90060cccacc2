"""Model listings complete enough for anaplan-sdk's and apapi's `get_models()`, `/users`,
`/users/{id}`, a complete `/users/me`, model open and close in both path forms,
`bulkDeleteModels`, and process metadata with `showImportDataSource=true` (§2, §3)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import pytest

from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from tests.sales_model import write_sales_definition

from .conftest import assert_error, ok

ANAPLAN_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    definition = write_sales_definition(tmp_path_factory.mktemp("sales"))
    with run_emulator(demo=True, definitions=[definition]) as running:
        yield running


@contextmanager
def signed_in(emulator: RunningEmulator, email: str, password: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.base_url, timeout=30) as client:
        credential = base64.b64encode(f"{email}:{password}".encode()).decode()
        answer = client.post(
            "/token/authenticate", headers={"Authorization": f"Basic {credential}"}
        )
        client.headers["Authorization"] = (
            f"AnaplanAuthToken {answer.json()['tokenInfo']['tokenValue']}"
        )
        yield client


@pytest.fixture
def ann(emulator: RunningEmulator) -> Iterator[httpx2.Client]:
    emulator.control.reset()
    with signed_in(emulator, "ann@example.com", "pw") as client:
        yield client


def _sales_ids(api: httpx2.Client) -> tuple[str, str]:
    workspace = next(
        w for w in ok(api.get("/2/0/workspaces"))["workspaces"] if w["name"] == "Sales WS"
    )
    model = ok(api.get(f"/2/0/workspaces/{workspace['id']}/models"))["models"][0]
    return workspace["id"], model["id"]


def test_model_listings_carry_url_categories_and_details_on_request(ann: httpx2.Client) -> None:
    plain = ok(ann.get("/2/0/models"))["models"][0]
    assert plain["modelUrl"].startswith("https://")
    assert plain["id"] in plain["modelUrl"]
    assert plain["categoryValues"] == []
    for key in ("lastSavedSerialNumber", "lastModifiedByUserGuid", "memoryUsage", "lastModified"):
        assert key not in plain
    detailed = ok(ann.get("/2/0/models", params={"modelDetails": "true"}))["models"][0]
    assert isinstance(detailed["lastSavedSerialNumber"], int)
    assert re.match(r"^[0-9a-f]{32}$", detailed["lastModifiedByUserGuid"])
    assert detailed["memoryUsage"] == 0
    assert ANAPLAN_DATE.match(detailed["lastModified"])
    one = ok(ann.get(f"/2/0/models/{plain['id']}", params={"modelDetails": "true"}))["model"]
    assert one["modelUrl"] == plain["modelUrl"]
    assert one["modelTransactionRunning"] is False


def test_users_me_is_complete_and_users_lists_the_tenant(ann: httpx2.Client) -> None:
    me = ok(ann.get("/2/0/users/me"))["user"]
    assert me["emailOptIn"] is False
    assert ANAPLAN_DATE.match(me["lastLoginDate"])
    assert (me["firstName"], me["lastName"], me["active"]) == ("Ann", "Lee", True)
    body = ok(ann.get("/2/0/users"))
    assert body["meta"]["paging"]["totalSize"] == len(body["users"])
    emails = {user["email"]: user for user in body["users"]}
    assert {"ann@example.com", "bo@example.com", "demo@example.com"} <= set(emails)
    assert "lastLoginDate" not in emails["bo@example.com"]  # never signed in
    bo = ok(ann.get(f"/2/0/users/{emails['bo@example.com']['id']}"))
    assert bo["meta"]["schema"].endswith("/2/0/objects/user")
    assert bo["user"] == emails["bo@example.com"]
    assert ok(ann.get(f"/2/0/users/{me['id']}"))["user"] == me
    assert_error(ann.get("/2/0/users/0123456789abcdef0123456789abcdef"), 404)


def test_users_sort_by_signed_fields_and_refuse_anything_else(ann: httpx2.Client) -> None:
    def emails(sort: str, **params: str) -> list[str]:
        body = ok(ann.get("/2/0/users", params={"sort": sort, **params}))
        return [user["email"] for user in body["users"]]

    everyone = emails("+email")
    assert everyone == sorted(everyone)
    assert emails("-email") == everyone[::-1]
    by_name = ok(ann.get("/2/0/users", params={"sort": "+lastName,-firstName"}))["users"]
    keys = [(u["lastName"].lower(), u["firstName"].lower()) for u in by_name]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    signed_in_last = emails("+lastLoginDate")
    assert signed_in_last[-1] == "ann@example.com"  # the only one who signed in
    assert "bo@example.com" in signed_in_last[:-1]  # never signed in: first
    page = ok(ann.get("/2/0/users", params={"sort": "-email", "limit": "1", "offset": "1"}))
    assert [u["email"] for u in page["users"]] == everyone[-2:-1]
    bare = assert_error(ann.get("/2/0/users", params={"sort": "email"}), 400)
    assert bare["status"]["message"] == (
        "Bad sort order format: 'email'. Please follow (-){column_name_1},(+){column_name_2}.. "
        "format"
    )
    unknown = assert_error(ann.get("/2/0/users", params={"sort": "+emailAddress"}), 400)
    assert unknown["status"]["message"] == "Failed to parse sort parameter"


def test_only_workspace_admins_list_users(emulator: RunningEmulator, ann: httpx2.Client) -> None:
    with signed_in(emulator, "viewer@example.com", "viewer") as viewer:
        assert_error(viewer.get("/2/0/users"), 403)
        assert ok(viewer.get("/2/0/users/me"))["user"]["email"] == "viewer@example.com"


def test_open_and_close_in_both_path_forms(ann: httpx2.Client) -> None:
    workspace_id, model_id = _sales_ids(ann)
    for base in (f"/2/0/workspaces/{workspace_id}/models/{model_id}", f"/2/0/models/{model_id}"):
        opened = ann.post(f"{base}/open", headers={"Content-Type": "application/text"})
        assert (opened.status_code, opened.content) == (200, b"")  # already open
        closed = ann.post(f"{base}/close", headers={"Content-Type": "application/text"})
        assert (closed.status_code, closed.content) == (204, b"")
        status = ok(ann.get(f"/2/0/models/{model_id}/status"))["requestStatus"]
        assert status["currentStep"] == "Closed"
        woken = ann.post(f"{base}/open")
        assert (woken.status_code, woken.content) == (202, b"")
        assert (
            ok(ann.get(f"/2/0/models/{model_id}/status"))["requestStatus"]["currentStep"] == "Open"
        )
    assert_error(ann.post("/2/0/models/0123456789ABCDEF0123456789ABCDEF/open"), 404)


def test_bulk_delete_models(ann: httpx2.Client) -> None:
    workspace_id, model_id = _sales_ids(ann)
    path = f"/2/0/workspaces/{workspace_id}/bulkDeleteModels"
    missing = assert_error(ann.post(path, json={}), 400)
    assert missing["status"]["message"] == (
        "Expected mandatory field 'modelIdsToDelete' to be present and not empty."
    )
    wrong = assert_error(ann.post(path, json={"modelIds": [model_id]}), 400)
    assert "unrecognized 'modelIds'" in wrong["status"]["message"]
    still_open = ok(ann.post(path, json={"modelIdsToDelete": [model_id, "F" * 32]}))
    assert still_open["meta"]["schema"].endswith("/objects/bulkDeleteModels")
    assert still_open["modelsDeleted"] == 0
    assert still_open["bulkDeleteModelsFailures"] == [
        {
            "modelId": model_id,
            "message": "Model is open. Please close the model before trying again.",
        },
        {"modelId": "F" * 32, "message": "Model ID does not exist."},
    ]
    assert ann.post(f"/2/0/models/{model_id}/close").status_code == 204
    done = ok(ann.post(path, json={"modelIdsToDelete": [model_id]}))
    assert done["modelsDeleted"] == 1
    assert "bulkDeleteModelsFailures" not in done
    assert ok(ann.get(f"/2/0/workspaces/{workspace_id}/models")).get("models") is None
    assert_error(ann.get(f"/2/0/models/{model_id}"), 404)


def test_bulk_delete_needs_a_workspace_admin(emulator: RunningEmulator, ann: httpx2.Client) -> None:
    workspace_id, model_id = _sales_ids(ann)
    with signed_in(emulator, "bo@example.com", "pw") as bo:
        path = f"/2/0/workspaces/{workspace_id}/bulkDeleteModels"
        assert_error(bo.post(path, json={"modelIdsToDelete": [model_id]}), 403)


def test_process_metadata_shows_import_data_sources_on_request(emulator: RunningEmulator) -> None:
    emulator.control.reset()
    with signed_in(emulator, "demo@example.com", "demo") as demo:
        workspace = ok(demo.get("/2/0/workspaces"))["workspaces"][0]["id"]
        model = next(
            m["id"]
            for m in ok(demo.get(f"/2/0/workspaces/{workspace}/models"))["models"]
            if m["name"] == "FP&A Dev"
        )
        process = ok(demo.get(f"/2/0/models/{model}/processes"))["processes"][0]["id"]
        plain = ok(demo.get(f"/2/0/models/{model}/processes/{process}"))["processMetadata"]
        assert all("importDataSource" not in action for action in plain["actions"])
        shown = ok(
            demo.get(
                f"/2/0/models/{model}/processes/{process}", params={"showImportDataSource": "true"}
            )
        )["processMetadata"]
        imports = [a for a in shown["actions"] if a["actionType"] == "IMPORT"]
        assert imports
        for action in imports:
            assert action["importDataSource"] == {
                "importDataSourceId": action["importDataSourceId"],
                "type": "FILE",
            }


def test_workspace_admins_and_visitors(emulator: RunningEmulator, ann: httpx2.Client) -> None:
    workspace_id, _ = _sales_ids(ann)
    admins = ok(ann.get(f"/2/0/workspaces/{workspace_id}/admins"))
    assert admins["meta"]["schema"].endswith("/2/0/objects/admin")
    assert admins["meta"]["paging"]["totalSize"] == 1
    assert admins["admins"] == [
        {
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "ann@example.com",
            "active": True,
            "otherWorkspaces": [],
        }
    ]
    visitors = ok(ann.get(f"/2/0/workspaces/{workspace_id}/visitors"))["visitors"]
    assert [v["email"] for v in visitors] == ["bo@example.com"]
    assert "id" not in visitors[0]
    with signed_in(emulator, "bo@example.com", "pw") as bo:
        assert_error(bo.get(f"/2/0/workspaces/{workspace_id}/admins"), 403)
    assert_error(ann.get("/2/0/workspaces/0123456789abcdef0123456789abcdef/admins"), 404)
