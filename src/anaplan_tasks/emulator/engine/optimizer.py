"""Optimizer actions (`117…`, `actionType: OPTIMIZER`): a task that solves and leaves a
solution log.

Anaplan runs an optimizer as a model action (on its own, or as a step of a process) and keeps
the solver's log for 48 hours after it was last read, under the optimizer's id and the id of the
task that ran it (`GET {ws-base}/optimizeActions/{actionId}/tasks/{correlationId}/solutionLogs`).

The emulator's solver is a stand-in with the same outcomes: its decision variables are the
module's stored cells of the objective line item (one row and one column each), the objective
is their sum, and an action defined `feasible = false` finds no solution (the task completes
unsuccessfully, with a log that says so). It writes nothing back to the model. The log reads
like the Gurobi-style text Anaplan serves.
"""

from __future__ import annotations

from ...models import TaskResult
from ..definitions import OptimizerDef
from . import results
from .context import ActionContext, ActionOutcome

LOG_RETENTION_SECONDS = 48 * 3600.0
"""A solution log is deleted this long after it was last read (Anaplan: 48 hours)."""

LOG_KEY = "solutionLog"
"""The prefix of the key a solution log is stored under (with the task and the action)."""


def log_key(task_id: str, action_id: str) -> str:
    """The store key of one run's solution log (never dropped by a later run)."""
    return f"{LOG_KEY}:{task_id}:{action_id}"


def run_optimizer(ctx: ActionContext, action_id: str, definition: OptimizerDef) -> ActionOutcome:
    """Solve (the stand-in), and leave the result and the log for the task to commit."""
    ctx.tick(0.0, "Optimizing")
    variables = 0
    total = 0.0
    for count, (_, values) in enumerate(ctx.txn.cells(definition.module)):
        if not count & 4095:
            ctx.check_cancel()
        value = values.get(definition.objective)
        if isinstance(value, int | float) and not isinstance(value, bool):
            variables += 1
            total += float(value)
    ctx.tick(1.0, "Optimized")
    log = _log(definition, variables, total)
    if not definition.feasible:
        result = TaskResult.build(
            successful=False,
            failure_dump_available=False,
            object_id=action_id,
            details=[
                results.detail(
                    "optimizerInfeasible",
                    f"{definition.name}: the model is infeasible; no solution was found.",
                    [("optimizerName", definition.name)],
                )
            ],
        )
    else:
        result = TaskResult.build(
            successful=True,
            failure_dump_available=False,
            object_id=action_id,
            details=[
                results.detail(
                    "optimizerSucceeded",
                    f"{definition.name}: optimal solution found, objective {_number(total)}.",
                    [
                        ("optimizerName", definition.name),
                        ("objectiveValue", _number(total)),
                        ("variables", variables),
                    ],
                )
            ],
        )
    return ActionOutcome(result=result, log=log)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _log(definition: OptimizerDef, variables: int, total: float) -> bytes:
    lines = [
        f"Optimize a model with {variables} rows, {variables} columns and {variables} nonzeros",
        f"Variable types: {variables} continuous, 0 integer (0 binary)",
        f"Objective: {definition.sense} the sum of {definition.module}.{definition.objective}",
        "Presolve time: 0.00s",
    ]
    if definition.feasible:
        lines += [
            f"Explored 1 nodes ({variables} simplex iterations) in 0.01 seconds",
            "Optimal solution found (tolerance 1.00e-04)",
            f"Best objective {total:.12e}, best bound {total:.12e}, gap 0.0000%",
        ]
    else:
        lines += [
            "Explored 0 nodes (0 simplex iterations) in 0.01 seconds",
            "Model is infeasible",
            "Best objective -, best bound -, gap -",
        ]
    return ("\n".join(lines) + "\n").encode()
