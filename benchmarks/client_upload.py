"""Uploading 200 MB with anaplan-tasks: to the emulator against a server that does nothing.

The do-nothing server (a thread per connection on a raw socket, in its own process) answers the
sign-in, the file listing, the chunk count and every chunk `PUT` (read whole, then dropped), so
its time is the client's own: reading the file and compressing it (isal level 1, the client's
upload workers). The emulator (`--demo`, in its own process; `--memory` by default, `--data` for
a store on disk with fsync) also decompresses each chunk, checks it and stores it durably before
answering. Each upload runs in a fresh client process, the two servers in turns (`--repeat` runs
each), so that a shared machine's drift touches both alike; it prints the best and median wall
times and their ratios, and the CPU each server process used meanwhile. `--reads` then times
another client's reads at the emulator, idle and while uploads follow one another.

    PYTHONPATH=src .venv/bin/python benchmarks/client_upload.py [--data] [--pin] [--reads]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2
from _client_common import (
    Emulator,
    emulator,
    our_client,
    process_cpu_seconds,
    sdk_token,
    write_employees_csv,
)

FILE_ID = "113000000000"
NULL_WORKSPACE = "8a81b09d5e4f6a7b015e8c1d2f3a4b5c"
NULL_MODEL = "75A40874E6B64FA3AE0F1E6FCE6B1BC0"


def _answer(connection: socket.socket, status: str, body: bytes = b"") -> None:
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
    connection.sendall(f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)


def _serve_connection(connection: socket.socket) -> None:
    buffer = bytearray()
    with connection:
        while True:
            while b"\r\n\r\n" not in buffer:
                data = connection.recv(1 << 20)
                if not data:
                    return
                buffer += data
            end = buffer.index(b"\r\n\r\n")
            lines = bytes(buffer[:end]).decode().split("\r\n")
            del buffer[: end + 4]
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            while len(buffer) < length:
                data = connection.recv(1 << 20)
                if not data:
                    return
                buffer += data
            del buffer[:length]
            file = {"id": FILE_ID, "name": "employees.csv", "chunkCount": 0}
            if path.startswith("/token/"):
                expires = int((time.time() + 3600) * 1000)
                token = {"tokenValue": "t0", "expiresAt": expires, "tokenId": "t"}
                body = {"tokenInfo": {**token, "refreshTokenId": "r"}}
                _answer(connection, "201 Created", json.dumps(body).encode())
            elif method == "PUT":
                _answer(connection, "204 No Content")
            elif method == "GET" and path.split("?")[0].endswith("/files"):
                paging = {"currentPageSize": 1, "totalSize": 1, "offset": 0}
                body = {"meta": {"paging": paging}, "files": [file]}
                _answer(connection, "200 OK", json.dumps(body).encode())
            elif method == "POST":
                _answer(connection, "200 OK", json.dumps({"file": file}).encode())
            else:
                _answer(connection, "404 Not Found", b"{}")


def serve(port_file: Path) -> None:
    """The do-nothing server: runs until killed."""
    listener = socket.create_server(("127.0.0.1", 0))
    port_file.write_text(str(listener.getsockname()[1]))
    while True:
        connection, _ = listener.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve_connection, args=(connection,), daemon=True).start()


def _upload(base_url: str, ids: str, csv_path: Path) -> tuple[float, float]:
    workspace, model = ids.split(",")
    client = our_client(Emulator(base_url, workspace, model, ""), model)
    client.files.list()  # signed in first: the emulator's scrypt check is no upload cost
    began, cpu = time.perf_counter(), time.process_time()
    client.files.upload("employees.csv", csv_path)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    client.close()
    return seconds, cpu


Run = tuple[float, float, float]
"""One upload: wall seconds, server CPU, client CPU."""


CLIENT_CPU, SERVER_CPU = 0, 1
"""With `--pin`: the client's core and the server's."""


def _pin(pid: int, cpu: int) -> None:
    """Keep every thread of process `pid` on one core (threads it starts later inherit it)."""
    for thread in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(thread), {cpu})


def _one(base_url: str, ids: str, pid: int, csv_path: Path, pin: bool = False) -> Run:
    """One upload in a fresh client process."""
    before = process_cpu_seconds(pid) or 0.0
    command = [sys.executable, __file__, "--worker", base_url, "--ids", ids, "--csv"]
    done = subprocess.run(
        [*command, str(csv_path)],
        capture_output=True,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, {CLIENT_CPU})) if pin else None,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    server_cpu = (process_cpu_seconds(pid) or 0.0) - before
    seconds, client_cpu = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), server_cpu, float(client_cpu)


def _report(name: str, runs: list[Run]) -> tuple[float, float]:
    """Print one server's runs; its best and median wall time."""
    walls = [wall for wall, _, _ in runs]
    servers = [server for _, server, _ in runs]
    clients = [client for _, _, client in runs]
    shown = ", ".join(f"{wall:.2f}" for wall in walls)
    print(
        f"{name:<22} best {min(walls):5.2f} s  median {statistics.median(walls):5.2f} s  "
        f"(runs {shown})  server CPU {statistics.median(servers):4.2f} s  "
        f"client CPU {statistics.median(clients):4.2f} s (medians)",
        flush=True,
    )
    return min(walls), statistics.median(walls)


