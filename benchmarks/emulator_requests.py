"""The emulator's cost per request: server CPU per status read, and 50 clients polling at once.

Two servers run in turn, each in its own process, as `serve` runs the emulator (uvicorn, h11):

- `emulator`: `python -m anaplan_tasks.emulator --demo --memory` (access log on, to /dev/null);
  the requests are status reads of one import task
  (`GET …/imports/{importId}/tasks/{taskId}`), which stays queued (the `manual` progression),
  with a token.
- `emulator, no log`: the same through `run_emulator(demo=True)`, as the pytest fixture runs it
  (no access log).
- `bare starlette`: one Starlette route answering a small JSON body: what the web stack alone
  costs, for the ratio.

For each: the server's CPU time (from /proc) per request over `--sequential` requests on one
keep-alive connection, then `--clients` connections polling as fast as they can for
`--seconds` (requests per second, and the latency's median and 99th percentile). The load
generator is `wrk` (Debian's package) when installed, else a plain asyncio HTTP/1.1 client in
this process (`--python` forces it); loopback only, it stops after `--seconds`. On a 2-core
machine either shares the CPU with the server (the Python one far more), so the rates are
lower bounds.

    PYTHONPATH=src .venv/bin/python benchmarks/emulator_requests.py \\
        [--sequential 2000] [--clients 50] [--seconds 10] [--python]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
from _client_common import DEMO_PASSWORD, DEMO_USER, ROOT, _free_port, process_cpu_seconds

FIXTURE_WAY = textwrap.dedent(
    """
    import sys, time

    from anaplan_tasks.emulator.server import run_emulator

    with run_emulator(demo=True, port=int(sys.argv[1])):
        while True:
            time.sleep(60)
    """
)

BARE_APP = textwrap.dedent(
    """
    import sys

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    BODY = {"meta": {"schema": "x"}, "status": {"code": 200, "message": "Success"},
            "task": {"taskId": "A1B2", "taskState": "NOT_STARTED", "progress": 0.0}}

    async def status(request):
        return JSONResponse(BODY)

    app = Starlette(routes=[Route("/status/{task_id}", status)])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="h11", ws="none",
                lifespan="off", log_level="warning")
    """
)


@dataclass
class Target:
    """A server under test: where to send what."""

    name: str
    port: int
    pid: int
    path: str
    headers: str


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx2.get(url)
            return
        except httpx2.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url}: the server did not start") from None
            time.sleep(0.1)


@contextlib.contextmanager
def emulator(name: str = "emulator") -> Iterator[Target]:
    """The emulator with one queued import task to read."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if name == "emulator":
        command = [sys.executable, "-m", "anaplan_tasks.emulator", "--demo", "--memory", "--port"]
    else:
        command = [sys.executable, "-c", FIXTURE_WAY]
    process = subprocess.Popen(
        [*command, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/_emulator/health", process)
        httpx2.put(f"{base}/_emulator/progression", json={"mode": "manual"}).raise_for_status()
        login = httpx2.post(f"{base}/token/authenticate", auth=(DEMO_USER, DEMO_PASSWORD))
        auth = {"Authorization": f"AnaplanAuthToken {login.json()['tokenInfo']['tokenValue']}"}
        with httpx2.Client(base_url=base, headers=auth) as http:
            model = next(m for m in http.get("/2/0/models").json()["models"])
            prefix = f"/2/0/workspaces/{model['currentWorkspaceId']}/models/{model['id']}"
            imports = http.get(f"{prefix}/imports").json()["imports"]
            import_id = next(i["id"] for i in imports if i["name"] == "Load Employees")
            started = http.post(f"{prefix}/imports/{import_id}/tasks", json={"localeName": "en_US"})
            task_id = started.json()["task"]["taskId"]
        path = f"{prefix}/imports/{import_id}/tasks/{task_id}"
        headers = f"Authorization: {auth['Authorization']}\r\n"
        yield Target(name, port, process.pid, path, headers)
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def bare() -> Iterator[Target]:
    """A bare Starlette app on the same uvicorn settings."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/status/x", process)
        yield Target("bare starlette", port, process.pid, "/status/A1B2", "")
    finally:
        process.terminate()
        process.wait(10)


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> None:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.decode(errors="replace"))
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)


def _request_bytes(target: Target) -> bytes:
    return (
        f"GET {target.path} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n{target.headers}\r\n"
    ).encode()


async def sequential(target: Target, count: int) -> float:
    """Server CPU milliseconds per request, over `count` requests on one connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    request = _request_bytes(target)
    for _ in range(50):  # warm up
        await _request(reader, writer, request)
    before = process_cpu_seconds(target.pid)
    for _ in range(count):
        await _request(reader, writer, request)
    after = process_cpu_seconds(target.pid)
    writer.close()
    if before is None or after is None:
        return float("nan")
    return (after - before) / count * 1000


async def concurrent(target: Target, clients: int, seconds: float) -> tuple[float, float, float]:
    """Requests per second, median and p99 latency (ms) of `clients` connections polling."""
    request = _request_bytes(target)
    latencies: list[float] = []
    connections = [await asyncio.open_connection("127.0.0.1", target.port) for _ in range(clients)]
    began = time.perf_counter()
    stop = began + seconds

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            sent = time.perf_counter()
            if sent >= stop:
                return
            await _request(reader, writer, request)
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(client(reader, writer) for reader, writer in connections))
    wall = time.perf_counter() - began
    for _, writer in connections:
        writer.close()
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(latencies) / wall, statistics.median(ordered) * 1000, p99 * 1000


def with_wrk(target: Target, clients: int, seconds: float) -> tuple[float, float, float]:
    """`concurrent`, measured by wrk (one thread: the server needs the other core)."""
    header = target.headers.strip()
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency"]
    if header:
        command += ["-H", header]
    url = f"http://127.0.0.1:{target.port}{target.path}"
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(output)

    def milliseconds(label: str) -> float:
        found = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if found is None:
            raise RuntimeError(output)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise RuntimeError(output)
    return float(rate.group(1)), milliseconds("50%"), milliseconds("99%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--python", action="store_true", help="load from Python, not wrk")
    options = parser.parse_args()
    use_wrk = not options.python and shutil.which("wrk") is not None
    print(f"load generator: {'wrk' if use_wrk else 'Python asyncio'}")
    print(
        f"{'server':<16} | {'CPU/request':>11} | {options.clients} clients: {'req/s':>7} | "
        f"{'p50':>7} | {'p99':>7}"
    )
    servers = (emulator, lambda: emulator("emulator, no log"), bare)
    for make in servers:
        with make() as target:
            cpu = asyncio.run(sequential(target, options.sequential))
            if use_wrk:
                rate, p50, p99 = with_wrk(target, options.clients, options.seconds)
            else:
                rate, p50, p99 = asyncio.run(concurrent(target, options.clients, options.seconds))
            print(
                f"{target.name:<16} | {cpu:>8.3f} ms | {'':>11}{rate:>7.0f} | {p50:>4.1f} ms | "
                f"{p99:>4.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
