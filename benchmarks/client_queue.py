"""Queued tasks: 200 imports on 50 models x 4 (5 s each), anaplan-tasks vs anaplan-sdk.

Anaplan runs one task at a time per model, so on each model the 4 tasks run back to back: the
ideal wall time is 4 x 5 s = 20 s, and every task but the first waits in its model's queue.
Each client uses its `AsyncClient` in one event loop; the runs take turns (never at the same
time), on the same emulator:

- `anaplan-sdk`: `run_action` for each of the 200 tasks at once (it polls every second).
- `anaplan-tasks run`: `imports.run` for each of the 200 tasks at once: the polling schedule
  alone copes with the queue.
- `anaplan-tasks in queue order`: per model, start the 4 tasks one after the other and wait for
  them, meanwhile, in the order they were started: what a client that started the tasks knows
  of each model's queue (a task cannot start before the one ahead of it ends, so its wait
  begins then).

Status reads are those the emulator counted for the run's tasks; `late` is the mean and the
worst time between a task's end (as the emulator recorded it, `GET /_emulator/tasks`) and its
client's return. Each task's allowance is max(1 s, 5% of Q + D), Q its time queued and D its
time running (both as the emulator recorded them); `over` counts the tasks returned later than
that; the five latest tasks are listed under each row. `--tasks 13` queues the last task of
each model 60 s.

Run (from the repository root, in the benchmarks' venv made by `benchmarks/client_venv.sh`):

    PYTHONPATH=src /tmp/anaplan-bench-venv/bin/python benchmarks/client_queue.py \\
        --emulator-python .venv/bin/python [--models 50 --tasks 4 --seconds 5] [--no-sdk]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _client_common import (
    DEMO_PASSWORD,
    DEMO_USER,
    AsyncRedirectTransport,
    Emulator,
    arguments,
    emulator,
    sdk_token,
)

CSV = b'"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\nE1,Ada,NA,2020-01-01,true,1,1\n'
MODEL = """
[[workspaces.models]]
name = "Queue {index:02d}"

[[workspaces.models.lists]]
name = "Employees"

[[workspaces.models.files]]
name = "employees.csv"

