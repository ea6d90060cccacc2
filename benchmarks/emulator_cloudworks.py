"""Benchmark: a CloudWorks import run (bucket → model) and export run (model → bucket) against
the same work through the bulk API, on one emulator over loopback.

The demo's employees.csv (N rows) sits in a bucket (a temporary directory). Side by side:

- CloudWorks: `POST /integrations/{id}/run`, then `GET /integrations/run/{runId}` until it
  ends (the run uploads the file to the model itself and runs "Load Employees");
- bulk: `PUT …/files/{id}/chunks/{n}` (25 MB chunks) + `POST …/imports/{id}/tasks`, then the
  task's status until COMPLETE;

(both after an untimed first load, so both update the same rows), then "Headcount Export"
both ways (a CloudWorks export run writing into the bucket, against a
bulk export task plus a download of its file). Prints wall times, rows/s and the emulator
process's peak RSS growth (the runs stream the file: it never sits whole in memory).

    PYTHONPATH=src .venv/bin/python benchmarks/emulator_cloudworks.py [--rows N] [--data]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.server import run_emulator

CHUNK_BYTES = 25 * 1024 * 1024
CW = "/2/0/integrations"


def main() -> None:
    """Parse arguments and run both ways in one emulator."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--data", action="store_true", help="a durable store (fsync) on disk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cloudworks-bench-") as tmp:
        root = Path(tmp)
        bucket = root / "bucket"
        (bucket / "in").mkdir(parents=True)
        source = bucket / "in" / "employees.csv"
        with source.open("wb") as out:
            for block in generate_employees_csv(args.rows):
                out.write(block)
        definition = root / "bucket.toml"
        definition.write_text(f'[[buckets]]\nname = "landing"\npath = "{bucket}"\n')
        data_dir = root / "data" if args.data else None
        with run_emulator(demo=True, definitions=[definition], data_dir=data_dir) as emulator:
            measure(emulator.base_url, source, args.rows)


def _wait(check: Callable[[], bool]) -> None:
    while not check():
        time.sleep(0.02)


def _timed(label: str, rows: int, work: Callable[[], Any]) -> float:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(
        f"{label:<44} {elapsed:7.2f} s  {rows / elapsed:>10,.0f} rows/s  peak RSS +{grown:.0f} MB"
    )
    return elapsed


def measure(base_url: str, source: Path, rows: int) -> None:
    """Set the integrations up, then time each way."""
    api = httpx2.Client(base_url=base_url, timeout=600)
    token = api.post("/token/authenticate", auth=("demo@example.com", "demo")).json()
    api.headers["Authorization"] = f"AnaplanAuthToken {token['tokenInfo']['tokenValue']}"
    (workspace,) = api.get("/2/0/workspaces").json()["workspaces"]
    models = api.get(f"/2/0/workspaces/{workspace['id']}/models").json()["models"]
    model = next(m for m in models if m["name"] == "FP&A Dev")
    base = f"/2/0/models/{model['id']}"
    imports = {i["name"]: i for i in api.get(f"{base}/imports").json()["imports"]}
    exports = {e["name"]: e for e in api.get(f"{base}/exports").json()["exports"]}
    load, export = imports["Load Employees"], exports["Headcount Export"]
    connection = api.post(
        f"{CW}/connections",
        json={
            "type": "AmazonS3",
            "body": {
                "name": "landing",
                "bucketName": "landing",
                "accessKeyId": "k",
                "secretAccessKey": "s",
                "workspaceId": workspace["id"],
            },
        },
    ).json()["connections"]["connectionId"]

    def integration(name: str, job: dict[str, Any]) -> str:
        body = {
            "name": name,
            "workspaceId": workspace["id"],
            "modelId": model["id"],
            "jobs": [job],
        }
        integration_id: str = api.post(CW, json=body).json()["integration"]["integrationId"]
        return integration_id

    importer = integration(
        "load",
        {
            "type": "AmazonS3ToAnaplan",
            "sources": [
                {"type": "AmazonS3", "connectionId": connection, "file": "in/employees.csv"}
            ],
            "targets": [
                {"type": "Anaplan", "actionId": load["id"], "fileId": load["importDataSourceId"]}
            ],
        },
    )
    exporter = integration(
        "send",
        {
            "type": "AnaplanToAmazonS3",
            "sources": [{"type": "Anaplan", "actionId": export["id"]}],
            "targets": [
                {"type": "AmazonS3", "connectionId": connection, "file": "out/", "overwrite": True}
            ],
        },
    )

    def cloudworks_run(integration_id: str) -> None:
        run_id = api.post(f"{CW}/{integration_id}/run").json()["run"]["id"]
        _wait(lambda: api.get(f"{CW}/run/{run_id}").json()["run"]["endDate"] is not None)

    def bulk_import(action: dict[str, Any] = load) -> None:
        file_id = load["importDataSourceId"]
        count = -(-source.stat().st_size // CHUNK_BYTES)
        api.post(f"{base}/files/{file_id}", json={"chunkCount": count})
        with source.open("rb") as data:
            for index in range(count):
                api.put(
                    f"{base}/files/{file_id}/chunks/{index}",
                    content=data.read(CHUNK_BYTES),
                    headers={"Content-Type": "application/octet-stream"},
                )
        task = api.post(f"{base}/imports/{action['id']}/tasks", json={"localeName": "en_US"})
        task_id = task.json()["task"]["taskId"]
        path = f"{base}/imports/{action['id']}/tasks/{task_id}"
        _wait(lambda: api.get(path).json()["task"]["taskState"] == "COMPLETE")

    def bulk_export() -> None:
        task = api.post(f"{base}/exports/{export['id']}/tasks", json={"localeName": "en_US"})
        task_id = task.json()["task"]["taskId"]
        path = f"{base}/exports/{export['id']}/tasks/{task_id}"
        _wait(lambda: api.get(path).json()["task"]["taskState"] == "COMPLETE")
        with api.stream("GET", f"{base}/files/{export['id']}") as response:
            for _ in response.iter_bytes():
                pass

    size = source.stat().st_size / 1e6
    print(f"{rows:,} rows, {size:.1f} MB; emulator in this process")
    # Untimed: the list's items and the module's cells exist, so both timed imports update
    # the same rows and both exports write them.
    bulk_import()
    bulk_import(imports["Load Headcount"])
    _timed("bulk: upload + import task", rows, bulk_import)
    _timed("CloudWorks: import run (bucket → model)", rows, lambda: cloudworks_run(importer))
    _timed("bulk: export task + download", rows, bulk_export)
    _timed("CloudWorks: export run (model → bucket)", rows, lambda: cloudworks_run(exporter))


if __name__ == "__main__":
    main()
