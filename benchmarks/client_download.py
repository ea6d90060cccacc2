"""Downloading 200 MB: anaplan-tasks against a plain socket, from a server that does nothing.

The server (a thread per connection on a raw socket, in its own process) answers the sign-in,
a file's chunk list and its chunks (`--chunk-mb` MB each, the same bytes every time), so the
time measured is the client's. Each client runs in a fresh process (peak memory is its own) and
writes the bytes to `/dev/null` (with `--to-disk`, to a file: then the page cache and other
writers on the machine add their noise to every variant alike):

- `plain socket`: HTTP/1.1 by hand on one keep-alive connection, `recv_into` a 1 MB buffer;
  what the bytes cost at the least.
- `httpx2 iter_raw`, `httpx2 iter_bytes(1 MB)`: httpx2's streaming alone, two ways.
- `anaplan-tasks`: `Client.files.download(file_id, path)`, the whole client.

Wall time is the best of `--repeat` runs; peak memory is the process's high-water mark.

    PYTHONPATH=src .venv/bin/python benchmarks/client_download.py [--megabytes 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FILE_ID = "113000000001"
WORKSPACE_ID = "8a81b09d5e4f6a7b015e8c1d2f3a4b5c"
MODEL_ID = "75A40874E6B64FA3AE0F1E6FCE6B1BC0"
PREFIX = f"/2/0/workspaces/{WORKSPACE_ID}/models/{MODEL_ID}"
PIECE = 1 << 20


def _answer(connection: socket.socket, status: str, body: bytes | memoryview, kind: str) -> None:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode()
    connection.sendall(head)
    connection.sendall(body)


def _serve_connection(connection: socket.socket, chunk: bytes, chunks: int) -> None:
    buffer = b""
    with connection:
        while True:
            while b"\r\n\r\n" not in buffer:
                data = connection.recv(65536)
                if not data:
                    return
                buffer += data
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            _, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            while len(buffer) < length:
                buffer += connection.recv(65536)
            buffer = buffer[length:]
            if path.startswith("/token/"):
                token = {
                    "tokenInfo": {
                        "tokenValue": "t0",
                        "expiresAt": int((time.time() + 3600) * 1000),
                        "tokenId": "t",
                        "refreshTokenId": "r",
                    }
                }
                _answer(connection, "201 Created", json.dumps(token).encode(), "application/json")
            elif path.endswith("/chunks"):
                listing = {"chunks": [{"id": str(i), "name": f"Chunk {i}"} for i in range(chunks)]}
                _answer(connection, "200 OK", json.dumps(listing).encode(), "application/json")
            elif "/chunks/" in path:
                _answer(connection, "200 OK", memoryview(chunk), "application/octet-stream")
            else:
                _answer(connection, "404 Not Found", b"{}", "application/json")


def serve(port_file: Path, megabytes: int, chunk_mb: int) -> None:
    """The do-nothing server: runs until killed."""
    chunk = (b"E00000001,Ada Ng,NA,2020-01-01,true,100000,1\n" * (chunk_mb * 25_000))[
        : chunk_mb * 1_000_000
    ]
    chunks = megabytes // chunk_mb
    listener = socket.create_server(("127.0.0.1", 0))
    port_file.write_text(str(listener.getsockname()[1]))
    while True:
        connection, _ = listener.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(
            target=_serve_connection, args=(connection, chunk, chunks), daemon=True
        ).start()


def _sink(out: Path) -> Any:
    return out.open("wb") if out.name != "null" else open(os.devnull, "wb")


def _plain(port: int, out: Path) -> int:
    connection = socket.create_connection(("127.0.0.1", port))
    buffer = bytearray(PIECE)
    view = memoryview(buffer)
    pending = b""

    def get(path: str) -> tuple[bytes, int]:
        nonlocal pending
        connection.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        while b"\r\n\r\n" not in pending:
            pending += connection.recv(65536)
        head, pending = pending.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        return head, length

    _, length = get(f"{PREFIX}/files/{FILE_ID}/chunks")
    while len(pending) < length:
        pending += connection.recv(65536)
    chunks = json.loads(pending[:length])["chunks"]
    pending = pending[length:]
    total = 0
    with _sink(out) as handle:
        for item in chunks:
            _, length = get(f"{PREFIX}/files/{FILE_ID}/chunks/{item['id']}")
            handle.write(pending)
            left = length - len(pending)
            pending = b""
            while left:
                got = connection.recv_into(view, min(left, PIECE))
                handle.write(view[:got])
                left -= got
            total += length
    connection.close()
    return total


def _httpx(port: int, out: Path, mode: str) -> int:
    import httpx2

    total = 0
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as http:
        chunks = http.get(f"{PREFIX}/files/{FILE_ID}/chunks").json()["chunks"]
        with _sink(out) as handle:
            for item in chunks:
                url = f"{PREFIX}/files/{FILE_ID}/chunks/{item['id']}"
                with http.stream("GET", url) as response:
                    if mode == "raw":
                        pieces = response.iter_raw()
                    else:
                        pieces = response.iter_bytes(PIECE if mode == "1 MB" else None)
                    for piece in pieces:
                        handle.write(piece)
                        total += len(piece)
    return total


def _ours(port: int, out: Path) -> int:
    from anaplan_tasks import Client

    with Client(
        base_url=f"http://127.0.0.1:{port}",
        email="demo@example.com",
        password="demo",
        workspace_id=WORKSPACE_ID,
        model_id=MODEL_ID,
        env={},
    ) as client:
        if out.name != "null":
            return client.files.download(FILE_ID, out)
        with _sink(out) as handle:
            return client.files.download(FILE_ID, handle)


def client(variant: str, port: int, out: Path) -> None:
    """One download in this process; prints JSON with the wall time and peak memory."""
    import httpx2  # noqa: F401  (imports are not what is measured)

    import anaplan_tasks.client  # noqa: F401

    began = time.perf_counter()
    if variant == "plain socket":
        size = _plain(port, out)
    elif variant == "httpx2 iter_raw":
        size = _httpx(port, out, "raw")
    elif variant == "httpx2 iter_bytes()":
        size = _httpx(port, out, "as received")
    elif variant == "httpx2 iter_bytes(1 MB)":
        size = _httpx(port, out, "1 MB")
    else:
        size = _ours(port, out)
    wall = time.perf_counter() - began
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"wall": wall, "bytes": size, "peak_mb": peak}))


VARIANTS = (
    "plain socket",
    "httpx2 iter_raw",
    "httpx2 iter_bytes()",
    "httpx2 iter_bytes(1 MB)",
    "anaplan-tasks",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--chunk-mb", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--to-disk", action="store_true", help="write to a file, not /dev/null")
    parser.add_argument("--role", choices=("main", "server", "client"), default="main")
    parser.add_argument("--variant", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--port-file", type=Path)
    options = parser.parse_args()
    if options.role == "server":
        serve(options.port_file, options.megabytes, options.chunk_mb)
        return
    if options.role == "client":
        client(options.variant, options.port, options.out)
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory() as scratch:
        port_file = Path(scratch) / "port"
        server = subprocess.Popen(
            [
                *(sys.executable, __file__, "--role", "server", "--port-file", str(port_file)),
                *("--megabytes", str(options.megabytes), "--chunk-mb", str(options.chunk_mb)),
            ],
            env=env,
        )
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            port = int(port_file.read_text())
            print(
                f"{options.megabytes} MB in {options.chunk_mb} MB chunks, best of {options.repeat}"
            )
            print(f"{'client':<24} | {'wall':>7} | {'x socket':>8} | {'peak memory':>11}")
            baseline = None
            for variant in VARIANTS:
                runs = []
                for _ in range(options.repeat):
                    out = Path(scratch) / ("out.csv" if options.to_disk else "null")
                    result = subprocess.run(
                        [
                            *(sys.executable, __file__, "--role", "client", "--variant", variant),
                            *("--port", str(port), "--out", str(out)),
                        ],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    runs.append(json.loads(result.stdout))
                    size = runs[-1]["bytes"]
                    if options.to_disk:
                        size = out.stat().st_size
                        out.unlink()
                    if size != options.megabytes * 1_000_000:
                        raise RuntimeError(f"{variant}: wrote {size} bytes")
                best = min(runs, key=lambda run: run["wall"])
                baseline = baseline or best["wall"]
                print(
                    f"{variant:<24} | {best['wall']:>6.3f}s | {best['wall'] / baseline:>8.2f} | "
                    f"{max(run['peak_mb'] for run in runs):>8.1f} MB",
                    flush=True,
                )
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
