"""Durability: `kill -9` the emulator process at awkward moments, restart it on the same data.

Every acknowledged chunk and task is there afterwards, no import is half-applied, and a task
that was running ends failed with a clear detail instead of staying IN_PROGRESS.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.models import CompletedTask, parse_task

from .subprocess_server import EmulatorProcess

pytestmark = pytest.mark.slow

BASIC = {"Authorization": "Basic " + base64.b64encode(b"demo@example.com:demo").decode()}
RAW = {"Content-Type": "application/octet-stream"}
EN_US = {"localeName": "en_US"}


class Session:
    """A signed-in plain HTTP client on one emulator process, with the demo's ids."""

    def __init__(self, server: EmulatorProcess):
        self.http = httpx2.Client(base_url=server.base_url, timeout=60)
        login = self.http.post("/token/authenticate", headers=BASIC)
        assert login.status_code == 201, login.text
        token = login.json()["tokenInfo"]["tokenValue"]
        self.http.headers["Authorization"] = f"AnaplanAuthToken {token}"
        workspaces = self.json("GET", "/2/0/workspaces")["workspaces"]
        workspace = next(w for w in workspaces if w["name"] == "Demo Workspace")
        models = self.json("GET", f"/2/0/workspaces/{workspace['id']}/models")["models"]
        model = next(m for m in models if m["name"] == "FP&A Dev")
        self.base = f"/2/0/workspaces/{workspace['id']}/models/{model['id']}"
        files = self.json("GET", f"{self.base}/files")["files"]
        self.file_id = next(f["id"] for f in files if f["name"] == "employees.csv")
        self.ids = {
            item["name"]: item["id"]
            for kind in ("imports", "exports")
            for item in self.json("GET", f"{self.base}/{kind}").get(kind, [])
        }

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def tasks_path(self, name: str) -> str:
        kind = "imports" if self.ids[name].startswith("112") else "exports"
        return f"{self.base}/{kind}/{self.ids[name]}/tasks"

    def upload(self, content: bytes) -> None:
        path = f"{self.base}/files/{self.file_id}"
        self.json("POST", path, json={"chunkCount": 1})
        response = self.http.put(
            f"{path}/chunks/0",
            content=gzip.compress(content),
            headers={"Content-Type": "application/x-gzip"},
        )
        assert response.status_code == 204, response.text

    def start(self, name: str) -> str:
        task_id: str = self.json("POST", self.tasks_path(name), json=EN_US)["task"]["taskId"]
        return task_id

    def status(self, name: str, task_id: str) -> Any:
        return parse_task(self.json("GET", f"{self.tasks_path(name)}/{task_id}"))

    def finish(self, name: str, task_id: str) -> CompletedTask:
        for _ in range(20_000):
            task = self.status(name, task_id)
            if task.task_state in ("COMPLETE", "CANCELLED"):
                assert isinstance(task, CompletedTask)
                return task
        raise AssertionError(f"task {task_id} did not finish")

    def run(self, name: str) -> CompletedTask:
        return self.finish(name, self.start(name))

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "data"
    yield directory
    for database in _databases(directory):
        with sqlite3.connect(database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _databases(directory: Path) -> list[Path]:
    found = []
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as file:
                if file.read(16) == b"SQLite format 3\x00":
                    found.append(path)
    return found


def start_server(data_dir: Path) -> tuple[EmulatorProcess, Session]:
    server = EmulatorProcess(["--data", str(data_dir), "--demo"])
    return server, Session(server)


def employees(rows: int) -> bytes:
    return b"".join(generate_employees_csv(rows, seed=5))


def test_acknowledged_chunks_and_tasks_survive_kill_9(data_dir: Path) -> None:
    server, session = start_server(data_dir)
    session.json("PUT", "/_emulator/progression", json={"mode": "manual"})
    path = f"{session.base}/files/{session.file_id}"
    session.json("POST", path, json={"chunkCount": -1})
    acknowledged_chunks: dict[int, str] = {}
    acknowledged_tasks: list[str] = []
    stop = threading.Event()

    def upload_chunks() -> None:
        with httpx2.Client(base_url=server.base_url, headers=session.http.headers) as http:
            for index in range(1000):
                data = os.urandom(32 * 1024)
                try:
                    response = http.put(f"{path}/chunks/{index}", content=data, headers=RAW)
                except httpx2.TransportError:
                    return
                if response.status_code != 204:
                    return
                acknowledged_chunks[index] = hashlib.sha256(data).hexdigest()

    def start_tasks() -> None:
        export_tasks = session.tasks_path("Headcount Export")
        with httpx2.Client(base_url=server.base_url, headers=session.http.headers) as http:
            while not stop.is_set():
                try:
                    response = http.post(export_tasks, json=EN_US)
                except httpx2.TransportError:
                    return
                if response.status_code != 200:
                    return
                acknowledged_tasks.append(response.json()["task"]["taskId"])

    workers = [threading.Thread(target=upload_chunks), threading.Thread(target=start_tasks)]
    for worker in workers:
        worker.start()
    try:
        while len(acknowledged_chunks) < 40 or len(acknowledged_tasks) < 15:
            if not any(worker.is_alive() for worker in workers):
                raise AssertionError(f"uploads stopped early:\n{server.log_text()}")
            stop.wait(0.01)
    finally:
        server.kill()  # while both loops are sending
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        session.close()

    server, session = start_server(data_dir)
    try:
        chunks = session.json("GET", f"{path}/chunks").get("chunks", [])
        stored = {int(chunk["id"]) for chunk in chunks}
        assert set(acknowledged_chunks) <= stored
        for index, digest in acknowledged_chunks.items():
            content = session.http.get(f"{path}/chunks/{index}").content
            assert hashlib.sha256(content).hexdigest() == digest, index
        export = "Headcount Export"
        listed = session.json("GET", session.tasks_path(export), params={"limit": 5000})
        listed_ids = [task["taskId"] for task in listed.get("tasks", [])]
        assert set(acknowledged_tasks) <= set(listed_ids)
        # Queued tasks run again after the restart and all of them finish.
        for task_id in listed_ids:
            finished = session.finish(export, task_id)
            assert finished.result.successful, finished.describe()
    finally:
        session.close()
        server.terminate()


def test_an_import_killed_while_running_ends_failed_and_applies_nothing(data_dir: Path) -> None:
    server, session = start_server(data_dir)
    try:
        session.upload(employees(200))
        loaded = session.run("Load Employees")
        assert loaded.result.successful
        headcount = session.run("Load Headcount")
        assert headcount.result.successful
        # 300 rows: the first 200 employees again plus 100 new ones.
        session.upload(employees(300))
        session.json("PUT", "/_emulator/progression", json={"mode": "fixed", "seconds": 600})
        running = session.start("Load Employees")
        for _ in range(20_000):
            if session.status("Load Employees", running).task_state == "IN_PROGRESS":
                break
        assert session.status("Load Employees", running).task_state == "IN_PROGRESS"
    finally:
        session.close()
        server.kill()

    server, session = start_server(data_dir)
    try:
        interrupted = session.status("Load Employees", running)
        assert isinstance(interrupted, CompletedTask)
        assert interrupted.current_step == "Failed."
        assert interrupted.result.successful is False
        assert any("stopped" in detail.text for detail in interrupted.result.details)
        earlier = session.status("Load Employees", loaded.id)
        assert isinstance(earlier, CompletedTask)
        assert earlier.result.successful
        # The 100 new employees were rolled back: a module load of all 300 rows finds only 200.
        session.upload(employees(300))
        check = session.run("Load Headcount")
        assert check.result.failure_dump_available is True
        dump = session.http.get(f"{session.tasks_path('Load Headcount')}/{check.id}/dump")
        assert dump.status_code == 200
        rows = list(csv.reader(io.StringIO(dump.content.decode())))
        assert {int(row[-2]) for row in rows[1:]} == set(range(202, 302))
    finally:
        session.close()
        server.terminate()


def test_a_completed_task_and_its_data_survive_kill_9(data_dir: Path) -> None:
    server, session = start_server(data_dir)
    try:
        session.upload(employees(50))
        assert session.run("Load Employees").result.successful
        assert session.run("Load Headcount").result.successful
        exported = session.run("Headcount Export")
        export_id = session.ids["Headcount Export"]
        before = session.http.get(f"{session.base}/files/{export_id}").content
        assert len(before.splitlines()) == 51
    finally:
        session.close()
        server.kill()

    server, session = start_server(data_dir)
    try:
        after = session.status("Headcount Export", exported.id)
        assert isinstance(after, CompletedTask)
        assert after.result.successful
        assert session.http.get(f"{session.base}/files/{export_id}").content == before
        assert session.run("Headcount Export").result.successful
        assert session.http.get(f"{session.base}/files/{export_id}").content == before
    finally:
        session.close()
        server.terminate()
