"""Plain data the client hands to its callers (re-exported by `anaplan_tasks.client`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import ActionKind, BulkTaskStatus


@dataclass(frozen=True)
class TaskRef:
    """Which task: the action's kind and id, and the task id.

    Attributes:
        kind: `imports`, `exports`, `actions` or `processes`.
        action_id: The action's id (`112…`, `116…`, `117…`, `118…`).
        task_id: The task's id.
        action_name: The action's name, when known (for messages).
    """

    kind: ActionKind
    action_id: str
    task_id: str
    action_name: str | None = None

    def describe(self) -> str:
        """`import 'Name' (112…) task ABC…` for messages."""
        noun = {"imports": "import", "exports": "export", "actions": "action"}.get(
            self.kind, "process"
        )
        name = f" {self.action_name!r}" if self.action_name else ""
        return f"{noun}{name} ({self.action_id}) task {self.task_id}"


@dataclass(frozen=True)
class ProgressUpdate:
    """What a wait's progress callback receives after each poll.

    Attributes:
        task: The status just read.
        progress: 0.0 to 1.0 as the task reports it.
        current_step: The task's current step, if it says.
        elapsed: Seconds since the wait began.
        estimated_remaining: Seconds the task should still need, from its progress; None when
            there is no estimate yet.
    """

    task: BulkTaskStatus
    progress: float
    current_step: str | None
    elapsed: float
    estimated_remaining: float | None


@dataclass(frozen=True)
class DumpRow:
    """One row of a failure dump: a source row that was rejected (E) or warned about (W).

    Attributes:
        status: `E` (error, row rejected) or `W` (warning, row loaded with a problem).
        line: The row's line number in the uploaded file, when given.
        errors: The error texts (`_Error_1_`, `_Error_2_`, …), empty ones left out.
        columns: The source row's columns by header name.
        object_id: The import that produced the dump (the nested import of a process).
    """

    status: str
    line: int | None
    errors: list[str]
    columns: dict[str, str] = field(default_factory=dict)
    object_id: str | None = None
