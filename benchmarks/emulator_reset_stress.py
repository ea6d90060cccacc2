"""Benchmark: resets while requests run (not a timed test).

Several threads upload, import, poll and download against one emulator over a real socket while
another resets it every `--every` seconds through `POST /_emulator/reset`. Reports how long each
reset took (it waits for the requests in flight and cancels running tasks), how many requests
were answered with which status, and any request that was not answered (a dropped connection or
a 5xx: there should be none).

    PYTHONPATH=src python benchmarks/emulator_reset_stress.py [--seconds 20] [--threads 4]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import threading
import time
from collections import Counter

import httpx2

from anaplan_tasks.emulator.demo import generate_employees_csv
from anaplan_tasks.emulator.server import run_emulator

BASIC = {"Authorization": "Basic " + base64.b64encode(b"demo@example.com:demo").decode()}
OCTETS = {"Content-Type": "application/octet-stream"}


def main() -> None:
    """Parse arguments, run the load and the resets, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between resets")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per upload")
    args = parser.parse_args()
    content = b"".join(generate_employees_csv(args.rows, 5, seed=1))
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    with run_emulator(demo=True) as emulator:
        until = time.monotonic() + args.seconds

        def record(key: str) -> None:
            with lock:
                statuses[key] += 1

        def load() -> None:
            with httpx2.Client(base_url=emulator.base_url, timeout=120) as http:
                base, file_id, import_id = "", "", ""
                while time.monotonic() < until:
                    try:
                        if not base:
                            token = http.post("/token/authenticate", headers=BASIC)
                            record(f"POST {token.status_code}")
                            value = token.json()["tokenInfo"]["tokenValue"]
                            http.headers["Authorization"] = f"AnaplanAuthToken {value}"
                            base, file_id, import_id = _demo_ids(http)
                        for method, path, body in _round(base, file_id, import_id, content):
                            response = http.request(method, path, content=body, headers=OCTETS)
                            record(f"{method} {response.status_code}")
                            if response.status_code >= 500:
                                failures.append(f"{method} {path}: {response.status_code}")
                            if response.status_code == 401:
                                base = ""  # a reset dropped the token: sign in again
                                break
                    except httpx2.TransportError as error:
                        failures.append(repr(error))
                    except (KeyError, StopIteration):  # a listing read across a reset
                        base = ""

        threads = [threading.Thread(target=load) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        took: list[float] = []
        with httpx2.Client(base_url=emulator.base_url, timeout=120) as control:
            while time.monotonic() < until:
                time.sleep(args.every)
                started = time.perf_counter()
                status = control.post("/_emulator/reset").status_code
                took.append(time.perf_counter() - started)
                if status != 204:
                    failures.append(f"reset: {status}")
        for thread in threads:
            thread.join()
        alive = httpx2.get(f"{emulator.base_url}/_emulator/health").status_code == 200
    answered = sum(statuses.values())
    print(f"{args.threads} threads, {args.seconds:g} s, a reset every {args.every:g} s")
    print(
        f"resets: {len(took)}, took median {statistics.median(took) * 1000:.1f} ms, "
        f"max {max(took) * 1000:.1f} ms"
    )
    by_status = ", ".join(f"{key}: {count}" for key, count in sorted(statuses.items()))
    print(f"requests answered: {answered} ({by_status})")
    print(f"not answered or 5xx: {len(failures)}; server alive after: {alive}")
    for failure in failures[:10]:
        print("  ", failure)


def _demo_ids(http: httpx2.Client) -> tuple[str, str, str]:
    models = http.get("/2/0/models").json()["models"]
    model = next(m for m in models if m["name"] == "FP&A Dev")
    base = f"/2/0/workspaces/{model['currentWorkspaceId']}/models/{model['id']}"
    files = http.get(f"{base}/files").json()["files"]
    imports = http.get(f"{base}/imports").json()["imports"]
    file_id = next(f["id"] for f in files if f["name"] == "employees.csv")
    import_id = next(i["id"] for i in imports if i["name"] == "Load Employees")
    return base, file_id, import_id


def _round(
    base: str, file_id: str, import_id: str, content: bytes
) -> list[tuple[str, str, bytes | None]]:
    tasks = f"{base}/imports/{import_id}/tasks"
    return [
        ("PUT", f"{base}/files/{file_id}", content),
        ("POST", tasks, b'{"localeName": "en_US"}'),
        ("GET", tasks, None),
        ("GET", f"{base}/files/{file_id}", None),
    ]


if __name__ == "__main__":
    main()
