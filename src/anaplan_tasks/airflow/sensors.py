"""`AnaplanTaskSensor`: wait for an Anaplan task someone else started to end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException

from ..client import Client, TaskRef
from ..models import CancelledTask, CompletedTask
from ._results import task_summary
from .hooks import AnaplanHook
from .triggers import AnaplanTaskTrigger


class AnaplanTaskSensor(BaseSensorOperator):
    """Succeed when the task ends successfully; fail when it fails or is cancelled.

    Args:
        kind: `imports`, `exports`, `actions` or `processes`.
        action: The action, by id or name.
        task_id_to_watch: The Anaplan task's id (templated, e.g. from an upstream XCom).
        anaplan_conn_id: The connection (type `anaplan`).
        workspace: The workspace (id or name) when not the connection's.
        model: The model (id or name) when not the connection's.
        deferrable: Wait in the triggerer (with the client's polling schedule) instead of poking.

    The summary of the finished task is the `return_value` XCom.
    """

    template_fields: Sequence[str] = ("action", "task_id_to_watch", "workspace", "model")
    ui_color = "#e6f1ff"

    def __init__(
        self,
        *,
        kind: str,
        action: str,
        task_id_to_watch: str,
        anaplan_conn_id: str = AnaplanHook.default_conn_name,
        workspace: str | None = None,
        model: str | None = None,
        deferrable: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if kind not in ("imports", "exports", "actions", "processes"):
            raise ValueError(f"kind must be imports, exports, actions or processes, not {kind!r}")
        self.kind = kind
        self.action = action
        self.task_id_to_watch = task_id_to_watch
        self.anaplan_conn_id = anaplan_conn_id
        self.workspace = workspace
        self.model = model
        self.deferrable = deferrable

    def _hook(self) -> AnaplanHook:
        return AnaplanHook(self.anaplan_conn_id, workspace=self.workspace, model=self.model)

    def _ref(self, client: Client) -> TaskRef:
        action = getattr(client, self.kind).get(self.action)
        return TaskRef(self.kind, action.id, self.task_id_to_watch, action.name)  # type: ignore[arg-type]

    def _check(self, client: Client, ref: TaskRef, context: Any) -> dict[str, Any] | None:
        """The finished task's summary; None while it runs; raises when it failed."""
        status = client.tasks.status(ref)
        if isinstance(status, CancelledTask) and status.task_state == "CANCELLED":
            raise AirflowException(f"{ref.describe()} was cancelled")
        if not isinstance(status, CompletedTask):
            self.log.info("%s", status.describe())
            return None
        summary = task_summary(ref, status)
        if not status.result.successful:
            context["ti"].xcom_push(key="anaplan_summary", value=summary)
            raise AirflowException(status.describe())
        return summary

    def poke(self, context: Any) -> PokeReturnValue:
        """One status read."""
        with self._hook().get_conn() as client:
            summary = self._check(client, self._ref(client), context)
        return PokeReturnValue(is_done=summary is not None, xcom_value=summary)

    def execute(self, context: Any) -> Any:
        """Poke as usual, or (deferrable) check once and defer to the trigger."""
        if not self.deferrable:
            return super().execute(context)
        with self._hook().get_conn() as client:
            ref = self._ref(client)
            summary = self._check(client, ref, context)
            if summary is not None:
                return summary
        self.defer(
            trigger=AnaplanTaskTrigger(
                anaplan_conn_id=self.anaplan_conn_id,
                kind=self.kind,
                action_id=ref.action_id,
                task_id=ref.task_id,
                workspace=self.workspace,
                model=self.model,
                timeout=self.timeout if self.timeout else None,
                cancel_on_timeout=False,
            ),
            method_name="execute_complete",
        )
        return None  # not reached: defer() raises

    def execute_complete(self, context: Any, event: Mapping[str, Any]) -> dict[str, Any]:
        """Resume in the worker: the task ended; read how."""
        if event.get("status") != "ended":
            raise AirflowException(
                f"waiting for Anaplan task {event.get('task_id')} stopped: {event.get('message')}"
            )
        with self._hook().get_conn() as client:
            summary = self._check(client, self._ref(client), context)
        if summary is None:
            raise AirflowException(f"Anaplan task {event.get('task_id')} has not ended")
        return summary
