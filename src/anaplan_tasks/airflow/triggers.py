"""`AnaplanTaskTrigger`: waits in the triggerer for an Anaplan task to end.

It holds no worker slot: the wait is one coroutine of the async client's polling schedule
(`AsyncClient.tasks.wait` / `alm.wait`), so a triggerer carries thousands of them. The event
says only that the task ended (or why the wait stopped); the worker reads the final status
again to build the result, the failure message and the dumps, exactly as a plain run does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from ..client import AlmTaskRef, AsyncClient, TaskRef
from ..errors import AnaplanError, TaskCancelledError, TaskFailedError, TaskTimeoutError
from .hooks import AnaplanHook

ALM_KINDS = ("syncTasks", "comparisonReportTasks", "summaryReportTasks")

_SHARED: dict[tuple[str, int], list[Any]] = {}
"""The clients of this triggerer process, one per connection and event loop, with how many
triggers use each: the triggers of a connection sign in once, not once each (a trigger with
another workspace or model uses a copy, which shares the sign-in)."""


@asynccontextmanager
async def _shared_client(hook: AnaplanHook) -> AsyncIterator[AsyncClient]:
    key = (hook.anaplan_conn_id, id(asyncio.get_running_loop()))
    entry = _SHARED.get(key)
    if entry is None:
        made = await AnaplanHook(hook.anaplan_conn_id).get_async_conn()  # others run meanwhile
        entry = _SHARED.get(key)
        if entry is None:
            entry = _SHARED[key] = [made, 0]
        else:
            await made.aclose()  # never signed in: another trigger made one first
    entry[1] += 1
    base: AsyncClient = entry[0]
    client = base
    if hook.model:
        client = base.with_model(hook.model, hook.workspace)
    elif hook.workspace:
        client = base.with_options(workspace_id=hook.workspace)
    try:
        yield client
    finally:
        if client is not base:
            await client.aclose()
        entry[1] -= 1
        if entry[1] == 0 and _SHARED.get(key) is entry:
            del _SHARED[key]
            await entry[0].aclose()


class AnaplanTaskTrigger(BaseTrigger):
    """Fire once the Anaplan task ends.

    Args:
        anaplan_conn_id: The connection (type `anaplan`).
        kind: `imports`, `exports`, `actions`, `processes`, or an ALM kind (`syncTasks`, …).
        action_id: The action's id (bulk tasks) or the target model's id (ALM tasks).
        task_id: The Anaplan task's id.
        workspace: The workspace (id or name) when not the connection's.
        model: The model (id or name) when not the connection's.
        timeout: Seconds to wait at most (None: no limit).
        cancel_on_timeout: Cancel the task on the server when `timeout` passes (bulk only).

    Events carry `{"status": "ended" | "timeout" | "error", "task_id", "kind", "action_id",
    "message"}`.
    """

    def __init__(
        self,
        *,
        anaplan_conn_id: str,
        kind: str,
        action_id: str,
        task_id: str,
        workspace: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        cancel_on_timeout: bool = True,
    ):
        super().__init__()
        self.anaplan_conn_id = anaplan_conn_id
        self.kind = kind
        self.action_id = action_id
        self.anaplan_task_id = task_id
        self.workspace = workspace
        self.model = model
        self.timeout = timeout
        self.cancel_on_timeout = cancel_on_timeout

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Plain values only: the triggerer rebuilds the trigger from them."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "anaplan_conn_id": self.anaplan_conn_id,
                "kind": self.kind,
                "action_id": self.action_id,
                "task_id": self.anaplan_task_id,
                "workspace": self.workspace,
                "model": self.model,
                "timeout": self.timeout,
                "cancel_on_timeout": self.cancel_on_timeout,
            },
        )

    def _hook(self) -> AnaplanHook:
        return AnaplanHook(self.anaplan_conn_id, workspace=self.workspace, model=self.model)

    def _event(self, status: str, message: str = "") -> TriggerEvent:
        return TriggerEvent(
            {"status": status, "task_id": self.anaplan_task_id, "kind": self.kind,
             "action_id": self.action_id, "message": message}
        )  # fmt: skip

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait with the async client's schedule; yield one event."""
        try:
            async with _shared_client(self._hook()) as client:
                if self.kind in ALM_KINDS:
                    ref = AlmTaskRef(self.kind, self.action_id, self.anaplan_task_id)  # type: ignore[arg-type]
                    await client.alm.wait(ref, timeout=self.timeout)
                else:
                    await client.tasks.wait(
                        TaskRef(self.kind, self.action_id, self.anaplan_task_id),  # type: ignore[arg-type]
                        timeout=self.timeout,
                        cancel_on_timeout=self.cancel_on_timeout,
                        # A triggerer restart cancels this coroutine too: the task goes on,
                        # and the next triggerer waits for it. `on_kill` cancels it for real.
                        cancel_on_interrupt=False,
                    )
        except (TaskFailedError, TaskCancelledError):
            yield self._event("ended")
        except TaskTimeoutError as error:
            yield self._event("timeout", str(error))
        except (AnaplanError, ValueError) as error:
            yield self._event("error", f"{type(error).__name__}: {error}")
        else:
            yield self._event("ended")

    async def on_kill(self) -> None:
        """The user killed the deferred task: cancel the Anaplan task (ALM tasks cannot be)."""
        if self.kind in ALM_KINDS:
            return
        async with _shared_client(self._hook()) as client:
            ref = TaskRef(self.kind, self.action_id, self.anaplan_task_id)  # type: ignore[arg-type]
            await client.tasks.cancel(ref)