Target = tuple[str, str, int]
"""A server to upload to: its URL, the workspace and model ids (comma-joined), its process id."""


def _in_turns(
    null: Target, ours: Target, csv_path: Path, repeat: int, pin: bool
) -> tuple[list[Run], list[Run]]:
    """`repeat` uploads to each server, one after the other, so drift touches both alike."""
    null_runs, emulator_runs = [], []
    for _ in range(repeat):
        null_runs.append(_one(*null, csv_path, pin))
        emulator_runs.append(_one(*ours, csv_path, pin))
    return null_runs, emulator_runs


def _print_ratios(null_runs: list[Run], emulator_runs: list[Run], name: str) -> None:
    """Both servers' runs, then the emulator's time over the do-nothing server's."""
    null_best, null_median = _report("do-nothing server", null_runs)
    best, median = _report(name, emulator_runs)
    runs = zip(emulator_runs, null_runs, strict=True)
    pairs = sorted(ours / null for (ours, _, _), (null, _, _) in runs)
    print(
        f"emulator / do-nothing: best {best / null_best:.2f}, median {median / null_median:.2f} "
        f"(run by run {pairs[0]:.2f} to {pairs[-1]:.2f})"
    )


def _poll(base_url: str, ids: str, token: str, seconds: float) -> None:
    """Read the model's imports over and over for `seconds`; print each read's latency."""
    workspace, model = ids.split(",")
    headers = {"Authorization": f"AnaplanAuthToken {token}"}
    with httpx2.Client() as client:
        url = f"{base_url}/2/0/workspaces/{workspace}/models/{model}/imports"
        client.get(url, headers=headers).raise_for_status()
        latencies = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            client.get(url, headers=headers).raise_for_status()
            latencies.append(time.perf_counter() - began)
            time.sleep(0.002)
    print(*latencies)


def _reads(emu: Emulator, csv_path: Path, seconds: float = 4.0) -> None:
    """Print read latencies at the emulator, idle and while uploads follow one another."""
    ids = f"{emu.workspace_id},{emu.dev_model_id}"
    assert emu.pid is not None
    command = [sys.executable, __file__, "--poll", emu.base_url, "--ids", ids]
    command += ["--token", sdk_token(emu), "--seconds", str(seconds)]
    for label in ("idle", "during uploads"):
        poller = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        uploads = 0
        if label != "idle":
            end = time.monotonic() + seconds - 0.5
            while time.monotonic() < end:
                _one(emu.base_url, ids, emu.pid, csv_path)
                uploads += 1
        output, _ = poller.communicate()
        latencies = sorted(float(value) for value in output.split())
        p50, p99 = (latencies[int(share * (len(latencies) - 1))] * 1000 for share in (0.5, 0.99))
        print(
            f"reads {label:<15} {len(latencies):5} reads  p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  "
            f"max {latencies[-1] * 1000:5.1f} ms" + (f"  ({uploads} uploads)" if uploads else "")
        )


def main() -> None:
    """Measure the do-nothing server and the emulator in turns, with the same file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--data", action="store_true", help="emulator store on disk (fsync)")
    parser.add_argument(
        "--pin",
        action="store_true",
        help=f"client on core {CLIENT_CPU}, server on core {SERVER_CPU}: the server's own core",
    )
    parser.add_argument(
        "--reads",
        action="store_true",
        help="then time reads of a model's imports at the emulator, idle and during uploads "
        "(never pinned)",
    )
    parser.add_argument("--emulator-python", default=sys.executable)
    parser.add_argument("--poll")
    parser.add_argument("--token")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--worker")
    parser.add_argument("--ids")
    parser.add_argument("--csv")
    parser.add_argument("--serve")
    options = parser.parse_args()
    if options.serve:
        serve(Path(options.serve))
        return
    if options.worker:
        print(*_upload(options.worker, options.ids, Path(options.csv)))
        return
    if options.poll:
        _poll(options.poll, options.ids, options.token, options.seconds)
        return
    with tempfile.TemporaryDirectory() as scratch:
        csv_path = Path(scratch) / "employees.csv"
        size = write_employees_csv(csv_path, options.megabytes)
        print(f"file: {size / 1e6:.0f} MB, {options.repeat} runs each, taken in turns")
        port_file = Path(scratch) / "port"
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)])
        data = Path(scratch) / "data" if options.data else None
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            null_url = f"http://127.0.0.1:{port_file.read_text()}"
            null_ids = f"{NULL_WORKSPACE},{NULL_MODEL}"
            with emulator(options.emulator_python, data_dir=data) as emu:
                assert emu.pid is not None
                if options.pin:
                    _pin(server.pid, SERVER_CPU)
                    _pin(emu.pid, SERVER_CPU)
                null = (null_url, null_ids, server.pid)
                ours = (emu.base_url, f"{emu.workspace_id},{emu.dev_model_id}", emu.pid)
                runs = _in_turns(null, ours, csv_path, options.repeat, options.pin)
                _print_ratios(*runs, "emulator (on disk)" if data else "emulator (--memory)")
                if options.reads:
                    _reads(emu, csv_path)
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
