"""CloudWorks over a real socket, with plain requests written from the reference (§11).

The emulator runs the demo workspace plus a definition naming three buckets (local
directories under the test's temporary folder), a second workspace, and a user in no
workspace (no CloudWorks role). Runs move real rows between a bucket and the model.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.api.cloudworks import service_of
from anaplan_tasks.emulator.engine import cloudworks as cloudworks_engine
from anaplan_tasks.emulator.engine.contract import Progression
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator

from .conftest import Demo, FakeClock, assert_error, login, ok

CW = "/2/0/integrations"
FLOWS = "/2/0/integrationflows"
KEY, SECRET = "AKIAEMULATOR", "s3cr3t"
HEADER = '"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\n'
GOOD_ROWS = (
    "E0000001,Ann Lee,NA,2024-01-02,true,100000,1\n"
    "E0000002,Bo Kim,EMEA,2024-02-03,true,90000,0.5\n"
    "E0000003,Cy Tan,APAC,2024-03-04,true,80000,1\n"
)
BAD_ROWS = (
    "E0000004,Di Orr,MARS,2024-04-05,true,70000,1\nE0000005,Ed Poe,VENUS,2024-05-06,true,1,1\n"
)


@pytest.fixture(scope="module")
def buckets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cloudworks")
    return {name: root / name for name in ("landing", "blob", "warehouse")}


@pytest.fixture(scope="module")
def emulator(clock: FakeClock, buckets: dict[str, Path]) -> Iterator[RunningEmulator]:
    definition = buckets["landing"].parent / "cloudworks.toml"
    definition.write_text(
        f"""
[[users]]
email = "outsider@example.com"
password = "outsider"
first_name = "Out"
last_name = "Sider"

[[workspaces]]
name = "Other Workspace"
admins = ["demo@example.com"]

[[workspaces.models]]
name = "Side Model"

[[workspaces.models.lists]]
name = "Things"

[[buckets]]
name = "landing"
path = "{buckets["landing"]}"
access_key_id = "{KEY}"
secret_access_key = "{SECRET}"
role_arn = "arn:aws:iam::123456789012:role/cloudworks"

[[buckets]]
type = "AzureBlob"
account = "acmeplanning"
name = "inbound"
path = "{buckets["blob"]}"
sas_token = "sv=2024&sig=ok"