[[workspaces.models.imports]]
name = "Load Employees"
file = "employees.csv"
target_list = "Employees"
[workspaces.models.imports.mapping]
code = "Employee ID"
name = "Name"
"""

Ends = dict[str, float]  # task id -> when its client returned (seconds since the epoch)


def definition(path: Path, models: int) -> Path:
    """A workspace of `models` models, each with one import (users come from the demo)."""
    text = f'[[workspaces]]\nname = "Queue Bench"\nadmins = ["{DEMO_USER}"]\n'
    text += "".join(MODEL.format(index=index) for index in range(models))
    path.write_text(text)
    return path


async def ours_run(emu: Emulator, model_ids: list[str], tasks: int, ordered: bool) -> Ends:
    from anaplan_tasks.client import AsyncClient, TaskRef

    returned: Ends = {}
    async with AsyncClient(
        base_url=emu.base_url,
        email=DEMO_USER,
        password=DEMO_PASSWORD,
        workspace_id=emu.workspace_id,
        model_id=model_ids[0],
        env={},
    ) as client:
        models = [client.with_model(model_id) for model_id in model_ids]

        async def independent(index: int) -> None:
            task = await models[index].imports.run("Load Employees")
            returned[task.id] = time.time()

        async def in_order(index: int) -> None:
            # Start the model's tasks one after the other and, meanwhile, wait for each in
            # the order started (the first may end before the last start returns).
            model = models[index]
            started: asyncio.Queue[TaskRef] = asyncio.Queue()

            async def start_all() -> None:
                for _ in range(tasks):
                    started.put_nowait(await model.imports.start("Load Employees"))

            async def wait_all() -> None:
                for _ in range(tasks):
                    ref = await started.get()
                    await model.tasks.wait(ref)
                    returned[ref.task_id] = time.time()

            await asyncio.gather(start_all(), wait_all())

        if ordered:
            await asyncio.gather(*(in_order(index) for index in range(len(models))))
        else:
            await asyncio.gather(
                *(independent(index) for index in range(len(models)) for _ in range(tasks))
            )
        for model in models:
            await model.aclose()
    return returned


async def sdk_run(emu: Emulator, model_ids: list[str], tasks: int, import_id: int) -> Ends:
    import anaplan_sdk

    returned: Ends = {}
    token = sdk_token(emu)
    clients = [
        anaplan_sdk.AsyncClient(
            token=token,
            workspace_id=emu.workspace_id,
            model_id=model_id,
            user_email=DEMO_USER,
            password=DEMO_PASSWORD,
            transport=AsyncRedirectTransport(emu.base_url),
        )
        for model_id in model_ids
    ]

    async def one(index: int) -> None:
        task = await clients[index].run_action(import_id)
        returned[task.id] = time.time()

    await asyncio.gather(*(one(index) for index in range(len(clients)) for _ in range(tasks)))
    return returned


def measure(emu: Emulator, name: str, run: Callable[[], Awaitable[Ends]]) -> dict[str, Any]:
    began = time.monotonic()
    returned = asyncio.run(run())
    wall = time.monotonic() - began
    polls = emu.control("GET", "polls")["polls"]
    reads = sum(polls.get(task_id, 0) for task_id in returned)
    times = {row["taskId"]: row for row in emu.control("GET", "tasks")["tasks"]}
    late: list[float] = []
    over = 0
    longest_queue = 0.0
    worst: list[tuple[float, float, float, int]] = []
    for task_id, at in returned.items():
        row = times[task_id]
        queued = (row["startedMs"] - row["createdMs"]) / 1000
        running = (row["finishedMs"] - row["startedMs"]) / 1000
        late.append(at - row["finishedMs"] / 1000)
        over += late[-1] > max(1.0, 0.05 * (queued + running))
        worst.append((late[-1], queued, running, polls.get(task_id, 0)))
        longest_queue = max(longest_queue, queued)
    return {
        "client": name,
        "wall": wall,
        "reads": reads,
        "late_mean": sum(late) / len(late),
        "late_max": max(late),
        "over": over,
        "longest_queue": longest_queue,
        "worst": sorted(worst, reverse=True)[:5],
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=4, help="tasks per model")
    parser.add_argument("--seconds", type=float, default=5.0, help="each task's run time")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = definition(Path(scratch) / "queue.toml", options.models)
        with emulator(options.emulator_python, path) as emu:
            assert emu.models is not None
            model_ids = [emu.models[f"Queue {index:02d}"] for index in range(options.models)]
            _prepare(emu, model_ids)
            import_id = _import_id(emu, model_ids[0])
            emu.control("PUT", "progression", {"mode": "fixed", "seconds": options.seconds})
            ideal = options.tasks * options.seconds
            runs: list[tuple[str, Callable[[], Awaitable[Ends]]]] = []
            if not options.no_sdk:
                runs.append(
                    (
                        "anaplan-sdk",
                        lambda: sdk_run(emu, model_ids, options.tasks, import_id),
                    )
                )
            runs.append(
                ("anaplan-tasks run", lambda: ours_run(emu, model_ids, options.tasks, False))
            )
            runs.append(
                (
                    "anaplan-tasks in queue order",
                    lambda: ours_run(emu, model_ids, options.tasks, True),
                )
            )
            print(
                f"{options.models} models x {options.tasks} tasks of {options.seconds:g} s "
                f"(ideal {ideal:g} s)"
            )
            print(
                f"{'client':<30} | {'wall':>7} | {'x ideal':>7} | {'reads':>6} | "
                f"{'late mean':>9} | {'late max':>8} | {'over':>4} | {'max Q':>6}"
            )
            for name, run in runs:
                row = measure(emu, name, run)
                print(
                    f"{name:<30} | {row['wall']:>6.2f}s | {row['wall'] / ideal:>7.3f} | "
                    f"{row['reads']:>6} | {row['late_mean']:>8.2f}s | {row['late_max']:>7.2f}s | "
                    f"{row['over']:>4} | {row['longest_queue']:>5.1f}s",
                    flush=True,
                )
                worst = ", ".join(
                    f"{late:.2f}s (Q {queued:.1f}s, D {ran:.1f}s, {reads} reads)"
                    for late, queued, ran, reads in row["worst"]
                )
                print(f"    latest: {worst}")


def _prepare(emu: Emulator, model_ids: list[str]) -> None:
    from anaplan_tasks import Client

    with Client(
        base_url=emu.base_url,
        email=DEMO_USER,
        password=DEMO_PASSWORD,
        workspace_id=emu.workspace_id,
        model_id=model_ids[0],
        env={},
    ) as client:
        for model_id in model_ids:
            with client.with_model(model_id) as model:
                model.files.upload("employees.csv", CSV)


def _import_id(emu: Emulator, model_id: str) -> int:
    from anaplan_tasks import Client

    with Client(
        base_url=emu.base_url,
        email=DEMO_USER,
        password=DEMO_PASSWORD,
        workspace_id=emu.workspace_id,
        model_id=model_id,
        env={},
    ) as client:
        return int(client.imports.get("Load Employees").id)


if __name__ == "__main__":
    main()
