"""A task reads a consistent snapshot of its source, and a download one version of a file.

An upload during a running import goes to new content that the running import does not see (the
next task reads it); a download streams the content as it was when the download began.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.engine import files as engine_files
from anaplan_tasks.emulator.server import RunningEmulator
from anaplan_tasks.models import parse_task

from .conftest import Demo, ok
from .test_tasks import finish, import_tasks, start

OCTETS = {"Content-Type": "application/octet-stream"}


def employees(rows: int, prefix: bytes = b"E") -> bytes:
    content = b"".join(generate_employees_csv(rows, 0, seed=5))
    if prefix == b"E":
        return content
    return content.replace(b"\nE", b"\n" + prefix)


def upload(api: httpx2.Client, path: str, content: bytes, chunk_size: int) -> None:
    pieces = [content[at : at + chunk_size] for at in range(0, len(content), chunk_size)]
    ok(api.post(path, json={"chunkCount": len(pieces)}))
    for index, piece in enumerate(pieces):
        response = api.put(f"{path}/chunks/{index}", content=piece, headers=OCTETS)
        assert response.status_code == 204, response.text


def codes(content: bytes) -> set[str]:
    return {line.split(",")[0] for line in content.decode().splitlines()[1:]}


def test_a_re_upload_during_a_running_import_goes_to_the_next_task(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator
) -> None:
    first = employees(150_000)
    second = employees(20, prefix=b"R")
    path = f"{demo.base}/files/{demo.file_id}"
    upload(api, path, first, 4 * 1024 * 1024)
    tasks = import_tasks(demo)
    task = start(api, tasks)
    task_path = f"{tasks}/{task['taskId']}"
    while parse_task(ok(api.get(task_path))).task_state == "NOT_STARTED":
        pass
    upload(api, path, second, 1024)  # a new upload while the import reads the first one
    assert parse_task(ok(api.get(task_path))).task_state == "IN_PROGRESS"  # it did run meanwhile
    assert finish(api, task_path).result.successful
    loaded = set(emulator.engine.model_data(demo.model_id).item_keys("Employees"))
    assert loaded == codes(first)  # the first upload's rows, and none of the second's
    # The next import reads the new content.
    again = start(api, tasks)
    assert finish(api, f"{tasks}/{again['taskId']}").result.successful
    loaded = set(emulator.engine.model_data(demo.model_id).item_keys("Employees"))
    assert loaded == codes(first) | codes(second)


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every download streams chunk by chunk (by default small files are read at once)."""
    monkeypatch.setattr(engine_files, "WHOLE_READ_BYTES", 0)


def stream_first_piece(api: httpx2.Client, path: str) -> tuple[httpx2.Response, Iterator[bytes]]:
    response = api.send(api.build_request("GET", path), stream=True)
    assert response.status_code == 200
    pieces = response.iter_raw(64 * 1024)
    return response, pieces


@pytest.mark.usefixtures("streamed")
def test_a_download_during_a_re_upload_gets_one_version(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    first = bytes(range(256)) * 4096 * 40  # 40 MiB in 40 chunks: more than sockets buffer
    upload(api, path, first, 1024 * 1024)
    with httpx2.Client(base_url=str(api.base_url), headers=api.headers, timeout=60) as reader:
        response, pieces = stream_first_piece(reader, path)
        received = [next(pieces)]
        upload(api, path, b"replaced,content\n" * 1000, 4096)
        received.extend(pieces)
        response.close()
    assert b"".join(received) == first
    assert api.get(path).content == b"replaced,content\n" * 1000


@pytest.mark.usefixtures("streamed")
def test_a_reset_during_a_download_breaks_it_rather_than_end_it_short(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator
) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    upload(api, path, bytes(range(256)) * 4096 * 40, 1024 * 1024)
    with httpx2.Client(base_url=str(api.base_url), headers=api.headers, timeout=60) as reader:
        response, pieces = stream_first_piece(reader, path)
        next(pieces)
        emulator.control.reset()
        with pytest.raises(httpx2.TransportError):  # incomplete body or a reset connection
            for _ in pieces:
                pass
        response.close()
    health = httpx2.get(f"{emulator.base_url}/_emulator/health")
    assert health.status_code == 200