[[buckets]]
type = "GoogleBigQuery"
name = "planning_dataset"
path = "{buckets["warehouse"]}"
""",
        encoding="utf-8",
    )
    with run_emulator(demo=True, clock=clock, definitions=[definition]) as running:
        yield running


@pytest.fixture(autouse=True)
def empty_buckets(buckets: dict[str, Path]) -> None:
    for path in buckets.values():
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)


@contextmanager
def as_user(emulator: RunningEmulator, email: str, password: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.base_url, timeout=30) as client:
        client.headers["Authorization"] = f"AnaplanAuthToken {login(client, email, password)}"
        yield client


def s3_connection(api: httpx2.Client, demo: Demo, name: str = "landing zone") -> str:
    body = {
        "type": "AmazonS3",
        "body": {
            "name": name,
            "accessKeyId": KEY,
            "secretAccessKey": SECRET,
            "bucketName": "landing",
            "workspaceId": demo.workspace_id,
        },
    }
    answer = ok(api.post(f"{CW}/connections", json=body))
    connection_id: str = answer["connections"]["connectionId"]
    return connection_id


def import_body(
    demo: Demo,
    connection_id: str,
    file: str = "in/employees.csv",
    name: str = "Load employees",
    action: str = "Load Employees",
) -> dict[str, Any]:
    return {
        "name": name,
        "version": "2.0",
        "workspaceId": demo.workspace_id,
        "modelId": demo.model_id,
        "jobs": [
            {
                "type": "AmazonS3ToAnaplan",
                "sources": [{"type": "AmazonS3", "connectionId": connection_id, "file": file}],
                "targets": [
                    {
                        "type": "Anaplan",
                        "actionId": demo.imports[action],
                        "fileId": demo.file_id,
                    }
                ],
            }
        ],
    }


def export_body(
    demo: Demo, connection_id: str, *, overwrite: bool | None = None, name: str = "Send headcount"
) -> dict[str, Any]:
    target: dict[str, Any] = {"type": "AmazonS3", "connectionId": connection_id, "file": "out/"}
    if overwrite is not None:
        target["overwrite"] = overwrite
    return {
        "name": name,
        "version": "2.0",
        "workspaceId": demo.workspace_id,
        "modelId": demo.model_id,
        "jobs": [
            {
                "type": "AnaplanToAmazonS3",
                "sources": [{"type": "Anaplan", "actionId": demo.exports["Headcount Export"]}],
                "targets": [target],
            }
        ],
    }


def create(api: httpx2.Client, body: dict[str, Any]) -> str:
    integration_id: str = ok(api.post(CW, json=body))["integration"]["integrationId"]
    return integration_id


def put_source(buckets: dict[str, Path], rows: str, key: str = "in/employees.csv") -> None:
    path = buckets["landing"] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + rows, encoding="utf-8")


def run(api: httpx2.Client, integration_id: str) -> dict[str, Any]:
    """Run and wait (by a deadline) for the run to end; its final status."""
    run_id = ok(api.post(f"{CW}/{integration_id}/run"))["run"]["id"]
    return wait_run(api, run_id)


def wait_run(api: httpx2.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        status: dict[str, Any] = ok(api.get(f"{CW}/run/{run_id}"))["run"]
        if status["endDate"] is not None:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.02)


def employee_codes(api: httpx2.Client, demo: Demo) -> set[str]:
    lists = ok(api.get(f"{demo.model_base}/lists"))["lists"]
    list_id = next(item["id"] for item in lists if item["name"] == "Employees")
    items = ok(api.get(f"{demo.model_base}/lists/{list_id}/items"))
    return {item["code"] for item in items.get("listItems", [])}


# == wire basics ==============================================================================
def test_both_bases_answer_with_cloudworks_envelope(api: httpx2.Client, demo: Demo) -> None:
    for base in ("/2/0", "/cloudworks/2/0"):
        response = api.get(f"{base}/integrations")
        body = ok(response)
        assert list(body) == ["status", "integrations", "meta"]  # meta last, unlike Anaplan's
        assert body["integrations"] == []
        assert body["meta"]["paging"] == {"currentPageSize": 0, "totalSize": 0, "offset": 0}
        assert body["meta"]["tenantCurrentCount"] == 0
        assert body["meta"]["tenantMaxAllowed"] == 500
        assert body["meta"]["schema"].endswith(f"{base}/integrations/objects/integrations")


def test_a_token_is_needed_and_bearer_works_too(http: httpx2.Client) -> None:
    body = assert_error(http.get(f"{CW}/connections"), 403)
    assert body["status"]["message"] == "Not Authorized"
    assert_error(http.get("/cloudworks/2/0/integrations"), 403)
    token = login(http)
    ok(http.get(f"{CW}/connections", headers={"Authorization": f"Bearer {token}"}))


def test_an_unrouted_path_is_the_web_servers_html_404(api: httpx2.Client, demo: Demo) -> None:
    for path in (
        f"{CW}/run/0123456789abcdef0123456789abcdef/dump",  # the SDK's singular: unrouted
        f"{CW}/anaplanModels/{demo.model_id}",  # removed by Anaplan
        f"{CW}/0123456789abcdef0123456789abcdef/nothing",
        "/cloudworks/2/0/elsewhere",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "<title>404 Not Found</title>" in response.text
    body = assert_error(api.get(f"{CW}/0123456789abcdef0123456789abcdef"), 404)
    assert body["status"]["message"] == "Resource not found"


def test_bad_json_and_bad_paging_are_400s_in_cloudworks_words(
    api: httpx2.Client, demo: Demo
) -> None:
    response = api.post(CW, content=b"{nope", headers={"Content-Type": "application/json"})
    assert assert_error(response, 400)["status"]["message"] == "Invalid request body"
    assert assert_error(api.get(CW, params={"limit": "x"}), 400)["status"]["message"] == "limit"
    assert assert_error(api.get(CW, params={"limit": "0"}), 400)["status"]["message"] == "limit"


# == connections ==============================================================================
def test_connections_are_validated_against_their_bucket(api: httpx2.Client, demo: Demo) -> None:
    def refused(body: dict[str, Any], status: int = 400) -> str:
        message: str = assert_error(api.post(f"{CW}/connections", json=body), status)["status"][
            "message"
        ]
        return message

    s3 = {
        "name": "x",
        "accessKeyId": KEY,
        "secretAccessKey": SECRET,
        "bucketName": "landing",
        "workspaceId": demo.workspace_id,
    }
    assert refused({"type": "Dropbox", "body": s3}) == "Invalid connection type"
    assert refused({"type": "AmazonS3", "body": {"name": "x"}}) == "Invalid request body"
    assert refused({"type": "AmazonS3", "body": {**s3, "bucketName": "nope"}}) == (
        "Bucket name is invalid"
    )
    assert refused({"type": "AmazonS3", "body": {**s3, "secretAccessKey": "guess"}}) == (
        "Credentials are invalid"
    )
    assert refused({"type": "AmazonS3", "body": {**s3, "roleArn": "arn:aws:iam::1:role/x"}}) == (
        "Role arn is invalid"
    )
    assert refused({"type": "AmazonS3", "body": {**s3, "workspaceId": "f" * 32}}) == (
        "User does not have access to workspace"
    )
    azure = {
        "name": "blob",
        "storageAccountName": "acmeplanning",
        "containerName": "inbound",
        "sasToken": "sv=2024&sig=ok",
        "workspaceId": demo.workspace_id,
    }
    assert refused({"type": "AzureBlob", "body": azure}) == "Invalid request body"  # no auth_method
    assert refused(
        {
            "type": "AzureBlob",
            "body": {**azure, "storageAccountName": "z", "auth_method": "SAS-based"},
        }
    ) == ("Credentials are invalid")
    bigquery = {"name": "bq", "dataset": "nope", "serviceAccountKey": {"clientEmail": "a@b"}}
    assert refused({"type": "GoogleBigQuery", "body": bigquery}) == "Invalid Dataset"
    # both spellings of Azure's auth method are taken (the docs' snake case, the SDK's camel)
    ok(
        api.post(
            f"{CW}/connections",
            json={"type": "AzureBlob", "body": {**azure, "auth_method": "SAS-based"}},
        )
    )
    ok(
        api.post(
            f"{CW}/connections",
            json={
                "type": "AzureBlob",
                "body": {**azure, "name": "blob 2", "authMethod": "SAS-based"},
            },
        )
    )
    assert refused({"type": "AmazonS3", "body": {**s3, "name": "blob"}}) == (
        "Duplicate resource name not allowed"
    )


def test_connection_list_hides_secrets_and_put_patch_delete(api: httpx2.Client, demo: Demo) -> None:
    connection_id = s3_connection(api, demo)
    listed = ok(api.get(f"{CW}/connections"))
    assert listed["meta"]["paging"] == {"currentPageSize": 1, "totalSize": 1, "offset": 0}
    (record,) = listed["connections"]
    assert record["connectionId"] == connection_id
    assert record["connectionType"] == "AmazonS3"
    assert record["body"] == {"name": "landing zone", "bucketName": "landing"}  # no secrets
    assert record["status"] == 1
    assert record["integrationErrorCode"] is None
    assert record["workspaceId"] == demo.workspace_id
    assert record["createdBy"] == "Demo User"
    assert record["creationDate"].endswith("Z")
    assert record["authMethod"] is None
    # PUT wants the complete body, secrets included; PATCH takes a subset
    body = assert_error(api.put(f"{CW}/connections/{connection_id}", json={"name": "renamed"}), 400)
    assert body["status"]["message"] == "Invalid request body"
    full = {
        "name": "renamed",
        "accessKeyId": KEY,
        "secretAccessKey": SECRET,
        "bucketName": "landing",
        "workspaceId": demo.workspace_id,
    }
    assert ok(api.put(f"{CW}/connections/{connection_id}", json=full)) == {
        "status": {"code": 200, "message": "Success"}
    }
    ok(api.patch(f"{CW}/connections/{connection_id}", json={"name": "patched"}))
    assert ok(api.get(f"{CW}/connections"))["connections"][0]["body"]["name"] == "patched"
    bad = {"secretAccessKey": "wrong"}
    body = assert_error(api.patch(f"{CW}/connections/{connection_id}", json=bad), 400)
    assert body["status"]["message"] == "Credentials are invalid"
    # in use by an integration: 409; free again: deleted
    integration_id = create(api, import_body(demo, connection_id))
    body = assert_error(api.delete(f"{CW}/connections/{connection_id}"), 409)
    assert body["status"]["message"] == "The resource is being referenced"
    ok(api.delete(f"{CW}/{integration_id}"))
    ok(api.delete(f"{CW}/connections/{connection_id}"))
    assert_error(api.delete(f"{CW}/connections/{connection_id}"), 404)


# == integrations =============================================================================
def test_integration_create_refusals(api: httpx2.Client, demo: Demo) -> None:
    connection_id = s3_connection(api, demo)
    good = import_body(demo, connection_id)

    def refused(body: dict[str, Any], status: int = 400) -> str:
        message: str = assert_error(api.post(CW, json=body), status)["status"]["message"]
        return message

    assert (
        refused({**good, "version": "1.0"}) == "This API version is not supported for this request"
    )
    assert refused({k: v for k, v in good.items() if k != "name"}) == (
        "Integration payload is not compliant with the schema"
    )
    assert refused({**good, "jobs": good["jobs"] * 2}, 409) == (
        "Only a single job is supported by import/export integration"
    )
    assert refused({**good, "modelId": "0" * 32}) == "User does not have access to model"
    assert refused({**good, "workspaceId": "0" * 32}) == "User does not have access to workspace"
    job = good["jobs"][0]
    wrong_action = {**job, "targets": [{**job["targets"][0], "actionId": "112000000099"}]}
    assert refused({**good, "jobs": [wrong_action]}) == (
        "Action(s) you included, 112000000099 are not defined in your Anaplan model."
    )
    no_connection = {**job, "sources": [{**job["sources"][0], "connectionId": "a" * 32}]}
    assert refused({**good, "jobs": [no_connection]}, 404) == "Invalid connection_id"
    escaping = {**job, "sources": [{**job["sources"][0], "file": "../outside.csv"}]}
    assert refused({**good, "jobs": [escaping]}) == (
        "Integration payload is not compliant with the schema"
    )
    create(api, good)
    assert refused(good) == "Duplicate resource name not allowed"
    assert ok(api.get(CW))["meta"]["tenantCurrentCount"] == 1  # nothing half-made


def test_integration_list_get_put_delete(api: httpx2.Client, demo: Demo) -> None:
    connection_id = s3_connection(api, demo)
    import_id = create(api, import_body(demo, connection_id, name="b import"))
    export_id = create(api, export_body(demo, connection_id, name="a export"))
    process_id = create(
        api,
        {
            "name": "c process",
            "version": "2.0",
            "workspaceId": demo.workspace_id,
            "modelId": demo.model_id,
            "processId": demo.processes["Nightly Load"],
        },
    )
    listed = ok(api.get(CW, params={"sortBy": "name"}))["integrations"]
    assert [i["name"] for i in listed] == ["a export", "b import", "c process"]
    assert [i["integrationType"] for i in listed] == ["Export", "Import", "Process"]
    assert all("jobs" not in i for i in listed)
    assert listed[2]["processId"] == demo.processes["Nightly Load"]
    assert listed[0]["latestRun"] == {}
    assert all(len(i["notificationId"]) == 32 for i in listed)  # made with the integration
    assert [i["name"] for i in ok(api.get(CW, params={"sortBy": "-name"}))["integrations"]] == [
        "c process",
        "b import",
        "a export",
    ]
    single = ok(api.get(f"{CW}/{import_id}"))["integration"]
    assert "integrationType" not in single
    assert single["version"] == "2.0"
    assert single["schedule"] is None
    source = single["jobs"][0]["sources"][0]
    assert source["connectionName"] == "landing zone"
    assert source["isConnectionDeleted"] is False
    assert source["bucketName"] == "landing"
    assert (
        ok(api.get(f"{CW}/{export_id}"))["integration"]["jobs"][0]["targets"][0]["overwrite"]
        is False
    )  # the server's default
    assert "jobs" not in ok(api.get(f"{CW}/{process_id}"))["integration"]
    renamed = {**import_body(demo, connection_id), "name": "renamed import"}
    assert ok(api.put(f"{CW}/{import_id}", json=renamed)) == {
        "status": {"code": 200, "message": "Success"}
    }
    assert ok(api.get(f"{CW}/{import_id}"))["integration"]["name"] == "renamed import"
    ok(api.delete(f"{CW}/{process_id}"))
    assert_error(api.get(f"{CW}/{process_id}"), 404)
    assert ok(api.get(CW))["meta"]["paging"]["totalSize"] == 2


def test_paging_defaults_to_25_and_caps_at_250(api: httpx2.Client, demo: Demo) -> None:
    connection_id = s3_connection(api, demo)
    for index in range(27):
        create(api, import_body(demo, connection_id, name=f"import {index:02d}"))
    first = ok(api.get(CW))
    assert first["meta"]["paging"] == {"currentPageSize": 25, "totalSize": 27, "offset": 0}
    rest = ok(api.get(CW, params={"offset": 25, "limit": 5000}))
    assert rest["meta"]["paging"] == {"currentPageSize": 2, "totalSize": 27, "offset": 25}
    names = [i["name"] for i in first["integrations"] + rest["integrations"]]
    assert names == [f"import {index:02d}" for index in range(27)]


# == runs of each type ========================================================================
def test_an_import_run_loads_the_buckets_rows_into_the_model(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    status = run(api, integration_id)
    assert status["success"] is True
    assert status["message"] == "Success"
    assert status["executionErrorCode"] is None
    assert status["triggerSource"] == "manual"
    assert status["integrationId"] == integration_id
    assert {"E0000001", "E0000002", "E0000003"} <= employee_codes(api, demo)
    assert ok(api.get(f"{CW}/runerror/{status['id']}"))["runs"] == {}
    body = assert_error(api.get(f"{CW}/run/{status['id']}/dumps"), 404)
    assert body["status"]["message"] == "Your integration run was successful / no errors"
    history = ok(api.get(f"{CW}/runs/{integration_id}"))["history_of_runs"]
    assert history["integrationType"] == "Import"
    assert history["totalRuns"] == 1
    (record,) = history["runs"]
    assert record["id"] == status["id"]
    assert isinstance(record["lastRun"], int)
    assert record["triggeredBy"] == "Demo User"
    assert len(record["traceId"]) == 32
    latest = ok(api.get(f"{CW}/{integration_id}"))["integration"]["latestRun"]
    assert latest["success"] is True
    assert latest["endDate"] == status["endDate"]


def test_a_failed_import_run_has_errors_and_a_dump_naming_the_rejected_rows(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS + BAD_ROWS)
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    status = run(api, integration_id)
    assert status["success"] is False
    assert status["executionErrorCode"] == 38  # partial success
    assert "2 failed" in status["message"]
    errors = ok(api.get(f"{CW}/runerror/{status['id']}"))["runs"]
    assert len(errors["taskId"]) == 32
    (message,) = errors["errorMessages"]
    assert message["actionId"] == demo.imports["Load Employees"]
    assert message["actionName"] == "Load Employees"
    assert message["failureDumpGenerated"] is True
    assert message["errorMessage"][0]["type"] == "hierarchyRowsProcessedWithFailures"
    dump = api.get(f"{CW}/run/{status['id']}/dumps")
    assert dump.status_code == 200
    assert dump.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(dump.text)))
    assert [row["Employee ID"] for row in rows] == ["E0000004", "E0000005"]
    assert all(row["_Error_1_"] for row in rows)
    assert {"E0000001", "E0000002", "E0000003"} <= employee_codes(api, demo)
    assert not {"E0000004", "E0000005"} & employee_codes(api, demo)
    # every row bad: a failure (12), still with its dump
    put_source(buckets, BAD_ROWS)
    failed = run(api, integration_id)
    assert failed["success"] is False
    assert failed["executionErrorCode"] == 12
    assert api.get(f"{CW}/run/{failed['id']}/dumps").status_code == 200
    history = ok(api.get(f"{CW}/runs/{integration_id}"))["history_of_runs"]
    assert [r["id"] for r in history["runs"]] == [failed["id"], status["id"]]  # newest first


def test_a_missing_source_file_fails_the_run(api: httpx2.Client, demo: Demo) -> None:
    integration_id = create(api, import_body(demo, s3_connection(api, demo), file="no/such.csv"))
    status = run(api, integration_id)
    assert status["success"] is False
    assert "no/such.csv" in status["message"]


def test_an_export_run_writes_the_file_into_the_bucket(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    connection_id = s3_connection(api, demo)
    run(api, create(api, import_body(demo, connection_id)))
    headcount = import_body(demo, connection_id, name="Load headcount", action="Load Headcount")
    assert run(api, create(api, headcount))["success"] is True
    kept = create(api, export_body(demo, connection_id))  # overwrite false: a file per run
    assert run(api, kept)["success"] is True
    assert run(api, kept)["success"] is True
    written = sorted((buckets["landing"] / "out").iterdir())
    assert len(written) == 2
    assert all(path.name.startswith("Headcount Export") for path in written)
    rows = list(csv.DictReader(io.StringIO(written[0].read_text(encoding="utf-8"))))
    assert {row["Employees"] for row in rows} == {"E0000001", "E0000002", "E0000003"}
    assert {row["Salary"] for row in rows} == {"100000", "90000", "80000"}
    replaced = create(api, export_body(demo, connection_id, overwrite=True, name="overwrite"))
    shutil.rmtree(buckets["landing"] / "out")
    run(api, replaced)
    run(api, replaced)
    assert len(list((buckets["landing"] / "out").iterdir())) == 1


def test_a_process_run_stages_its_import_and_collects_its_export(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS + BAD_ROWS)
    connection_id = s3_connection(api, demo)
    process = demo.processes["Nightly Load"]
    body = {
        "name": "nightly",
        "version": "2.0",
        "workspaceId": demo.workspace_id,
        "modelId": demo.model_id,
        "processId": process,
        "jobs": [
            import_body(demo, connection_id)["jobs"][0],
            export_body(demo, connection_id, overwrite=True)["jobs"][0],
        ],
    }
    integration_id = create(api, body)
    status = run(api, integration_id)
    assert status["executionErrorCode"] == 38, status
    assert {"E0000001", "E0000002", "E0000003"} <= employee_codes(api, demo)
    (exported,) = (buckets["landing"] / "out").iterdir()
    assert "E0000001" in exported.read_text(encoding="utf-8")
    errors = ok(api.get(f"{CW}/runerror/{status['id']}"))["runs"]
    assert {m["actionName"] for m in errors["errorMessages"]} >= {"Load Employees"}
    load = demo.imports["Load Employees"]
    dump = api.get(f"{CW}/run/{status['id']}/process/import/{load}/dumps")
    assert dump.status_code == 200, dump.text
    assert [r["Employee ID"] for r in csv.DictReader(io.StringIO(dump.text))] == [
        "E0000004",
        "E0000005",
    ]
    assert_error(api.get(f"{CW}/run/{status['id']}/dumps"), 404)  # a process's are per import
    # an action that is not in the process is refused
    foreign = {**body, "name": "foreign", "processId": process, "jobs": body["jobs"][:1]}
    foreign["jobs"] = [
        {
            **foreign["jobs"][0],
            "targets": [{**foreign["jobs"][0]["targets"][0], "actionId": "112000000099"}],
        }
    ]
    assert "are not defined" in assert_error(api.post(CW, json=foreign), 400)["status"]["message"]


def test_bigquery_and_azure_runs(api: httpx2.Client, demo: Demo, buckets: dict[str, Path]) -> None:
    blob = ok(
        api.post(
            f"{CW}/connections",
            json={
                "type": "AzureBlob",
                "body": {
                    "name": "blob",
                    "storageAccountName": "acmeplanning",
                    "containerName": "inbound",
                    "sasToken": "sv=2024&sig=ok",
                    "authMethod": "SAS-based",
                    "workspaceId": demo.workspace_id,
                },
            },
        )
    )["connections"]["connectionId"]
    (buckets["blob"] / "employees.csv").write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    job = import_body(demo, blob)["jobs"][0]
    job = {
        **job,
        "type": "AzureBlobToAnaplan",
        "sources": [{"type": "AzureBlob", "connectionId": blob, "file": "employees.csv"}],
    }
    body = {**import_body(demo, blob), "name": "from azure", "jobs": [job]}
    assert run(api, create(api, body))["success"] is True
    bigquery = ok(
        api.post(
            f"{CW}/connections",
            json={
                "type": "GoogleBigQuery",
                "body": {
                    "name": "bq",
                    "dataset": "planning_dataset",
                    "serviceAccountKey": {"type": "service_account", "clientEmail": "x@y"},
                    "workspaceId": demo.workspace_id,
                },
            },
        )
    )["connections"]["connectionId"]
    export = {
        "type": "AnaplanToGoogleBigQuery",
        "sources": [{"type": "Anaplan", "actionId": demo.exports["Headcount Export"]}],
        "targets": [
            {
                "type": "GoogleBigQuery",
                "connectionId": bigquery,
                "table": "headcount",
                "overwrite": True,
            }
        ],
        "mapping": [
            {"sourceName": "Employees", "targetName": "employee"},
            {"sourceName": "Salary", "targetName": "salary"},
        ],
    }
    no_mapping = {k: v for k, v in export.items() if k != "mapping"}
    base = {**import_body(demo, bigquery), "name": "to bigquery"}
    assert_error(api.post(CW, json={**base, "jobs": [no_mapping]}), 400)
    assert run(api, create(api, {**base, "jobs": [export]}))["success"] is True
    table = (buckets["warehouse"] / "headcount.csv").read_text(encoding="utf-8")
    assert table.splitlines()[0] == "employee,salary"


# == cancel, conflicts, polls =================================================================
def test_cancel_a_run_in_flight(api: httpx2.Client, demo: Demo, buckets: dict[str, Path]) -> None:
    put_source(buckets, GOOD_ROWS)
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    body = assert_error(api.post(f"{CW}/{integration_id}/cancel"), 409)
    assert body["status"]["message"] == f"Integration {integration_id} is not in running state"
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))  # the task waits to start
    run_id = ok(api.post(f"{CW}/{integration_id}/run"))["run"]["id"]
    running = ok(api.get(f"{CW}/run/{run_id}"))["run"]
    assert running["message"] == "Running"
    assert running["endDate"] is None
    assert running["success"] is False
    latest = ok(api.get(CW))["integrations"][0]["latestRun"]
    assert latest["message"] == "Running"
    assert latest["endDate"] is None
    message = assert_error(api.post(f"{CW}/{integration_id}/run"), 409)["status"]["message"]
    assert message == "Integration is already running"
    assert_error(api.delete(f"{CW}/{integration_id}"), 409)
    cancelled = ok(api.post(f"{CW}/{integration_id}/cancel"))
    assert cancelled["success"] is True
    assert cancelled["message"] == {"integration_id": integration_id, "state": "cancelled"}
    status = wait_run(api, run_id)
    assert status["success"] is False
    assert status["message"] == "Cancelled"
    assert "E0000001" not in employee_codes(api, demo)


def test_run_status_reads_move_a_run_under_the_polls_progression(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    ok(api.put("/_emulator/progression", json={"mode": "polls", "polls": 3}))
    run_id = ok(api.post(f"{CW}/{integration_id}/run"))["run"]["id"]
    reads = 0
    deadline = time.monotonic() + 60
    while ok(api.get(f"{CW}/run/{run_id}"))["run"]["endDate"] is None:
        reads += 1
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert reads >= 2  # it took its three polls
    assert ok(api.get(f"{CW}/run/{run_id}"))["run"]["success"] is True


# == schedules ================================================================================
def test_schedules_are_validated_stored_and_fire_on_the_emulators_clock(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path], clock: FakeClock
) -> None:
    put_source(buckets, GOOD_ROWS)
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    path = f"{CW}/{integration_id}/schedule"
    today = time.strftime("%Y-%m-%d", time.gmtime(clock.now))
    daily = {
        "name": "every morning",
        "type": "daily",
        "timezone": "Europe/London",
        "startDate": today,
        "time": "23:59",
    }
    message = assert_error(api.post(path, json={"schedule": daily}), 400)["status"]["message"]
    assert message == "Invalid value for integration_id"
    for broken in (
        {**daily, "type": "fortnightly"},
        {**daily, "time": "25:00"},
        {**daily, "timezone": "Mars/Olympus"},
        {**daily, "startDate": "2020-01-01"},
        {**daily, "type": "weekly", "daysOfWeek": [7]},
    ):
        body = {"integrationId": integration_id, "schedule": broken}
        assert (
            assert_error(api.post(path, json=body), 400)["status"]["message"] == "Invalid Schedule"
        )
    body = {"integrationId": integration_id, "schedule": daily}
    assert ok(api.post(path, json=body)) == {"status": {"code": 200, "message": "Success"}}
    message = assert_error(api.post(path, json=body), 400)["status"]["message"]
    assert message == "Only a single schedule is supported per integration"
    shown = ok(api.get(f"{CW}/{integration_id}"))["integration"]["schedule"]
    assert shown == {**daily, "status": "Active"}
    ok(api.post(f"{path}/status/disabled"))
    assert ok(api.get(CW))["integrations"][0]["schedule"]["status"] == "Inactive"
    clock.advance(86_400)
    api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"  # a day: tokens expired
    assert ok(api.post("/_emulator/cloudworks/schedules/fire"))["runs"] == []  # disabled
    ok(api.post(f"{path}/status/enabled"))
    weekly = {**daily, "type": "weekly", "daysOfWeek": list(range(7)), "time": "06:00"}
    weekly["startDate"] = time.strftime("%Y-%m-%d", time.gmtime(clock.now))
    ok(api.put(path, json={"integrationId": integration_id, "schedule": weekly}))
    clock.advance(2 * 86_400)
    api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"
    ok(api.post("/_emulator/cloudworks/schedules/fire"))  # (or the emulator's own look at it)
    runs = ok(api.get(f"{CW}/runs/{integration_id}"))["history_of_runs"]["runs"]
    assert len(runs) == 1  # one run for the turn that came due, whoever fired it
    status = wait_run(api, runs[0]["id"])
    assert status["triggerSource"] == "scheduled"
    assert status["success"] is True
    assert ok(api.post("/_emulator/cloudworks/schedules/fire"))["runs"] == []  # not due again yet
    assert ok(api.get(f"{CW}/runs/{integration_id}"))["history_of_runs"]["totalRuns"] == 1
    ok(api.delete(path))
    assert ok(api.get(f"{CW}/{integration_id}"))["integration"]["schedule"] is None
    assert_error(api.delete(path), 404)


# == notifications ============================================================================
def test_notification_configurations(api: httpx2.Client, demo: Demo) -> None:
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    notification_id = ok(api.get(f"{CW}/{integration_id}"))["integration"]["notificationId"]
    auto = ok(api.get(f"{CW}/notification/{notification_id}"))["notifications"]
    assert auto["integrationIds"] == [integration_id]
    me = ok(api.get("/2/0/users/me"))["user"]["id"]
    config = {
        "integrationIds": [integration_id],
        "channels": ["email", "in_app"],
        "notifications": {
            "config": [{"type": "full_failure", "users": [me]}, {"type": "success", "users": [me]}]
        },
    }
    message = assert_error(api.post(f"{CW}/notification", json=config), 400)["status"]["message"]
    assert message == "Duplicate resource name not allowed"  # it has one already
    ok(api.put(f"{CW}/notification/{notification_id}", json=config))
    shown = ok(api.get(f"{CW}/notification/{notification_id}"))["notifications"]
    assert shown["channels"] == ["email", "in_app"]
    assert shown["notifications"]["config"][0] == {
        "type": "full_failure",
        "users": [{"userGuid": me, "firstName": "Demo", "lastName": "User"}],
    }
    for bad in (
        {**config, "channels": []},
        {**config, "notifications": {"config": [{"type": "success", "users": []}]}},
        {**config, "notifications": {"config": [{"type": "success", "users": [me] * 6}]}},
        {**config, "notifications": {"config": [{"type": "sometimes", "users": [me]}]}},
    ):
        assert_error(api.put(f"{CW}/notification/{notification_id}", json=bad), 400)
    ok(api.delete(f"{CW}/notification/{notification_id}"))
    assert ok(api.get(f"{CW}/{integration_id}"))["integration"]["notificationId"] is None
    created = ok(api.post(f"{CW}/notification", json=config))["notification"]["notificationId"]
    assert ok(api.get(f"{CW}/{integration_id}"))["integration"]["notificationId"] == created
    assert_error(api.get(f"{CW}/notification/{notification_id}"), 404)


# == integration flows ========================================================================
def test_integration_flows_run_their_steps_in_order(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    connection_id = s3_connection(api, demo)
    load = create(api, import_body(demo, connection_id))
    send = create(api, export_body(demo, connection_id, overwrite=True))
    broken = create(api, import_body(demo, connection_id, file="missing.csv", name="broken"))

    def step(referrer: str, depends: list[str], **extra: Any) -> dict[str, Any]:
        return {"type": "Integration", "referrer": referrer, "dependsOn": depends, **extra}

    lonely = {"name": "f", "version": "2.0", "type": "IntegrationFlow", "steps": [step(load, [])]}
    assert assert_error(api.post(FLOWS, json=lonely), 400)["status"]["message"] == (
        "Integration flow error"
    )
    flow = {**lonely, "name": "nightly flow", "steps": [step(load, []), step(send, [load])]}
    created = ok(api.post(FLOWS, json=flow))
    flow_id = created["integrationFlow"]["integrationFlowId"]
    listed = ok(api.get(FLOWS))
    assert listed["meta"]["paging"]["totalSize"] == 1
    (summary,) = listed["integrationFlows"]
    assert summary["id"] == flow_id
    assert summary["stepsCount"] == 2
    detail = ok(api.get(f"{FLOWS}/{flow_id}"))["integrationFlow"]
    assert [s["type"] for s in detail["steps"]] == ["Import", "Export"]
    assert detail["steps"][1]["dependsOn"] == [load]
    assert detail["steps"][0]["exceptionBehavior"] == [
        {"type": "failure", "strategy": "stop"},
        {"type": "partial_success", "strategy": "continue"},
    ]
    assert " " in detail["steps"][0]["createdDate"]  # flow steps: space and microseconds
    run_id = ok(api.post(f"{FLOWS}/{flow_id}/run"))["run"]["id"]
    deadline = time.monotonic() + 60
    while not (latest := ok(api.get(f"{FLOWS}/{flow_id}"))["integrationFlow"]["latestRun"]).get(
        "endDate"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert latest["success"] is True
    assert (buckets["landing"] / "out" / "Headcount Export").exists() or list(
        (buckets["landing"] / "out").iterdir()
    )
    for member in (load, send):
        (record,) = ok(api.get(f"{CW}/runs/{member}"))["history_of_runs"]["runs"]
        status = ok(api.get(f"{CW}/run/{record['id']}"))["run"]
        assert status["flowGroupId"] == run_id
    # a failing first step stops the flow (failure → stop)
    stopping = {**flow, "name": "stops", "steps": [step(broken, []), step(load, [broken])]}
    stop_id = ok(api.post(FLOWS, json=stopping))["integrationFlow"]["integrationFlowId"]
    ok(api.post(f"{FLOWS}/{stop_id}/run"))
    deadline = time.monotonic() + 60
    while not (latest := ok(api.get(f"{FLOWS}/{stop_id}"))["integrationFlow"]["latestRun"]).get(
        "endDate"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert latest["success"] is False
    assert ok(api.get(f"{CW}/runs/{load}"))["history_of_runs"]["totalRuns"] == 1  # not run again
    ok(api.put(f"{FLOWS}/{flow_id}", json={**flow, "name": "renamed flow"}))
    assert ok(api.get(f"{FLOWS}/{flow_id}"))["integrationFlow"]["name"] == "renamed flow"
    ok(api.delete(f"{FLOWS}/{flow_id}"))
    assert_error(api.get(f"{FLOWS}/{flow_id}"), 404)


# == roles and scope ==========================================================================
def test_roles_and_workspace_scope(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator
) -> None:
    connection_id = s3_connection(api, demo)
    integration_id = create(api, import_body(demo, connection_id))
    other = next(
        w["id"]
        for w in ok(api.get("/2/0/workspaces"))["workspaces"]
        if w["name"] == "Other Workspace"
    )
    hidden = ok(
        api.post(
            f"{CW}/connections",
            json={
                "type": "AmazonS3",
                "body": {
                    "name": "elsewhere",
                    "accessKeyId": KEY,
                    "secretAccessKey": SECRET,
                    "bucketName": "landing",
                    "workspaceId": other,
                },
            },
        )
    )["connections"]["connectionId"]
    with as_user(emulator, "outsider@example.com", "outsider") as outsider:
        body = assert_error(outsider.get(CW), 403)
        assert body["status"]["message"] == "Not Permitted"
        body = assert_error(outsider.post(f"{CW}/{integration_id}/schedule", json={}), 452)
        assert body["status"]["message"] == "Tenant not entitled"
        assert_error(outsider.get(f"{CW}/run/{'0' * 32}/dumps"), 452)
    with as_user(emulator, "viewer@example.com", "viewer") as viewer:  # restricted: one workspace
        ids = [c["connectionId"] for c in ok(viewer.get(f"{CW}/connections"))["connections"]]
        assert ids == [connection_id]
        assert hidden not in ids
        assert [i["integrationId"] for i in ok(viewer.get(CW))["integrations"]] == [integration_id]
        unplaced = {
            "type": "AmazonS3",
            "body": {
                "name": "nowhere",
                "accessKeyId": KEY,
                "secretAccessKey": SECRET,
                "bucketName": "landing",
            },
        }
        body = assert_error(viewer.post(f"{CW}/connections", json=unplaced), 400)
        assert body["status"]["message"] == "User does not have access to workspace"
        assert_error(viewer.delete(f"{CW}/connections/{hidden}"), 404)
    ids = [c["connectionId"] for c in ok(api.get(f"{CW}/connections"))["connections"]]
    assert ids == [connection_id, hidden]  # the integration admin sees the whole tenant
    assert ok(api.get(CW, params={"myIntegrations": "1"}))["meta"]["paging"]["totalSize"] == 1


def test_reset_forgets_cloudworks(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator
) -> None:
    create(api, import_body(demo, s3_connection(api, demo)))
    emulator.control.reset()
    api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"
    assert ok(api.get(CW))["integrations"] == []
    assert ok(api.get(f"{CW}/connections"))["connections"] == []


def test_openapi_lists_every_cloudworks_operation_under_both_bases(api: httpx2.Client) -> None:
    document = ok(api.get("/_emulator/openapi.json"))
    operations = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith(("/2/0/integration", "/cloudworks/2/0/"))
    }
    assert len(operations) == 2 * 32
    assert ("post", "/cloudworks/2/0/integrations/{integrationId}/run") in operations
    removed = document["paths"]["/2/0/integrations/anaplanModels/{modelId}"]["get"]
    assert removed["deprecated"] is True


def test_a_restart_keeps_cloudworks_and_ends_a_run_it_cut_short(
    tmp_path: Path, buckets: dict[str, Path]
) -> None:
    definition = tmp_path / "buckets.toml"
    definition.write_text(
        f'[[buckets]]\nname = "landing"\npath = "{buckets["landing"]}"\n', encoding="utf-8"
    )
    put_source(buckets, GOOD_ROWS)
    data = tmp_path / "data"
    manual = Progression(mode="manual")
    with (
        run_emulator(
            data_dir=data, demo=True, definitions=[definition], progression=manual
        ) as first,
        httpx2.Client(base_url=first.base_url, timeout=30) as api,
    ):
        api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"
        found = Demo(**_demo_ids(api))
        integration_id = create(api, import_body(found, s3_connection(api, found)))
        run_id = ok(api.post(f"{CW}/{integration_id}/run"))["run"]["id"]
        assert ok(api.get(f"{CW}/run/{run_id}"))["run"]["message"] == "Running"
    with (
        run_emulator(data_dir=data, demo=True, definitions=[definition]) as second,
        httpx2.Client(base_url=second.base_url, timeout=30) as api,
    ):
        api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"
        status = ok(api.get(f"{CW}/run/{run_id}"))["run"]
        assert status["endDate"] is not None
        assert status["success"] is False
        assert "stopped" in status["message"]
        assert ok(api.get(f"{CW}/{integration_id}"))["integration"]["name"] == "Load employees"
        assert run(api, integration_id)["success"] is True  # no longer "already running"


def test_cloudworks_stops_with_its_engine() -> None:
    with run_emulator() as running, httpx2.Client(base_url=running.base_url) as client:
        assert client.get(CW).status_code == 403  # no token: CloudWorks is not even made
        running.control.load_definition('[[users]]\nemail = "a@b.c"\npassword = "p"\n')
        client.headers["Authorization"] = f"AnaplanAuthToken {login(client, 'a@b.c', 'p')}"
        assert client.get(CW).status_code == 403  # a user in no workspace: no role
        service = service_of(running.engine)
        assert service is not None
        scheduler = service.scheduler
        assert scheduler is not None
        assert scheduler.is_alive()
    scheduler.join(10)  # the closed engine's CloudWorks stops looking at its schedules
    assert not scheduler.is_alive()


def _demo_ids(api: httpx2.Client) -> dict[str, Any]:
    workspace = next(
        w for w in ok(api.get("/2/0/workspaces"))["workspaces"] if w["name"] == "Demo Workspace"
    )
    models = ok(api.get(f"/2/0/workspaces/{workspace['id']}/models"))["models"]
    model = next(m for m in models if m["name"] == "FP&A Dev")
    base = f"/2/0/models/{model['id']}"
    imports = {i["name"]: i["id"] for i in ok(api.get(f"{base}/imports"))["imports"]}
    files = ok(api.get(f"{base}/files"))["files"]
    return {
        "workspace_id": workspace["id"],
        "model_id": model["id"],
        "prod_model_id": "",
        "file_id": next(f["id"] for f in files if f["name"] == "employees.csv"),
        "imports": imports,
    }


def test_resets_while_runs_are_in_flight_leave_nothing_behind(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    for _ in range(3):
        api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"
        ok(api.put("/_emulator/progression", json={"mode": "fixed", "seconds": 0.2}))
        connection_id = s3_connection(api, demo)
        for index in range(3):
            integration_id = create(api, import_body(demo, connection_id, name=f"i{index}"))
            ok(api.post(f"{CW}/{integration_id}/run"))
        emulator.control.reset()  # runs in flight: their threads must end without a trace
    api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"
    time.sleep(0.3)  # past the runs' would-be end
    assert ok(api.get(CW))["integrations"] == []
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    assert run(api, integration_id)["success"] is True
    assert ok(api.get(f"{CW}/runs/{integration_id}"))["history_of_runs"]["totalRuns"] == 1


def test_a_definition_names_cloudworks_roles(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator
) -> None:
    emulator.control.load_definition(
        """
