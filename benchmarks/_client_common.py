"""Shared plumbing of the client benchmarks: an emulator subprocess and both clients aimed at it.

The emulator runs in its own process (`--emulator-python`, the project's environment) so the
benchmark process measures only the client. anaplan-sdk has Anaplan's hosts built in: it is
pointed at the emulator by an httpx2 transport that rewrites the scheme, host and port.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
DEMO_USER = "demo@example.com"
DEMO_PASSWORD = "demo"


def arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the options every client benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--emulator-python",
        default=os.environ.get("EMULATOR_PYTHON", sys.executable),
        help="Python with the emulator's dependencies (default: this one)",
    )
    parser.add_argument("--no-sdk", action="store_true", help="measure anaplan-tasks only")
    return parser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    """An emulator subprocess and the demo ids."""

    base_url: str
    workspace_id: str
    dev_model_id: str
    prod_model_id: str
    pid: int | None = None
    models: dict[str, str] | None = None
    """Every model's id by name."""

    def control(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx2.request(method, f"{self.base_url}/_emulator/{path}", json=json)
        response.raise_for_status()
        return response.json() if response.content else None


@contextlib.contextmanager
def emulator(python: str, definition: Path | None = None) -> Iterator[Emulator]:
    """Start `python -m anaplan_tasks.emulator --demo --memory` on a free port.

    With `definition`, that file's workspaces are loaded too (the first is the one used).
    """
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    extra = ["--definition", str(definition)] if definition is not None else []
    process = subprocess.Popen(
        [python, "-m", "anaplan_tasks.emulator", "--demo", "--memory", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{base_url}/_emulator/health").raise_for_status()
                break
            except httpx2.HTTPError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"the emulator did not start: {output}") from error
                time.sleep(0.1)
        token = httpx2.post(
            f"{base_url}/token/authenticate", auth=(DEMO_USER, DEMO_PASSWORD)
        ).json()["tokenInfo"]["tokenValue"]
        headers = {"Authorization": f"AnaplanAuthToken {token}"}
        workspaces = httpx2.get(f"{base_url}/2/0/workspaces", headers=headers).json()["workspaces"]
        workspace = workspaces[-1 if definition is not None else 0]["id"]
        models = httpx2.get(
            f"{base_url}/2/0/workspaces/{workspace}/models", headers=headers
        ).json()["models"]
        ids = {model["name"]: model["id"] for model in models}
        dev, prod = ids.get("FP&A Dev", ""), ids.get("FP&A Prod", "")
        yield Emulator(base_url, workspace, dev, prod, process.pid, ids)
    finally:
        process.terminate()
        process.wait(10)


class RedirectTransport(httpx2.HTTPTransport):
    """Send requests meant for Anaplan's hosts to the emulator instead."""

    def __init__(self, base_url: str):
        super().__init__()
        target = httpx2.URL(base_url)
        self._scheme, self._host, self._port = target.scheme, target.host, target.port

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme=self._scheme, host=self._host, port=self._port)
        return super().handle_request(request)


class AsyncRedirectTransport(httpx2.AsyncHTTPTransport):
    """`RedirectTransport` for anaplan-sdk's `AsyncClient`."""

    def __init__(self, base_url: str):
        super().__init__()
        target = httpx2.URL(base_url)
        self._scheme, self._host, self._port = target.scheme, target.host, target.port

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme=self._scheme, host=self._host, port=self._port)
        return await super().handle_async_request(request)


def sdk_token(emu: Emulator) -> str:
    """A token for the demo user (anaplan-sdk's first sign-in does not use our transport)."""
    response = httpx2.post(f"{emu.base_url}/token/authenticate", auth=(DEMO_USER, DEMO_PASSWORD))
    return str(response.json()["tokenInfo"]["tokenValue"])


def sdk_client(emu: Emulator, model_id: str, **options: Any) -> Any:
    """An anaplan-sdk client aimed at the emulator."""
    import anaplan_sdk

    # Its first sign-in uses a client of its own (not our transport): hand it a first token;
    # later sign-ins (after a 401) go through the redirecting transport.
    token = httpx2.post(
        f"{emu.base_url}/token/authenticate", auth=(DEMO_USER, DEMO_PASSWORD)
    ).json()["tokenInfo"]["tokenValue"]
    return anaplan_sdk.Client(
        token=token,
        workspace_id=emu.workspace_id,
        model_id=model_id,
        user_email=DEMO_USER,
        password=DEMO_PASSWORD,
        transport=RedirectTransport(emu.base_url),
        **options,
    )


def our_client(emu: Emulator, model_id: str, **options: Any) -> Any:
    """An anaplan-tasks client aimed at the emulator."""
    from anaplan_tasks import Client

    return Client(
        base_url=emu.base_url,
        email=DEMO_USER,
        password=DEMO_PASSWORD,
        workspace_id=emu.workspace_id,
        model_id=model_id,
        env={},
        **options,
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    Read from `VmHWM` (the high-water mark of this program's own memory since it started):
    `ru_maxrss` would also count the parent's memory at fork time on Linux.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def same_content(first: Path, second: Path) -> bool:
    """Compare two files 1 MB at a time (the benchmark's own memory stays small)."""
    with first.open("rb") as one, second.open("rb") as other:
        while True:
            a, b = one.read(1 << 20), other.read(1 << 20)
            if a != b:
                return False
            if not a:
                return True


def process_cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) another process has used, from /proc; None where unreadable."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used, all threads."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_employees_csv(path: Path, megabytes: int, seed: int = 1) -> int:
    """Write an employees CSV of about `megabytes` MB (distinct ids, varied values); its size.

    Values vary like real data (names, dates, amounts drawn at random), so compression costs
    what it costs on a real file, not on a repeated pattern.
    """
    rng = random.Random(seed)
    first = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
             "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya")  # fmt: skip
    last = ("Ng", "Okafor", "Smith", "Tanaka", "Varga", "Weber", "Xu", "Young", "Zhou", "Silva",
            "Garcia", "Kowalski", "Nguyen", "Haddad")  # fmt: skip
    regions = ("NA", "EMEA", "APAC", "LATAM")
    target = megabytes * 1_000_000
    header = '"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\n'
    with path.open("w") as handle:
        handle.write(header)
        written = len(header)
        number = 0
        while written < target:
            lines = []
            for _ in range(10_000):
                number += 1
                lines.append(
                    f"E{number:08d},{rng.choice(first)} {rng.choice(last)},{rng.choice(regions)},"
                    f"{2000 + rng.randrange(25)}-{1 + rng.randrange(12):02d}-"
                    f"{1 + rng.randrange(28):02d},{'true' if rng.random() < 0.9 else 'false'},"
                    f"{rng.randrange(30_000, 250_000)},{rng.choice(('1', '0.5', '0.8'))}\n"
                )
            block = "".join(lines)
            handle.write(block)
            written += len(block)
    return path.stat().st_size
