"""N callers start one import at the same time under 20% faults: whose task does each call get?

Each caller is its own user (so each has its own private upload of the import's file, as on
Anaplan) with its own `Client`, in its own thread, and runs `--calls` imports of "Load
Employees" one after the other. Every call uploads a number of rows no other call uses, with
ids no other call uses, so a task's `totalRowCount` names the call whose upload it imported and
the list's items say which rows landed. The emulator (in this process, so the benchmark can read
the list's items from its store) faults 20% of the task
starts: 8% answer 503 (with Anaplan's error body), 6% commit and lose the answer
(`reset_after`), 6% commit after the client gave up (`late_commit`, 0.3 s later).

Reported per client setting:

* duplicates: tasks beyond the first for one call (the action ran twice for one call);
* adopted strangers: calls that returned a task that imported another call's rows;
* lost rows: rows a call reported as loaded that are not in the list;
* unreported rows: rows in the list from calls that raised (AmbiguousStartError) instead;
* raised: the calls that raised, by error class.

Settings: `keys` (default policy: learns from the emulator's echo that it honours
Idempotency-Key), `keyless-shared` (keys ignored, `shared_actions=True`: the right setting when
other processes start the same action), and `keyless` (keys ignored, `shared_actions=False`: the
documented assumption that nobody else starts the action is broken on purpose here).

Run (from the repository root):

    .venv/bin/python benchmarks/client_start_stress.py [--callers 8] [--calls 25]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from anaplan_tasks import AmbiguousStartError, AnaplanError, Client
from anaplan_tasks.client import PollPolicy, RetryPolicy
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.demo import DEV_MODEL
from anaplan_tasks.emulator.server import RunningEmulator, run_emulator
from anaplan_tasks.models import CompletedTask

TASKS = "*/imports/*/tasks"
FAULTS = [
    FaultRule("status", method="POST", path=TASKS, probability=0.08, status=503),
    FaultRule("reset_after", method="POST", path=TASKS, probability=0.06 / 0.92),
    FaultRule("late_commit", method="POST", path=TASKS, probability=0.06 / 0.86, delay=0.3),
]
"""20% of starts: the rules are tried in order, so later probabilities are conditional."""

POLL = PollPolicy(initial_interval=0.05, min_interval=0.1, max_interval=0.5, fast_phase=1.0)
SETTINGS: dict[str, RetryPolicy] = {
    "keys": RetryPolicy(base_delay=0.05, max_delay=0.5, max_attempts=6),
    "keyless-shared": RetryPolicy(
        base_delay=0.05,
        max_delay=0.5,
        max_attempts=6,
        idempotency_keys="ignored",
        shared_actions=True,
    ),
    "keyless": RetryPolicy(
        base_delay=0.05, max_delay=0.5, max_attempts=6, idempotency_keys="ignored"
    ),
}


@dataclass
class Call:
    rows: int
    first: int
    task: CompletedTask | None = None
    error: AnaplanError | None = None

    def csv(self) -> bytes:
        lines = ['"Employee ID",Name,Region,"Start Date",Active,Salary,FTE']
        for number in range(self.first, self.first + self.rows):
            lines.append(f"E{number:07d},Person {number},NA,2020-01-01,true,1,1")
        return ("\n".join(lines) + "\n").encode()

    def codes(self) -> set[str]:
        return {f"E{number:07d}" for number in range(self.first, self.first + self.rows)}


def users_toml(callers: int) -> str:
    parts = []
    for index in range(callers):
        parts.append(f'[[users]]\nemail = "caller{index}@example.com"\npassword = "p{index}"\n')
    admins = ", ".join(f'"caller{index}@example.com"' for index in range(callers))
    parts.append(f'[[workspaces]]\nname = "Demo Workspace"\nadmins = [{admins}]\n')
    return "\n".join(parts)


def total_rows(task: Any) -> int:
    for detail in task.result.details:
        values = dict(zip(detail.values[::2], detail.values[1::2], strict=False))
        if "totalRowCount" in values:
            return int(values["totalRowCount"])
    return -1


@dataclass
class Target:
    emulator: RunningEmulator
    workspace_id: str
    model_id: str


def client_for(target: Target, index: int, retry: RetryPolicy) -> Client:
    return Client(
        base_url=target.emulator.base_url,
        email=f"caller{index}@example.com",
        password=f"p{index}",
        workspace_id=target.workspace_id,
        model_id=target.model_id,
        retry=retry,
        poll=POLL,
        env={},
    )


def run(target: Target, name: str, retry: RetryPolicy, callers: int, calls: int, seed: int) -> None:
    control = target.emulator.control
    control.reset()
    control.load_definition(users_toml(callers))
    plan: list[list[Call]] = []
    next_id = 1
    for index in range(callers):
        mine = []
        for number in range(calls):
            rows = 1 + index * calls + number
            mine.append(Call(rows, next_id))
            next_id += rows
        plan.append(mine)
    control.set_faults([replace(rule) for rule in FAULTS], seed)

    def caller(index: int) -> None:
        with client_for(target, index, retry) as client:
            for call in plan[index]:
                try:
                    call.task = client.imports.run("Load Employees", call.csv())
                except AnaplanError as error:
                    call.error = error

    began = time.monotonic()
    threads = [threading.Thread(target=caller, args=(index,)) for index in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    while control.faults.snapshot()["lateCommitsPending"]:
        time.sleep(0.1)
    fired = sum(rule["hits"] for rule in control.faults.snapshot()["rules"])
    control.clear_faults()
    time.sleep(1.0)  # let the late-committed tasks run

    every = [call for mine in plan for call in mine]
    by_rows = {call.rows: call for call in every}
    with client_for(target, 0, SETTINGS["keys"]) as reader:
        listed = reader.imports.list_tasks("Load Employees")
        tasks_per_call: Counter[int] = Counter()
        for item in listed:
            status = reader.imports.status("Load Employees", item.id)
            if isinstance(status, CompletedTask):
                tasks_per_call[total_rows(status)] += 1
    rows = set(control.engine.model_data(target.model_id).item_keys("Employees"))
    duplicates = sum(count - 1 for count in tasks_per_call.values() if count > 1)
    strangers = sum(1 for call in every if call.task and total_rows(call.task) != call.rows)
    reported = set().union(*(call.codes() for call in every if call.task))
    lost = len(reported - rows)
    unreported = len(rows - reported)
    raised = Counter(type(call.error).__name__ for call in every if call.error)
    ambiguous = sum(1 for call in every if isinstance(call.error, AmbiguousStartError))
    unknown = sum(1 for rows_count in tasks_per_call if rows_count not in by_rows)
    print(
        f"{name:<14} | {len(every):>5} | {fired:>6} | {len(listed):>5} | {duplicates:>4} | "
        f"{strangers:>9} | {lost:>4} | {unreported:>10} | {ambiguous:>9} | "
        f"{dict(raised) or '-'!s:<28} | {wall:>6.1f}"
        + (f" | {unknown} tasks of no call" if unknown else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--calls", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    options = parser.parse_args()
    with run_emulator(demo=True) as running:
        login = {"email": "demo@example.com", "password": "demo", "env": {}}
        with Client(base_url=running.base_url, **login) as client:  # type: ignore[arg-type]
            workspace = client.workspaces.list()[0]
            model = next(m for m in client.models.list(workspace.id) if m.name == DEV_MODEL)
        target = Target(running, workspace.id, model.id)
        print(
            f"{options.callers} callers x {options.calls} imports of one action, "
            "20% of starts faulted"
        )
        print(
            f"{'setting':<14} | {'calls':>5} | {'faults':>6} | {'tasks':>5} | {'dups':>4} | "
            f"{'strangers':>9} | {'lost':>4} | {'unreported':>10} | {'ambiguous':>9} | "
            f"{'raised':<28} | {'wall s':>6}"
        )
        for name in options.settings:
            run(target, name, SETTINGS[name], options.callers, options.calls, options.seed)


if __name__ == "__main__":
    main()
