"""The async client against the emulator: the same jobs, plus concurrency and cancellation."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from anaplan_tasks.client import AsyncClient
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.errors import (
    ActionNotFoundError,
    ChunkUploadError,
    TaskCancelledError,
    TaskFailedError,
)

from .conftest import Emulator, employees_csv


async def test_upload_import_and_wait(async_client: AsyncClient, emulator: Emulator) -> None:
    blocks = [employees_csv(n * 500 + 1, 500) for n in range(4)]
    task = await async_client.imports.run("Load Employees", source=iter(blocks))
    assert task.result.successful
    assert task.result.details[0].value_map["successRowCount"] == 2000
    assert emulator.requests("POST", "/complete") == 1


async def test_failed_import_dump_rows_are_one_await_away(async_client: AsyncClient) -> None:
    with pytest.raises(TaskFailedError) as caught:
        await async_client.imports.run("Load Employees", source=employees_csv(1, 3, region="X"))
    assert "3 rows failed" in str(caught.value)
    rows = await caught.value.dumps.rows()
    assert [(row.status, row.line) for row in rows] == [("E", 2), ("E", 3), ("E", 4)]
    streamed = [row async for row in caught.value.dumps.iter_rows()]
    assert streamed == rows


async def test_export_and_process(async_client: AsyncClient, tmp_path: Path) -> None:
    await async_client.files.upload("employees.csv", employees_csv(1, 30))
    process = await async_client.processes.run("Nightly Load")
    assert len(process.result.nested_results) == 4
    dest = tmp_path / "out.csv"
    await async_client.exports.run("Headcount Export", dest)
    assert len(list(csv.reader(io.StringIO(dest.read_text())))) == 31
    chunks = [chunk async for chunk in async_client.files.iter_download("Headcount Export")]
    assert b"".join(chunks) == dest.read_bytes()


async def test_cancelling_the_waiting_coroutine_cancels_the_server_task(
    async_client: AsyncClient, emulator: Emulator
) -> None:
    emulator.progress("manual")
    await async_client.files.upload("employees.csv", employees_csv(1, 10))
    ref = await async_client.imports.start("Load Employees")
    waiting = asyncio.create_task(async_client.tasks.wait(ref))
    await asyncio.sleep(0.2)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await waiting
    assert any("CANCELLED" in note for note in getattr(caught.value, "__notes__", []))
    status = await async_client.tasks.status(ref)
    assert status.task_state == "CANCELLED"


async def test_expired_tokens_cause_one_sign_in_for_many_concurrent_requests(
    async_client: AsyncClient, emulator: Emulator
) -> None:
    await async_client.files.list()
    assert emulator.requests("POST", "/token/authenticate") == 1
    emulator.running.control.expire_tokens()
    results = await asyncio.gather(*(async_client.files.list() for _ in range(12)))
    assert all(len(files) == 2 for files in results)
    assert emulator.requests("POST", "/token/authenticate") == 2
    assert emulator.requests("POST", "/token/refresh") == 1


async def test_unknown_names(async_client: AsyncClient) -> None:
    with pytest.raises(ActionNotFoundError) as caught:
        await async_client.processes.get("Nightly Lode")
    assert caught.value.closest == ["Nightly Load"]


async def test_faults_on_the_start_never_double_a_task(
    async_client: AsyncClient, emulator: Emulator
) -> None:
    emulator.fail(
        FaultRule(fault="reset_after", method="POST", path="*/imports/*/tasks", times=2),
        FaultRule(fault="status", method="POST", path="*/imports/*/tasks", status=503, times=2),
        FaultRule(fault="status", status=429, probability=0.2),
        seed=9,
    )
    runs = 8
    for run in range(runs):
        await async_client.imports.run("Load Employees", source=employees_csv(run * 50 + 1, 50))
    emulator.fail()
    assert len(await async_client.imports.list_tasks("Load Employees")) == runs


async def test_a_cancelled_task_raises(async_client: AsyncClient, emulator: Emulator) -> None:
    emulator.progress("manual")
    await async_client.files.upload("employees.csv", employees_csv(1, 5))
    ref = await async_client.imports.start("Load Employees")
    await async_client.tasks.cancel(ref)
    with pytest.raises(TaskCancelledError):
        await async_client.tasks.wait(ref)


async def test_a_failing_chunk_stops_the_async_upload(
    async_client: AsyncClient, emulator: Emulator
) -> None:
    emulator.fail(FaultRule(fault="status", method="PUT", path="*/chunks/2", status=400))
    small = async_client.with_options(chunk_size=1_000_000, upload_workers=2)
    blocks = [employees_csv(n * 10_000, 10_000) * 4 for n in range(3)]
    with pytest.raises(ChunkUploadError) as caught:
        await small.files.upload("employees.csv", iter(blocks))
    assert caught.value.index == 2
    assert emulator.requests("POST", "/complete") == 0
    await small.aclose()


async def test_an_uploaded_file_downloads_byte_for_byte(
    async_client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    data = b"".join(employees_csv(n * 5000, 5000) for n in range(12))  # ~3 MB
    small = async_client.with_options(chunk_size=1_000_000)
    progress: list[tuple[int, int | None]] = []
    info = await small.files.upload(
        "employees.csv", data, on_progress=lambda sent, total: progress.append((sent, total))
    )
    assert len(progress) == info.chunk_count
    assert progress[-1] == (len(data), len(data))
    assert info.chunk_count == emulator.requests("PUT", "/chunks/{chunkId}") >= 3
    assert await small.files.download("employees.csv", tmp_path / "back.csv") == len(data)
    assert (tmp_path / "back.csv").read_bytes() == data
    await small.aclose()
