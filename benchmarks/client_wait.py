"""Waiting for tasks: status requests and detection delay, anaplan-tasks vs anaplan-sdk.

The emulator runs every task for a fixed time (`fixed` progression, progress spread evenly).
anaplan-tasks waits on the "FP&A Dev" model while anaplan-sdk waits on "FP&A Prod", at the same
time, so both see the same durations. Requests are the status reads the emulator counted for
each task; the detection delay is how long after the task's end its client returned.

Run (from the repository root, in the benchmarks' venv made by `benchmarks/client_venv.sh`):

    PYTHONPATH=src /tmp/anaplan-bench-venv/bin/python benchmarks/client_wait.py \
        --emulator-python /work/.venv/bin/python [--durations 1 10 60 300]
"""

from __future__ import annotations

import threading
import time
from typing import Any

from _client_common import arguments, emulator, our_client, sdk_client

CSV = b'"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\nE1,Ada,NA,2020-01-01,true,1,1\n'


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[1, 10, 60, 300])
    options = parser.parse_args()
    with emulator(options.emulator_python) as emu:
        ours = our_client(emu, emu.dev_model_id)
        ours.files.upload("employees.csv", CSV)
        import_id = ours.imports.get("Load Employees").id
        sdk: Any = None
        if not options.no_sdk:
            sdk = sdk_client(emu, emu.prod_model_id)
            sdk.upload_file(int(ours.files.get("employees.csv").id), CSV)
        print(f"{'task':>6} | {'client':<14} | {'status reads':>12} | {'detection delay':>15}")
        for duration in options.durations:
            emu.control("PUT", "progression", {"mode": "fixed", "seconds": duration})
            results: dict[str, tuple[str, float]] = {}

            def run_ours(duration: float = duration, results: dict[str, Any] = results) -> None:
                began = time.monotonic()
                ref = ours.imports.start("Load Employees")
                ours.tasks.wait(ref)
                results["anaplan-tasks"] = (ref.task_id, time.monotonic() - began - duration)

            def run_sdk(duration: float = duration, results: dict[str, Any] = results) -> None:
                began = time.monotonic()
                task = sdk.run_action(int(import_id))
                results["anaplan-sdk"] = (task.id, time.monotonic() - began - duration)

            threads = [threading.Thread(target=run_ours)]
            if sdk is not None:
                threads.append(threading.Thread(target=run_sdk))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            polls = emu.control("GET", "polls")["polls"]
            for name, (task_id, delay) in sorted(results.items(), reverse=True):
                print(
                    f"{duration:>5g}s | {name:<14} | {polls.get(task_id, 0):>12} | {delay:>14.3f}s",
                    flush=True,
                )
        ours.close()


if __name__ == "__main__":
    main()
