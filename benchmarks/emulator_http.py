"""Benchmark: the emulator's HTTP layer over a real socket (not a timed test).

Measures request latency (`GET /2/0/users/me`), chunk upload throughput (raw and gzip, 25 MB
chunks), gzip-bomb refusal time, and an end-to-end list import over HTTP (upload, start, poll
to COMPLETE) in rows/s.

    PYTHONPATH=src python benchmarks/emulator_http.py [--rows N] [--data DIR]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import statistics
import tempfile
import time
import zlib
from pathlib import Path

import httpx2

from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.server import run_emulator

CHUNK_BYTES = 25 * 1024 * 1024
BASIC = {"Authorization": "Basic " + base64.b64encode(b"demo@example.com:demo").decode()}


def main() -> None:
    """Parse arguments and run every measurement against one emulator."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, help="data directory (default: a temporary one)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="emulator-http-bench-") as tmp,
        run_emulator(demo=True, data_dir=args.data or Path(tmp)) as emulator,
        httpx2.Client(base_url=emulator.base_url, timeout=600) as http,
    ):
        login = http.post("/token/authenticate", headers=BASIC).json()
        token = login["tokenInfo"]["tokenValue"]
        http.headers["Authorization"] = f"AnaplanAuthToken {token}"
        base, file_id, import_id = _demo_ids(http)
        latency(http)
        uploads(http, base, file_id)
        bomb(http, base, file_id)
        end_to_end(http, base, file_id, import_id, args.rows)


def _demo_ids(http: httpx2.Client) -> tuple[str, str, str]:
    models = http.get("/2/0/models").json()["models"]
    model = next(m for m in models if m["name"] == "FP&A Dev")
    base = f"/2/0/workspaces/{model['currentWorkspaceId']}/models/{model['id']}"
    files = http.get(f"{base}/files").json()["files"]
    imports = http.get(f"{base}/imports").json()["imports"]
    file_id = next(f["id"] for f in files if f["name"] == "employees.csv")
    import_id = next(i["id"] for i in imports if i["name"] == "Load Employees")
    return base, file_id, import_id


def latency(http: httpx2.Client, count: int = 2000) -> None:
    """Round trips of a small authenticated GET."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        http.get("/2/0/users/me")
        times.append(time.perf_counter() - started)
    times.sort()
    print(
        f"GET /2/0/users/me: median {statistics.median(times) * 1000:.2f} ms, "
        f"p99 {times[int(count * 0.99)] * 1000:.2f} ms ({count / sum(times):,.0f} req/s, 1 client)"
    )


def uploads(http: httpx2.Client, base: str, file_id: str, chunks: int = 8) -> None:
    """Chunk PUT throughput, raw and gzip (uncompressed MB/s)."""
    data = b"".join(generate_employees_csv(600_000))[:CHUNK_BYTES]
    packed = gzip.compress(data, compresslevel=1)
    path = f"{base}/files/{file_id}"
    for label, body, content_type in (
        ("raw", data, "application/octet-stream"),
        ("gzip", packed, "application/x-gzip"),
    ):
        http.post(path, json={"chunkCount": chunks})
        started = time.perf_counter()
        for index in range(chunks):
            response = http.put(
                f"{path}/chunks/{index}", content=body, headers={"Content-Type": content_type}
            )
            assert response.status_code == 204, response.text
        seconds = time.perf_counter() - started
        megabytes = chunks * len(data) / 1e6
        print(
            f"chunk PUT {label}: {megabytes / seconds:,.0f} MB/s uncompressed "
            f"({chunks} x {len(data) / 1e6:.0f} MB, {len(body) / 1e6:.1f} MB on the wire)"
        )


def bomb(http: httpx2.Client, base: str, file_id: str) -> None:
    """A 1 GB gzip bomb (1 MB on the wire): refused at the 50 MB cap."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    payload = b"".join(compressor.compress(block) for _ in range(1024)) + compressor.flush()
    started = time.perf_counter()
    response = http.put(
        f"{base}/files/{file_id}/chunks/0",
        content=payload,
        headers={"Content-Type": "application/x-gzip"},
    )
    seconds = time.perf_counter() - started
    print(
        f"gzip bomb ({len(payload) / 1e6:.1f} MB -> 1 GB): {response.status_code} "
        f"in {seconds * 1000:.0f} ms"
    )


def end_to_end(http: httpx2.Client, base: str, file_id: str, import_id: str, rows: int) -> None:
    """Upload employees.csv in gzip chunks, run the list import, poll until COMPLETE."""
    content = b"".join(generate_employees_csv(rows))
    pieces = [content[i : i + CHUNK_BYTES] for i in range(0, len(content), CHUNK_BYTES)]
    path = f"{base}/files/{file_id}"
    started = time.perf_counter()
    http.post(path, json={"chunkCount": len(pieces)})
    for index, piece in enumerate(pieces):
        http.put(
            f"{path}/chunks/{index}",
            content=gzip.compress(piece, compresslevel=1),
            headers={"Content-Type": "application/x-gzip"},
        )
    uploaded = time.perf_counter()
    tasks = f"{base}/imports/{import_id}/tasks"
    task_id = http.post(tasks, json={"localeName": "en_US"}).json()["task"]["taskId"]
    while True:
        task = http.get(f"{tasks}/{task_id}").json()["task"]
        if task["taskState"] in ("COMPLETE", "CANCELLED"):
            break
        time.sleep(0.05)
    done = time.perf_counter()
    assert task["result"]["successful"], task
    print(
        f"upload {len(content) / 1e6:.0f} MB in {len(pieces)} gzip chunks: "
        f"{uploaded - started:.2f} s (client-side gzip included)"
    )
    print(
        f"list import over HTTP, {rows:,} rows: start to COMPLETE {done - uploaded:.2f} s "
        f"= {rows / (done - uploaded):,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
