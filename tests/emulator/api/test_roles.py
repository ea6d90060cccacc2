"""Model roles over loopback: who may start which action, upload, create files and cancel.

The demo's viewer has a role that grants nothing: it views. A definition's own roles grant named
actions (and the files their imports read); No Access hides the model's content behind 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.server import RunningEmulator

from .conftest import Demo, assert_error, login, ok

EN_US = {"localeName": "en_US"}
OCTETS = {"Content-Type": "application/octet-stream"}

ROLES_DEFINITION = """
[[users]]
email = "owner@example.com"
password = "owner"
[[users]]
email = "loader@example.com"
password = "loader"
[[users]]
email = "runner@example.com"
password = "runner"
[[users]]
email = "outsider@example.com"
password = "outsider"
[[users]]
email = "builder@example.com"
password = "builder"

[[workspaces]]
name = "Roles"
admins = ["owner@example.com"]
users = ["loader@example.com", "runner@example.com", "outsider@example.com",
         "builder@example.com"]

[[workspaces.models]]
name = "Shop"
[[workspaces.models.lists]]
name = "Products"
[[workspaces.models.files]]
name = "products.csv"
[[workspaces.models.files]]
name = "prices.csv"
[[workspaces.models.imports]]
name = "Load Products"
file = "products.csv"
target_list = "Products"
mapping = { code = "Code" }
[[workspaces.models.exports]]
name = "Products.csv"
source_list = "Products"
[[workspaces.models.processes]]
name = "Refresh"
actions = ["Load Products", "Products.csv"]
[[workspaces.models.roles]]
name = "Loader"
actions = ["Load Products"]
[[workspaces.models.roles]]
name = "Runner"
actions = ["Refresh"]
files = ["prices.csv"]
[workspaces.models.members]
"loader@example.com" = "Loader"
"runner@example.com" = "Runner"
"outsider@example.com" = "No Access"
"""


def as_user(emulator: RunningEmulator, email: str, password: str) -> httpx2.Client:
    client = httpx2.Client(base_url=emulator.base_url, timeout=30)
    client.headers["Authorization"] = f"AnaplanAuthToken {login(client, email, password)}"
    return client


def ids_of(api: httpx2.Client, base: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for kind in ("files", "imports", "exports", "actions", "processes"):
        for item in ok(api.get(f"{base}/{kind}")).get(kind, []):
            found[item["name"]] = item["id"]
    return found


def tasks_of(api: httpx2.Client, path: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = ok(api.get(path)).get("tasks", [])
    return tasks


# -- the demo's viewer only views ----------------------------------------------------------------


@pytest.fixture
def viewer(emulator: RunningEmulator, api: httpx2.Client) -> Iterator[httpx2.Client]:
    client = as_user(emulator, "viewer@example.com", "viewer")
    yield client
    client.close()


def test_the_demo_viewer_reads_everything(viewer: httpx2.Client, demo: Demo) -> None:
    assert ok(viewer.get(f"/2/0/models/{demo.model_id}"))["model"]["id"] == demo.model_id
    for kind in ("files", "imports", "exports", "actions", "processes"):
        assert ok(viewer.get(f"{demo.base}/{kind}"))[kind]
    tasks = f"{demo.base}/imports/{demo.imports['Load Employees']}/tasks"
    assert ok(viewer.get(tasks))["meta"]["paging"]["totalSize"] == 0


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("imports", "Load Employees"),
        ("exports", "Headcount Export"),
        ("actions", "Remove Inactive Employees"),
        ("processes", "Nightly Load"),
    ],
)
def test_the_demo_viewer_starts_no_action(
    viewer: httpx2.Client, api: httpx2.Client, demo: Demo, kind: str, name: str
) -> None:
    action_id = getattr(demo, kind)[name]
    tasks = f"{demo.base}/{kind}/{action_id}/tasks"
    body = assert_error(viewer.post(tasks, json=EN_US), 403)
    assert name in body["status"]["message"]
    assert tasks_of(api, tasks) == []  # nothing was started


def test_the_demo_viewer_changes_no_file(
    viewer: httpx2.Client, api: httpx2.Client, demo: Demo
) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    assert_error(viewer.post(path, json={"chunkCount": 1}), 403)
    assert_error(viewer.put(f"{path}/chunks/0", content=b"x", headers=OCTETS), 403)
    assert_error(viewer.put(path, content=b"x", headers=OCTETS), 403)
    assert_error(viewer.post(f"{path}/complete", json={}), 403)
    assert_error(viewer.delete(path), 403)
    assert_error(viewer.post(f"{demo.base}/files/new.csv", json={"chunkCount": 1}), 403)
    names = [f["name"] for f in ok(api.get(f"{demo.base}/files"))["files"]]
    assert "new.csv" not in names
    assert viewer.get(f"{path}/chunks").status_code == 200  # reading is fine


def test_the_demo_viewer_cannot_cancel_the_admins_task(
    viewer: httpx2.Client, api: httpx2.Client, demo: Demo
) -> None:
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    tasks = f"{demo.base}/imports/{demo.imports['Load Employees']}/tasks"
    task_id = ok(api.post(tasks, json=EN_US))["task"]["taskId"]
    assert_error(viewer.delete(f"{tasks}/{task_id}"), 403)
    assert ok(api.get(f"{tasks}/{task_id}"))["task"]["taskState"] == "NOT_STARTED"
    assert ok(api.delete(f"{tasks}/{task_id}"))["task"]["taskState"] == "CANCELLED"


# -- a definition's own roles ------------------------------------------------------------------


class Shop:
    def __init__(self, emulator: RunningEmulator, api: httpx2.Client):
        api.post("/_emulator/definitions", content=ROLES_DEFINITION).raise_for_status()
        self.owner = as_user(emulator, "owner@example.com", "owner")
        models = ok(self.owner.get("/2/0/models"))["models"]
        self.model_id = next(m["id"] for m in models if m["name"] == "Shop")
        self.base = f"/2/0/models/{self.model_id}"
        self.ids = ids_of(self.owner, self.base)
        self.clients = [self.owner]

    def user(self, emulator: RunningEmulator, name: str) -> httpx2.Client:
        client = as_user(emulator, f"{name}@example.com", name)
        self.clients.append(client)
        return client

    def tasks(self, kind: str, name: str) -> str:
        return f"{self.base}/{kind}/{self.ids[name]}/tasks"

    def file(self, name: str) -> str:
        return f"{self.base}/files/{self.ids[name]}"


@pytest.fixture
def shop(emulator: RunningEmulator, api: httpx2.Client) -> Iterator[Shop]:
    made = Shop(emulator, api)
    yield made
    for client in made.clients:
        client.close()


def test_a_role_starts_only_the_actions_it_names(shop: Shop, emulator: RunningEmulator) -> None:
    loader = shop.user(emulator, "loader")
    upload = loader.put(shop.file("products.csv"), content=b"Code\nP1\n", headers=OCTETS)
    assert upload.status_code == 204  # the file its import reads
    assert ok(loader.post(shop.tasks("imports", "Load Products"), json=EN_US))["task"]
    assert_error(loader.post(shop.tasks("exports", "Products.csv"), json=EN_US), 403)
    assert_error(loader.post(shop.tasks("processes", "Refresh"), json=EN_US), 403)
    assert_error(loader.post(shop.file("prices.csv"), json={"chunkCount": 1}), 403)
    assert_error(loader.post(f"{shop.base}/files/mine.csv", json={"chunkCount": 1}), 403)


def test_a_process_grant_runs_it_and_uploads_its_files(
    shop: Shop, emulator: RunningEmulator
) -> None:
    runner = shop.user(emulator, "runner")
    for name in ("products.csv", "prices.csv"):  # its import's file, and the one it names
        response = runner.put(shop.file(name), content=b"Code\nP1\n", headers=OCTETS)
        assert response.status_code == 204, response.text
    assert ok(runner.post(shop.tasks("processes", "Refresh"), json=EN_US))["task"]
    assert_error(runner.post(shop.tasks("imports", "Load Products"), json=EN_US), 403)


def test_members_without_a_role_have_full_access(shop: Shop, emulator: RunningEmulator) -> None:
    builder = shop.user(emulator, "builder")
    assert ok(builder.post(f"{shop.base}/files/mine.csv", json={"chunkCount": 1}))["file"]
    for kind, name in (("exports", "Products.csv"), ("processes", "Refresh")):
        assert ok(builder.post(shop.tasks(kind, name), json=EN_US))["task"]


def test_only_an_admin_cancels_another_users_task(
    shop: Shop, emulator: RunningEmulator, api: httpx2.Client
) -> None:
    ok(api.put("/_emulator/progression", json={"mode": "manual"}))
    loader, builder = shop.user(emulator, "loader"), shop.user(emulator, "builder")
    tasks = shop.tasks("imports", "Load Products")
    theirs = ok(builder.post(tasks, json=EN_US))["task"]["taskId"]
    mine = ok(loader.post(tasks, json=EN_US))["task"]["taskId"]
    assert_error(loader.delete(f"{tasks}/{theirs}"), 403)
    assert ok(loader.delete(f"{tasks}/{mine}"))["task"]["taskState"] == "CANCELLED"
    assert ok(shop.owner.delete(f"{tasks}/{theirs}"))["task"]["taskState"] == "CANCELLED"


def test_no_access_lists_the_model_but_hides_its_content(
    shop: Shop, emulator: RunningEmulator
) -> None:
    outsider = shop.user(emulator, "outsider")
    listed = [m["id"] for m in ok(outsider.get("/2/0/models"))["models"]]
    assert shop.model_id in listed
    assert ok(outsider.get(f"/2/0/models/{shop.model_id}"))["model"]["id"] == shop.model_id
    for path in (
        f"{shop.base}/imports",
        f"{shop.base}/files",
        shop.tasks("imports", "Load Products"),
    ):
        assert_error(outsider.get(path), 404)
    assert_error(outsider.post(shop.tasks("imports", "Load Products"), json=EN_US), 404)
