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

Each client is made, signed in and connected first; `download` times the download alone (the
chunk list and every chunk), `with start` adds making the client (an httpx2 client loads its
CA bundle; ours also signs in). Times are the best of `--repeat` runs; peak memory is the
process's high-water mark.

    PYTHONPATH=src .venv/bin/python benchmarks/client_download.py [--megabytes 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
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
    # A client that stops reading mid-chunk (the warm-up) hangs up.
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        _serve_requests(connection, chunk, chunks)


def _serve_requests(connection: socket.socket, chunk: bytes, chunks: int) -> None:
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


class _Plain:
    """HTTP/1.1 by hand on one keep-alive connection, read into one 1 MB buffer."""

    def __init__(self, port: int):
        self.connection = socket.create_connection(("127.0.0.1", port))
        self.buffer = bytearray(PIECE)
        self.pending = b""
        self._listing()  # warm: the connection is open and used once

    def _get(self, path: str) -> int:
        self.connection.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.pending:
            self.pending += self.connection.recv(65536)
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        return next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )

    def _listing(self) -> list[dict[str, str]]:
        length = self._get(f"{PREFIX}/files/{FILE_ID}/chunks")
        while len(self.pending) < length:
            self.pending += self.connection.recv(65536)
        chunks: list[dict[str, str]] = json.loads(self.pending[:length])["chunks"]
        self.pending = self.pending[length:]
        return chunks

    def download(self, out: Path) -> int:
        view = memoryview(self.buffer)
        total = 0
        with _sink(out) as handle:
            for item in self._listing():
                length = self._get(f"{PREFIX}/files/{FILE_ID}/chunks/{item['id']}")
                handle.write(self.pending)
                left = length - len(self.pending)
                self.pending = b""
                while left:
                    got = self.connection.recv_into(view, min(left, PIECE))
                    handle.write(view[:got])
                    left -= got
                total += length
        return total


class _Httpx:
    """httpx2's own streaming, `iter_raw` or `iter_bytes` (as received, or regrouped)."""

    def __init__(self, port: int, mode: str):
        import httpx2

        self.mode = mode
        self.http = httpx2.Client(base_url=f"http://127.0.0.1:{port}")
        self.http.get(f"{PREFIX}/files/{FILE_ID}/chunks").raise_for_status()  # warm

    def download(self, out: Path) -> int:
        total = 0
        chunks = self.http.get(f"{PREFIX}/files/{FILE_ID}/chunks").json()["chunks"]
        with _sink(out) as handle:
            for item in chunks:
                url = f"{PREFIX}/files/{FILE_ID}/chunks/{item['id']}"
                with self.http.stream("GET", url) as response:
                    if self.mode == "raw":
                        pieces = response.iter_raw()
                    else:
                        pieces = response.iter_bytes(PIECE if self.mode == "1 MB" else None)
                    for piece in pieces:
                        handle.write(piece)
                        total += len(piece)
        return total


class _Ours:
    """`Client.files.download`, the whole client, signed in and connected first."""

    def __init__(self, port: int):
        from anaplan_tasks import Client

        self.client = Client(
            base_url=f"http://127.0.0.1:{port}",
            email="demo@example.com",
            password="demo",
            workspace_id=WORKSPACE_ID,
            model_id=MODEL_ID,
            env={},
        )
        pieces = self.client.files.iter_download(FILE_ID)  # warm: signs in, connects
        next(iter(pieces))
        pieces.close()  # type: ignore[attr-defined]

    def download(self, out: Path) -> int:
        if out.name != "null":
            return self.client.files.download(FILE_ID, out)
        with _sink(out) as handle:
            return self.client.files.download(FILE_ID, handle)


def client(variant: str, port: int, out: Path) -> None:
    """One download in this process; prints JSON with the wall times and peak memory.

    `wall` is the download alone (client made, signed in and connected first, as a program
    that downloads has done before its download); `with_start` adds making the client.
    """
    import httpx2  # noqa: F401  (imports are not what is measured)

    import anaplan_tasks.client  # noqa: F401

    began = time.perf_counter()
    runner: _Plain | _Httpx | _Ours
    if variant == "plain socket":
        runner = _Plain(port)
    elif variant == "httpx2 iter_raw":
        runner = _Httpx(port, "raw")
    elif variant == "httpx2 iter_bytes()":
        runner = _Httpx(port, "as received")
    elif variant == "httpx2 iter_bytes(1 MB)":
        runner = _Httpx(port, "1 MB")
    else:
        runner = _Ours(port)
    ready = time.perf_counter()
    size = runner.download(out)
    done = time.perf_counter()
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    print(
        json.dumps(
            {"wall": done - ready, "with_start": done - began, "bytes": size, "peak_mb": peak}
        )
    )


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
            print(
                f"{'client':<24} | {'download':>8} | {'x socket':>8} | "
                f"{'with start':>10} | {'x socket':>8} | {'peak memory':>11}"
            )
            start_baseline = None
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
                wall = min(run["wall"] for run in runs)
                with_start = min(run["with_start"] for run in runs)
                baseline = baseline or wall
                start_baseline = start_baseline or with_start
                print(
                    f"{variant:<24} | {wall:>7.3f}s | {wall / baseline:>8.2f} | "
                    f"{with_start:>9.3f}s | {with_start / start_baseline:>8.2f} | "
                    f"{max(run['peak_mb'] for run in runs):>8.1f} MB",
                    flush=True,
                )
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
