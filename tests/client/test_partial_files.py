"""A download or dump that fails half-way leaves nothing behind and never damages `dest`."""

from __future__ import annotations

from pathlib import Path

import pytest

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.errors import AnaplanError, BadRequestError

from .conftest import Emulator

GOOD = b"the good content of an earlier download\n"


def _upload_in_chunks(client: Client) -> bytes:
    data = b"".join(generate_employees_csv(70_000, seed=2))  # about 3.5 MB: 4 chunks of 1 MB
    client.files.upload("employees.csv", data, chunk_size=1024 * 1024)
    assert client.files.get("employees.csv").chunk_count == 4
    return data


def test_a_download_failing_mid_file_leaves_no_part_file_and_dest_intact(
    client: Client, emulator: Emulator, tmp_path: Path
) -> None:
    data = _upload_in_chunks(client)
    dest = tmp_path / "employees.csv"
    dest.write_bytes(GOOD)
    emulator.fail(FaultRule(fault="status", method="GET", path="*/chunks/2", status=400))
    with pytest.raises(BadRequestError):
        client.files.download("employees.csv", dest)
    assert dest.read_bytes() == GOOD
    assert sorted(path.name for path in tmp_path.iterdir()) == ["employees.csv"]
    emulator.fail()
    assert client.files.download("employees.csv", dest) == len(data)
    assert dest.read_bytes() == data


async def test_the_async_download_cleans_up_the_same_way(
    client: Client, emulator: Emulator, tmp_path: Path
) -> None:
    _upload_in_chunks(client)
    dest = tmp_path / "employees.csv"
    dest.write_bytes(GOOD)
    emulator.fail(FaultRule(fault="status", method="GET", path="*/chunks/1", status=400))
    async with AsyncClient(**emulator.client_settings()) as async_client:  # type: ignore[arg-type]
        with pytest.raises(BadRequestError):
            await async_client.files.download("employees.csv", dest)
    assert dest.read_bytes() == GOOD
    assert sorted(path.name for path in tmp_path.iterdir()) == ["employees.csv"]


def test_saving_the_dump_of_a_task_without_one_writes_nothing(
    client: Client, tmp_path: Path
) -> None:
    task = client.imports.run("Load Employees", source=b"".join(generate_employees_csv(20, seed=4)))
    assert task.result.failed_row_count == 0
    dest = tmp_path / "rejected.csv"
    dest.write_bytes(GOOD)
    with pytest.raises(AnaplanError, match="has no failure dump; nothing was written"):
        client.tasks.dumps(task).save(dest)
    assert dest.read_bytes() == GOOD
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rejected.csv"]
