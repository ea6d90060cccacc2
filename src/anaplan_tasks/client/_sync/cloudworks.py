# Generated from src/anaplan_tasks/client/_async/cloudworks.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`client.cloudworks`: CloudWorks connections, integrations and their runs, schedules,
notifications and integration flows.

CloudWorks is a service of its own with its own root (`ClientConfig.cloudworks_base_url`);
its calls need no workspace or model of the client, except `create()` and `update()` of an
integration whose definition names none (the client's are filled in). Integrations, connections
and flows are named by id or by name.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ..._core import cloudworks as cw
from ..._core.cloudworks import RunProgressCallback, RunRef
from ..._core.dumps import DumpRowParser
from ..._core.flow import Flow
from ..._core.types import DumpRow
from ...errors import IntegrationRunFailedError
from ...models.cloudworks import (
    Connection,
    Integration,
    IntegrationFlow,
    Notification,
    RunErrors,
    RunHistory,
    RunStatus,
)
from .files import write_chunks
from .runner import Namespace, Runner

T = TypeVar("T")


class _CloudWorksPart(Namespace):
    def _cw(self, flow: Flow[T]) -> T:
        return self._runner.run(flow, in_scope=False)


class RunDumps:
    """The failure dumps of a finished CloudWorks run, bound to a client.

    An import integration's run has one dump; a process integration's run one per import that
    rejected rows (by the import's action id).

    Attributes:
        run: Which run.
        available: The action ids whose dumps exist (`[None]`: the run's own dump).
    """

    def __init__(self, runner: Runner, ref: RunRef, errors: RunErrors | None):
        self._runner = runner
        self.run = ref
        actions = errors.dump_actions() if errors is not None else []
        if ref.process:
            self.available: list[str | None] = list(actions)
        else:
            self.available = [None] if actions else []

    def _select(self, action_id: str | None) -> list[str | None]:
        if action_id is None:
            return self.available or ([] if self.run.process else [None])
        return [action_id]

    def iter_bytes(self, action_id: str | None = None) -> Iterator[bytes]:
        """The dumps' CSV bytes as they arrive (a process's dumps one after another)."""
        for chosen in self._select(action_id):
            flow = cw.dump(self._runner.ctx, self.run.run_id, chosen)
            yield from self._runner.stream(flow)

    def read(self, action_id: str | None = None) -> bytes:
        """A dump as bytes (all of a process's dumps concatenated when `action_id` is None).

        Raises:
            NotFoundError: The run has no such dump (`Your integration run was successful /
                no errors`).
        """
        return b"".join(list(self.iter_bytes(action_id)))

    def save(self, dest: str | os.PathLike[str] | Any, action_id: str | None = None) -> int:
        """Write the dump to a path or binary file object; returns the byte count."""
        return write_chunks(self._runner, self.iter_bytes(action_id), dest)

    def iter_rows(self, action_id: str | None = None) -> Iterator[DumpRow]:
        """The rejected rows, parsed as the dump arrives (`object_id`: the import's id)."""
        for chosen in self._select(action_id):
            parser = DumpRowParser(object_id=chosen)
            flow = cw.dump(self._runner.ctx, self.run.run_id, chosen)
            for piece in self._runner.stream(flow):
                for row in parser.feed(piece):
                    yield row
            for row in parser.close():
                yield row

    def rows(self, action_id: str | None = None) -> list[DumpRow]:
        """The rejected rows: line number, error texts, source columns."""
        return list(self.iter_rows(action_id))


def run_failure(
    runner: Runner, ref: RunRef, run: RunStatus, errors: RunErrors | None
) -> IntegrationRunFailedError:
    """The error a failed run raises, its errors read and its dumps one call away."""
    return IntegrationRunFailedError(
        cw.failure_message(ref, run, errors),
        run=run,
        ref=ref,
        errors=errors,
        dumps=None if ref.flow else RunDumps(runner, ref, errors),
    )


class Connections(_CloudWorksPart):
    """`client.cloudworks.connections`: connections to Amazon S3, Azure Blob and BigQuery."""

    def list(self) -> builtins.list[Connection]:
        """Every connection you can see (secrets are never returned)."""
        return self._cw(cw.list_connections(self._ctx))

    def get(self, connection: str) -> Connection:
        """A connection by id or name."""
        return self._cw(cw.find_connection(self._ctx, connection))

    def create(self, connection_type: str, body: Mapping[str, Any]) -> str:
        """Create a connection; returns its id.

        Args:
            connection_type: `AmazonS3`, `AzureBlob` or `GoogleBigQuery`.
            body: Its fields, e.g. for S3 `name`, `accessKeyId`, `secretAccessKey`,
                `bucketName` (and `workspaceId` for a restricted integration user).

        Raises:
            BadRequestError: CloudWorks refused it (`Credentials are invalid`, …).
        """
        return self._cw(cw.create_connection(self._ctx, connection_type, body))

    def update(self, connection: str, body: Mapping[str, Any]) -> None:
        """Replace a connection's body: every field, the secrets included."""
        found = self._cw(cw.resolve_connection(self._ctx, connection))
        self._cw(cw.update_connection(self._ctx, found, body, partial=False))

    def patch(self, connection: str, changes: Mapping[str, Any]) -> None:
        """Change some fields of a connection (for example its `name`)."""
        found = self._cw(cw.resolve_connection(self._ctx, connection))
        self._cw(cw.update_connection(self._ctx, found, changes, partial=True))

    def delete(self, connection: str) -> None:
        """Delete a connection (`ConflictError` while an integration uses it)."""
        found = self._cw(cw.resolve_connection(self._ctx, connection))
        self._cw(cw.delete_connection(self._ctx, found))


class Schedules(_CloudWorksPart):
    """`client.cloudworks.schedules`: an integration's one schedule.

    A schedule is a mapping of CloudWorks' fields (or a `Schedule`), e.g.
    `{"name": "Nightly", "type": "daily", "timezone": "Europe/London", "time": "02:00",
    "startDate": "2030-01-01"}`.
    """

    def create(self, integration: str, schedule: Mapping[str, Any] | Any) -> None:
        """Give an integration its schedule (one per integration)."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.set_schedule(self._ctx, found, _wire(schedule), replace=False))

    def update(self, integration: str, schedule: Mapping[str, Any] | Any) -> None:
        """Replace an integration's schedule."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.set_schedule(self._ctx, found, _wire(schedule), replace=True))

    def delete(self, integration: str) -> None:
        """Remove an integration's schedule."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.delete_schedule(self._ctx, found))

    def enable(self, integration: str) -> None:
        """Turn an integration's schedule on."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.set_schedule_enabled(self._ctx, found, True))

    def disable(self, integration: str) -> None:
        """Turn an integration's schedule off (it stays defined)."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.set_schedule_enabled(self._ctx, found, False))


def _wire(value: Mapping[str, Any] | Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    wire: dict[str, Any] = value.to_wire()
    return wire


class Notifications(_CloudWorksPart):
    """`client.cloudworks.notifications`: who hears of an integration's outcomes.

    CloudWorks creates a configuration with every integration (its `notification_id`): edit
    that one, since a second for the same integration is refused.
    """

    def get(self, notification_id: str) -> Notification:
        """A configuration, its users expanded (guid, first and last name)."""
        return self._cw(cw.get_notification(self._ctx, notification_id))

    def create(self, config: Mapping[str, Any]) -> str:
        """Create a configuration (`integrationIds`, `channels`, `notifications`); its id."""
        return self._cw(cw.create_notification(self._ctx, config))

    def update(self, notification_id: str, config: Mapping[str, Any]) -> None:
        """Replace a configuration (the create body)."""
        self._cw(cw.update_notification(self._ctx, notification_id, config))

    def delete(self, notification_id: str) -> None:
        """Delete a configuration."""
        self._cw(cw.delete_notification(self._ctx, notification_id))


class Flows(_CloudWorksPart):
    """`client.cloudworks.flows`: integration flows (integrations run in order) and runs."""

    def list(self, *, mine: bool = False) -> builtins.list[IntegrationFlow]:
        """Every flow you can see (`mine`: only yours)."""
        return self._cw(cw.list_flows(self._ctx, mine=mine))

    def get(self, flow: str) -> IntegrationFlow:
        """A flow with its steps, by id or name."""
        found, _ = self._cw(cw.resolve_flow(self._ctx, flow))
        return self._cw(cw.get_flow(self._ctx, found))

    def create(self, definition: Mapping[str, Any]) -> str:
        """Create a flow (`name`, `steps`; at least two enabled); returns its id."""
        return self._cw(cw.create_flow(self._ctx, cw.flow_body(definition)))

    def update(self, flow: str, definition: Mapping[str, Any]) -> None:
        """Replace a flow with a whole new definition."""
        found, _ = self._cw(cw.resolve_flow(self._ctx, flow))
        self._cw(cw.update_flow(self._ctx, found, cw.flow_body(definition)))

    def delete(self, flow: str) -> None:
        """Delete a flow (refused while it runs)."""
        found, _ = self._cw(cw.resolve_flow(self._ctx, flow))
        self._cw(cw.delete_flow(self._ctx, found))

    def start(self, flow: str, *, steps: Sequence[str] | None = None) -> RunRef:
        """Start a run of a flow: all of it, or only `steps` (integration ids or names)."""
        found, name = self._cw(cw.resolve_flow(self._ctx, flow))
        chosen = None
        if steps:
            chosen = [self._cw(cw.integration_id_of(self._ctx, step)) for step in steps]
        run_id = self._cw(cw.start_flow_run(self._ctx, found, chosen))
        return RunRef(found, run_id, name, flow=True)

    def wait(
        self,
        run: RunRef,
        *,
        timeout: float | None = None,
        on_progress: RunProgressCallback | None = None,
    ) -> RunStatus:
        """Wait for a flow run started with `start()`; see `client.cloudworks.wait`.

        Its status is read from the flow's latest run (CloudWorks has no status read keyed by
        a flow run's id). Ctrl-C stops the wait but not the flow: CloudWorks cancels
        integrations, not flows.
        """
        return self._cw(
            cw.wait(
                self._ctx,
                run,
                timeout=timeout,
                on_progress=on_progress,
                status_of=lambda: cw.flow_run_status(self._ctx, run.integration_id, run.run_id),
                on_failure=lambda ref, status, errors: run_failure(
                    self._runner, ref, status, errors
                ),
            )
        )

    def run(
        self,
        flow: str,
        *,
        steps: Sequence[str] | None = None,
        timeout: float | None = None,
        on_progress: RunProgressCallback | None = None,
    ) -> RunStatus:
        """Run a flow and wait for it to end.

        Raises:
            IntegrationRunFailedError: The flow run failed.
            TaskTimeoutError: `timeout` passed first.
        """
        started = self.start(flow, steps=steps)
        return self.wait(started, timeout=timeout, on_progress=on_progress)


class CloudWorks(_CloudWorksPart):
    """`client.cloudworks`: integrations and their runs; `connections`, `schedules`,
    `notifications` and `flows` hang off it.

    `run()` waits on a run as `client.imports.run()` waits on a task: the same polling
    schedule, a deadline, a progress callback, Ctrl-C (or asyncio cancellation) cancels the run,
    and a failed run raises `IntegrationRunFailedError` carrying its errors, with its failure
    dumps one call away (`error.dumps.rows()`).
    """

    connections: Connections
    """Connections to cloud storage."""
    schedules: Schedules
    """Integrations' schedules."""
    notifications: Notifications
    """Notification configurations."""
    flows: Flows
    """Integration flows and their runs."""

    def __init__(self, runner: Runner):
        super().__init__(runner)
        self.connections = Connections(runner)
        self.schedules = Schedules(runner)
        self.notifications = Notifications(runner)
        self.flows = Flows(runner)

    def list(self, *, mine: bool = False) -> builtins.list[Integration]:
        """Every integration you can see, as summaries (`integration_type`, `latest_run`, …).

        Args:
            mine: Only the integrations you created.
        """
        return self._cw(cw.list_integrations(self._ctx, mine=mine))

    def get(self, integration: str) -> Integration:
        """An integration's whole record (its jobs and schedule), by id or name."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        return self._cw(cw.get_integration(self._ctx, found))

    def _body(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        if "workspaceId" in definition and "modelId" in definition:
            return cw.integration_body(definition, None, None)
        # The client's workspace and model, resolved from names when given so.
        workspace_id, model_id = self._runner.run(cw.client_scope(self._ctx))
        return cw.integration_body(definition, workspace_id, model_id)

    def create(self, definition: Mapping[str, Any]) -> str:
        """Create an integration; returns its id.

        `definition` is CloudWorks' body: `name`, and `jobs` (an import or export: one job with
        one source and one target) or `processId` (a process). `version` defaults to `2.0`;
        `workspaceId` and `modelId` to the client's.
        """
        return self._cw(cw.create_integration(self._ctx, self._body(definition)))

    def update(self, integration: str, definition: Mapping[str, Any]) -> None:
        """Replace an integration with a whole new definition (as for `create()`)."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.update_integration(self._ctx, found, self._body(definition)))

    def delete(self, integration: str) -> None:
        """Delete an integration (`ConflictError` while it runs)."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.delete_integration(self._ctx, found))

    def start(self, integration: str) -> RunRef:
        """Start a run (never twice because of a retry); returns which run to wait for.

        Raises:
            ConflictError: The integration is already running.
            AmbiguousStartError: The start's answer was lost and its run cannot be told apart.
        """
        return self._cw(cw.start(self._ctx, integration))

    def wait(
        self,
        run: RunRef,
        *,
        timeout: float | None = None,
        on_progress: RunProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        cancel_on_interrupt: bool = True,
        allow_partial: bool = False,
    ) -> RunStatus:
        """Wait until a run ends; return its status when it succeeded.

        Args:
            run: Which run (from `start()`).
            timeout: Overall deadline in seconds.
            on_progress: Called after each poll with a `RunProgress`.
            cancel_on_timeout: Cancel the run when the deadline passes.
            cancel_on_interrupt: On Ctrl-C, cancel the run and report its final state
                (raising `TaskCancelledError(cancelled_by_us=True)`).
            allow_partial: Return a run that loaded some rows and rejected others
                (CloudWorks says `success: false`, `executionErrorCode` 38) instead of
                raising; its dumps are then at `dumps(run)`.

        Raises:
            IntegrationRunFailedError: The run failed; `error.errors` lists the actions'
                messages, `error.dumps.rows()` reads the rejected rows.
            TaskCancelledError: The run was cancelled.
            TaskTimeoutError: The deadline passed first (carries the last status).
        """
        return self._cw(
            cw.wait(
                self._ctx,
                run,
                timeout=timeout,
                on_progress=on_progress,
                cancel_on_timeout=cancel_on_timeout,
                cancel_on_interrupt=cancel_on_interrupt,
                on_failure=lambda ref, status, errors: run_failure(
                    self._runner, ref, status, errors
                ),
                allow_partial=allow_partial,
            )
        )

    def run(
        self,
        integration: str,
        *,
        timeout: float | None = None,
        on_progress: RunProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        cancel_on_interrupt: bool = True,
        allow_partial: bool = False,
    ) -> RunStatus:
        """Run an integration (by id or name) and wait for it; see `wait()`.

        Raises:
            IntegrationRunFailedError: The run failed; its errors and dumps are on the error.
            TaskCancelledError: The run was cancelled.
            TaskTimeoutError: `timeout` passed first.
            ConflictError: The integration is already running.
        """
        started = self.start(integration)
        return self.wait(
            started,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=cancel_on_interrupt,
            allow_partial=allow_partial,
        )

    def cancel(self, integration: str) -> None:
        """Cancel the integration's running run (`ConflictError` when it runs nothing)."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        self._cw(cw.cancel(self._ctx, found))

    def runs(self, integration: str) -> RunHistory:
        """An integration's run history (`history.runs`, newest first)."""
        found = self._cw(cw.integration_id_of(self._ctx, integration))
        return self._cw(cw.run_history(self._ctx, found))

    def run_status(self, run: RunRef | str) -> RunStatus:
        """A run's status, by its `RunRef` or run id."""
        run_id = run.run_id if isinstance(run, RunRef) else run
        return self._cw(cw.get_run(self._ctx, run_id))

    def run_errors(self, run: RunRef | str) -> RunErrors | None:
        """A run's errors per action; None when it has none."""
        run_id = run.run_id if isinstance(run, RunRef) else run
        return self._cw(cw.run_errors(self._ctx, run_id))

    def dumps(self, run: RunRef | str) -> RunDumps:
        """A finished run's failure dumps, by its `RunRef` or run id.

        `IntegrationRunFailedError.dumps` is the same, already bound.
        """
        if isinstance(run, str):
            status = self.run_status(run)
            integration = self.get(status.integration_id or "")
            run = RunRef(
                integration.integration_id,
                run,
                integration.name,
                process=integration.kind == "Process",
            )
        return RunDumps(self._runner, run, self.run_errors(run))