[[users]]
email = "scoped@example.com"
password = "p"
cloudworks_role = "restricted_integration_user"

[[users]]
email = "member@example.com"
password = "p"
cloudworks_role = "none"

[[workspaces]]
name = "Member Workspace"
users = ["member@example.com"]
"""
    )
    create(api, import_body(demo, s3_connection(api, demo)))
    with as_user(emulator, "scoped@example.com", "p") as scoped:  # the role, no workspace
        assert ok(scoped.get(CW))["integrations"] == []
        assert ok(scoped.get(f"{CW}/connections"))["connections"] == []
    with as_user(emulator, "member@example.com", "p") as member:  # a workspace, no role
        assert assert_error(member.get(CW), 403)["status"]["message"] == "Not Permitted"


def test_the_tenant_holds_500_integrations_flows_included(
    api: httpx2.Client, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloudworks_engine, "TENANT_MAX", 3)  # the same check, fewer creations
    connection_id = s3_connection(api, demo)
    first = create(api, import_body(demo, connection_id, name="one"))
    second = create(api, import_body(demo, connection_id, name="two"))
    steps = [
        {"type": "Integration", "referrer": first, "dependsOn": []},
        {"type": "Integration", "referrer": second, "dependsOn": [first]},
    ]
    ok(api.post(FLOWS, json={"name": "flow", "steps": steps}))
    body = assert_error(api.post(CW, json=import_body(demo, connection_id, name="four")), 409)
    assert body["status"]["message"] == "Total number of integrations exceeded the limit"
    assert ok(api.get(CW))["meta"]["tenantCurrentCount"] == 3


def test_a_run_acts_as_its_caller_with_their_model_role(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    with as_user(emulator, "viewer@example.com", "viewer") as viewer:  # model role "Viewer"
        status = run(viewer, integration_id)
    assert status["success"] is False
    assert "model role 'Viewer'" in status["message"], status["message"]
    history = ok(api.get(f"{CW}/runs/{integration_id}"))["history_of_runs"]["runs"]
    assert history[0]["triggeredBy"] == "View Only"
    assert "E0000001" not in employee_codes(api, demo)


def test_concurrent_starts_of_one_integration_make_one_run(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    integration_id = create(api, import_body(demo, s3_connection(api, demo)))
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))  # the first run stays in flight
    headers = dict(api.headers)

    def start() -> int:
        with httpx2.Client(base_url=str(api.base_url), headers=headers, timeout=30) as client:
            return client.post(f"{CW}/{integration_id}/run").status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: start(), range(8)))
    assert codes == [200] + [409] * 7
    assert ok(api.get(f"{CW}/runs/{integration_id}"))["history_of_runs"]["totalRuns"] == 1
    ok(api.post(f"{CW}/{integration_id}/cancel"))


def test_a_flow_runs_only_the_steps_asked_for(
    api: httpx2.Client, demo: Demo, buckets: dict[str, Path]
) -> None:
    put_source(buckets, GOOD_ROWS)
    connection_id = s3_connection(api, demo)
    load = create(api, import_body(demo, connection_id))
    send = create(api, export_body(demo, connection_id, overwrite=True))
    steps = [
        {"type": "Integration", "referrer": load, "dependsOn": []},
        {"type": "Integration", "referrer": send, "dependsOn": [load]},
    ]
    flow_id = ok(api.post(FLOWS, json={"name": "two", "steps": steps}))["integrationFlow"][
        "integrationFlowId"
    ]
    bad = api.post(f"{FLOWS}/{flow_id}/run", json={"stepsToRun": ["f" * 32]})
    assert assert_error(bad, 400)["status"]["message"] == "Integration flow error"
    ok(api.post(f"{FLOWS}/{flow_id}/run", json={"stepsToRun": [send]}))
    deadline = time.monotonic() + 60
    while not ok(api.get(f"{FLOWS}/{flow_id}"))["integrationFlow"]["latestRun"].get("endDate"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert ok(api.get(f"{CW}/runs/{send}"))["history_of_runs"]["totalRuns"] == 1
    assert ok(api.get(f"{CW}/runs/{load}"))["history_of_runs"]["totalRuns"] == 0


def test_a_connection_whose_bucket_changed_reads_invalid(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator, buckets: dict[str, Path]
) -> None:
    s3_connection(api, demo)
    emulator.control.load_definition(  # the same bucket, now with other credentials
        f'[[buckets]]\nname = "landing"\npath = "{buckets["landing"]}"\naccess_key_id = "rotated"\n'
    )
    (record,) = ok(api.get(f"{CW}/connections"))["connections"]
    assert (record["status"], record["integrationErrorCode"]) == (0, 1)
