"""CloudWorks API v2: requests, CloudWorks' envelope, paging and errors, and waiting on a run.

CloudWorks is a service of its own (`https://api.cloudworks.anaplan.com/2/0`, also served at
`https://api.anaplan.com/cloudworks/2/0`), with the same token as the Integration API. It
differs from the Integration API where it matters to a client:

* Errors are `{"status": {"code", "message"}, "path", "timestamp"}`; the message is the only
  usable part. Its 409s are final ("Integration is already running", "The resource is being
  referenced"), never "model busy", so no CloudWorks request repeats on a 409
  (`Request.busy_retry=False`). A 452 "Tenant not entitled" is a missing integration role.
  An unrouted path answers an HTML 404 from the web server, a routed one with an unknown id a
  JSON 404: the first is reported as a route CloudWorks does not have.
* Lists page by `offset`/`limit` with a default of 25 and a cap of 250; the loop follows
  `meta.paging.totalSize` by the number of items each page really held.
* A run (`POST /integrations/{id}/run`) is a start like a task's: it is repeated only when it
  provably never ran; otherwise it is reconciled from the integration's run history
  (`tasks.start_reconciled`, the same rules). Its status (`GET /integrations/run/{runId}`)
  has no progress: it is polled on the same schedule as a task that reports none (as a task
  at progress 0), until its `endDate` is set.
* Cancel is per integration (`POST /integrations/{id}/cancel`), not per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..errors import (
    AnaplanError,
    ConfigurationError,
    ConflictError,
    IntegrationRunFailedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TaskCancelledError,
    TaskTimeoutError,
    TransportError,
)
from ..models import TaskListItem, TaskSummary
from ..models.cloudworks import (
    PARTIAL_SUCCESS_CODE,
    Connection,
    Integration,
    IntegrationFlow,
    Notification,
    RunErrors,
    RunHistory,
    RunRecord,
    RunStatus,
)
from .calls import call, stream_get
from .flow import Context, Flow, Request, Response, Sleep
from .polling import PollSchedule
from .responses import decode_body, items_of, json_object, total_size
from .retry import RetryClass
from .scope import match_name
from .tasks import start_reconciled

logger = logging.getLogger("anaplan_tasks")

PAGE_LIMIT = 250
"""The most items CloudWorks returns per page (a larger `limit` is cut to this)."""

CLOUDWORKS_ID = re.compile(r"[0-9a-f]{32}")
"""A CloudWorks id (integration, connection, flow, run): 32 lower-case hex digits."""

CANCEL_CONFIRM_SECONDS = 30.0
"""How long a cancel waits for the run to report its end."""

API_VERSION = "2.0"
"""The `version` of integration and flow bodies on the 2/0 base."""


@dataclass(frozen=True)
class RunRef:
    """Which run: the integration (or flow) and the run's id.

    Attributes:
        integration_id: The integration's id (a flow's id for a flow run).
        run_id: The run's id.
        name: The integration's name, when known (for messages).
        flow: True for a run of an integration flow.
        process: True for a run of a process integration (its dumps are per import).
    """

    integration_id: str
    run_id: str
    name: str | None = None
    flow: bool = False
    process: bool = False

    def describe(self) -> str:
        """`integration 'Name' (id) run RUNID` for messages."""
        noun = "integration flow" if self.flow else "integration"
        name = f" {self.name!r}" if self.name else ""
        return f"{noun}{name} ({self.integration_id}) run {self.run_id}"


@dataclass(frozen=True)
class RunProgress:
    """What a run's progress callback receives after each poll (runs report no fraction).

    Attributes:
        run: The status just read.
        elapsed: Seconds since the wait began.
        message: CloudWorks' message (`Running` while in flight).
    """

    run: RunStatus
    elapsed: float
    message: str | None


RunProgressCallback = Callable[[RunProgress], None]
RunFailureFactory = Callable[[RunRef, RunStatus, RunErrors | None], IntegrationRunFailedError]


def _segment(value: str) -> str:
    return quote(value, safe="")


def url(ctx: Context, path: str) -> str:
    """A path under the CloudWorks root."""
    return f"{ctx.cloudworks_base_url}{path}"


def request(
    method: str,
    target: str,
    *,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    retry: RetryClass = "idempotent",
) -> Request:
    """A CloudWorks request: JSON, and a 409 is final (`busy_retry=False`)."""
    return Request(
        method,
        target,
        params=dict(params or {}),
        headers={"Accept": "application/json"},
        json=json,
        retry=retry,
        busy_retry=False,
    )


def send(ctx: Context, sent: Request) -> Flow[Response]:
    """One CloudWorks call; an HTML 404 (an unrouted path) says so instead of quoting HTML."""
    try:
        return (yield from call(ctx, sent))
    except NotFoundError as error:
        body = error.body
        if isinstance(body, str) and "<" in body:
            raise NotFoundError(
                "CloudWorks has no such route (an HTML 404 from its web server, not the API's "
                "JSON one): check the path and the CloudWorks base URL",
                status_code=404,
                body=body,
                method=sent.method,
                url=sent.url,
            ) from None
        raise


def send_json(ctx: Context, sent: Request) -> Flow[Mapping[str, Any]]:
    """One CloudWorks call whose answer is a JSON object (an empty body reads as `{}`)."""
    response = yield from send(ctx, sent)
    if not response.content:
        return {}
    return json_object(response)


def payload(body: Mapping[str, Any], key: str) -> Any:
    """The one payload key of a CloudWorks answer; a ServerError naming it when absent."""
    if key not in body:
        raise ServerError(f"expected {key!r} in CloudWorks' answer", status_code=200, body=body)
    return body[key]


def list_paged(
    ctx: Context, target: str, key: str, params: Mapping[str, str] | None = None
) -> Flow[list[Mapping[str, Any]]]:
    """Every item of a CloudWorks list, page by page (`offset`, `limit` ≤ 250).

    The offset moves by the items the page really held (CloudWorks cuts a larger `limit` to
    250, and an older client that trusted its own `limit` missed rows).
    """
    items: list[Mapping[str, Any]] = []
    offset = 0
    while True:
        query = {**(params or {}), "offset": str(offset), "limit": str(PAGE_LIMIT)}
        body = yield from send_json(ctx, request("GET", target, params=query))
        page = items_of(body, key)
        items.extend(page)
        offset += len(page)
        total = total_size(body)
        if not page or total is None or offset >= total:
            return items


def _pick(kind: str, wanted: str, candidates: Sequence[tuple[str, str]]) -> str:
    ids = [item_id for item_id, _ in candidates]
    if wanted in ids:
        return wanted
    return match_name(kind, wanted, candidates)


# Connections


def list_connections(ctx: Context) -> Flow[list[Connection]]:
    """Every connection the caller can see."""
    items = yield from list_paged(ctx, url(ctx, "/integrations/connections"), "connections")
    return [Connection.model_validate(item) for item in items]


def find_connection(ctx: Context, wanted: str) -> Flow[Connection]:
    """A connection by id or name."""
    connections = yield from list_connections(ctx)
    chosen = _pick("connection", wanted, [(c.connection_id, c.name) for c in connections])
    return next(item for item in connections if item.connection_id == chosen)


def resolve_connection(ctx: Context, wanted: str) -> Flow[str]:
    """A connection's id from its id (no request) or name."""
    if CLOUDWORKS_ID.fullmatch(wanted):
        return wanted
    return (yield from find_connection(ctx, wanted)).connection_id


def create_connection(ctx: Context, kind: str, body: Mapping[str, Any]) -> Flow[str]:
    """Create a connection (`{"type", "body"}`); its id. CloudWorks checks the credentials."""
    answer = yield from send_json(
        ctx,
        request(
            "POST",
            url(ctx, "/integrations/connections"),
            json={"type": kind, "body": dict(body)},
            retry="start",
        ),
    )
    return _new_id(answer, "connections", "connectionId")


def update_connection(
    ctx: Context, connection_id: str, body: Mapping[str, Any], *, partial: bool
) -> Flow[None]:
    """Replace (PUT, the whole body, secrets included) or patch (PATCH) a connection."""
    target = url(ctx, f"/integrations/connections/{_segment(connection_id)}")
    yield from send_json(ctx, request("PATCH" if partial else "PUT", target, json=dict(body)))


def delete_connection(ctx: Context, connection_id: str) -> Flow[None]:
    """Delete a connection (409 while an integration uses it)."""
    target = url(ctx, f"/integrations/connections/{_segment(connection_id)}")
    yield from send_json(ctx, request("DELETE", target))


def _new_id(answer: Mapping[str, Any], key: str, field: str) -> str:
    part = payload(answer, key)
    if isinstance(part, Mapping) and isinstance(part.get(field), str):
        return str(part[field])
    raise ServerError(f"expected {key}.{field} in CloudWorks' answer", status_code=200, body=answer)


# Integrations


def list_integrations(ctx: Context, *, mine: bool = False) -> Flow[list[Integration]]:
    """Every integration the caller can see (summaries: no jobs); `mine` for one's own only."""
    params = {"myIntegrations": "1"} if mine else {}
    items = yield from list_paged(ctx, url(ctx, "/integrations"), "integrations", params)
    return [Integration.model_validate(item) for item in items]


def get_integration(ctx: Context, integration_id: str) -> Flow[Integration]:
    """One integration's whole record (its jobs included)."""
    body = yield from send_json(
        ctx, request("GET", url(ctx, f"/integrations/{_segment(integration_id)}"))
    )
    return Integration.model_validate(payload(body, "integration"))


def resolve_integration(ctx: Context, wanted: str) -> Flow[Integration]:
    """An integration by id (its record) or by name (its summary from the list)."""
    if CLOUDWORKS_ID.fullmatch(wanted):
        return (yield from get_integration(ctx, wanted))
    integrations = yield from list_integrations(ctx)
    pairs = [(item.integration_id, item.name) for item in integrations]
    chosen = _pick("integration", wanted, pairs)
    return next(item for item in integrations if item.integration_id == chosen)


def integration_id_of(ctx: Context, wanted: str) -> Flow[str]:
    """An integration's id from its id (no request) or name."""
    if CLOUDWORKS_ID.fullmatch(wanted):
        return wanted
    return (yield from resolve_integration(ctx, wanted)).integration_id


def client_scope(ctx: Context) -> Flow[tuple[str | None, str | None]]:
    """The client's workspace and model ids (run in scope: names are resolved first)."""
    if False:  # pragma: no cover - a flow without effects
        yield Sleep(0.0)
    return ctx.workspace_id, ctx.model_id


def integration_body(
    definition: Mapping[str, Any], workspace_id: str | None, model_id: str | None
) -> dict[str, Any]:
    """An integration body: `version` 2.0, and the client's workspace and model when absent.

    Raises:
        ConfigurationError: Neither the body nor the client names a workspace and a model.
    """
    body = {"version": API_VERSION, **dict(definition)}
    if "workspaceId" not in body and workspace_id:
        body["workspaceId"] = workspace_id
    if "modelId" not in body and model_id:
        body["modelId"] = model_id
    if not body.get("workspaceId") or not body.get("modelId"):
        raise ConfigurationError(
            "an integration needs workspaceId and modelId: put them in the definition, or give "
            "the client workspace_id= and model_id="
        )
    return body


def create_integration(ctx: Context, body: Mapping[str, Any]) -> Flow[str]:
    """Create an integration; its id (CloudWorks also creates its notification config)."""
    answer = yield from send_json(
        ctx, request("POST", url(ctx, "/integrations"), json=dict(body), retry="start")
    )
    return _new_id(answer, "integration", "integrationId")


def update_integration(ctx: Context, integration_id: str, body: Mapping[str, Any]) -> Flow[None]:
    """Replace an integration with a whole new body."""
    target = url(ctx, f"/integrations/{_segment(integration_id)}")
    yield from send_json(ctx, request("PUT", target, json=dict(body)))


def delete_integration(ctx: Context, integration_id: str) -> Flow[None]:
    """Delete an integration (409 `Integration is already running` while it runs)."""
    target = url(ctx, f"/integrations/{_segment(integration_id)}")
    yield from send_json(ctx, request("DELETE", target))


# Runs


def run_history(ctx: Context, integration_id: str) -> Flow[RunHistory]:
    """An integration's run history, every page of it (newest first as CloudWorks lists)."""
    target = url(ctx, f"/integrations/runs/{_segment(integration_id)}")
    runs: list[Any] = []
    offset = 0
    while True:
        query = {"offset": str(offset), "limit": str(PAGE_LIMIT)}
        body = yield from send_json(ctx, request("GET", target, params=query))
        history = payload(body, "history_of_runs")
        if not isinstance(history, Mapping):
            raise ServerError("expected an object under 'history_of_runs'", status_code=200)
        page = history.get("runs") or []
        runs.extend(page)
        offset += len(page)
        total = history.get("totalRuns")
        if not page or not isinstance(total, int) or offset >= total:
            return RunHistory.model_validate({**history, "runs": runs})


def get_run(ctx: Context, run_id: str) -> Flow[RunStatus]:
    """One run's status (its integration's id included)."""
    body = yield from send_json(
        ctx, request("GET", url(ctx, f"/integrations/run/{_segment(run_id)}"))
    )
    return RunStatus.model_validate(payload(body, "run"))


def run_errors(ctx: Context, run_id: str) -> Flow[RunErrors | None]:
    """A run's errors per action; None for a clean run (CloudWorks answers `"runs": {}`).

    The docs show a list of records, the live service and its best client one object: both
    are read (a list's actions are merged into the first record).
    """
    body = yield from send_json(
        ctx, request("GET", url(ctx, f"/integrations/runerror/{_segment(run_id)}"))
    )
    part = body.get("runs")
    if isinstance(part, list):
        records = [item for item in part if isinstance(item, Mapping) and item]
        if not records:
            return None
        merged = [message for item in records for message in item.get("errorMessages") or []]
        part = {**records[0], "errorMessages": merged}
    if not isinstance(part, Mapping) or not part:
        return None
    return RunErrors.model_validate(part)


def dump(ctx: Context, run_id: str, action_id: str | None = None) -> Flow[int]:
    """Emit a run's failure dump (CSV), streamed; returns the byte count.

    An import integration's dump is the run's own; a process's is per import (`action_id`).
    A run without one is a 404 `Your integration run was successful / no errors`.
    """
    path = f"/integrations/run/{_segment(run_id)}"
    if action_id is not None:
        path += f"/process/import/{_segment(action_id)}"
    sent = Request("GET", url(ctx, f"{path}/dumps"), headers={"Accept": "text/csv"}, stream=True)
    try:
        return (yield from stream_get(ctx, sent))
    except NotFoundError as error:
        if isinstance(error.body, str) and "<" in error.body:
            raise NotFoundError(
                "CloudWorks has no such dump route (an HTML 404)",
                status_code=404,
                body=error.body,
                method="GET",
                url=sent.url,
            ) from None
        raise


def _as_listed(record: RunRecord) -> TaskListItem:
    """A history record as a task listing, so a start is reconciled like a task's."""
    started = _epoch_ms(record.start_date)
    if started is None and isinstance(record.last_run, int):
        started = record.last_run * 1000
    return TaskSummary.model_validate(
        {
            "taskId": record.id,
            "taskState": "COMPLETE" if record.finished else "IN_PROGRESS",
            "creationTime": started or 0,
        }
    )


def _epoch_ms(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def start_run(ctx: Context, integration_id: str, name: str | None = None) -> Flow[str]:
    """Start a run of an integration (never twice because of a retry); its run id.

    A start whose answer was lost is reconciled from the run history like a task start
    (`tasks.start_reconciled`): a run this client has not claimed that started meanwhile is
    adopted, more than one raises `AmbiguousStartError`. 409 `Integration is already running`
    is raised as it is (`ConflictError`).
    """
    sent = request(
        "POST", url(ctx, f"/integrations/{_segment(integration_id)}/run"), json={}, retry="start"
    ).with_headers(Idempotency_Key=ctx.new_key())

    def listed() -> Flow[Sequence[TaskListItem]]:
        history = yield from run_history(ctx, integration_id)
        return [_as_listed(record) for record in history.runs]

    what = f"integration {name!r} ({integration_id})" if name else f"integration {integration_id}"
    _, run_id = yield from start_reconciled(
        ctx, sent, listed, what, family="cloudworks", task_id_of=_run_id_of
    )
    return run_id


def _run_id_of(answer: Response) -> str:
    body = decode_body(answer)
    if isinstance(body, Mapping):
        run = body.get("run")
        if isinstance(run, Mapping) and isinstance(run.get("id"), str):
            return str(run["id"])
    raise ServerError("expected run.id in CloudWorks' answer to a run", status_code=200, body=body)


def start(ctx: Context, wanted: str) -> Flow[RunRef]:
    """Resolve an integration by id or name and start a run; which run to wait for."""
    integration = yield from resolve_integration(ctx, wanted)
    run_id = yield from start_run(ctx, integration.integration_id, integration.name)
    return RunRef(
        integration.integration_id,
        run_id,
        integration.name,
        process=integration.kind == "Process",
    )


def cancel(ctx: Context, integration_id: str) -> Flow[None]:
    """Ask CloudWorks to cancel the integration's running run.

    409 `Integration <id> is not in running state` when it runs nothing (`ConflictError`).
    """
    target = url(ctx, f"/integrations/{_segment(integration_id)}/cancel")
    yield from send_json(ctx, request("POST", target, json={}))


def cancel_and_settle(ctx: Context, ref: RunRef) -> Flow[RunStatus]:
    """Cancel, then poll briefly until the run reports its end."""
    if ref.flow:
        raise ConfigurationError("CloudWorks cancels integrations, not integration flows")
    with contextlib.suppress(ConflictError):  # "not in running state": it ended meanwhile
        yield from cancel(ctx, ref.integration_id)
    began = ctx.clock()
    delay = 0.25
    status = yield from get_run(ctx, ref.run_id)
    while not status.finished and ctx.clock() - began < CANCEL_CONFIRM_SECONDS:
        yield Sleep(delay)
        delay = min(delay * 2, 5.0)
        status = yield from get_run(ctx, ref.run_id)
    return status


def failure_message(ref: RunRef, run: RunStatus, errors: RunErrors | None) -> str:
    """`IntegrationRunFailedError`'s message: the run, CloudWorks' outcome, the error texts."""
    message = f"{ref.describe()} failed: {run.message or 'no message'}"
    if run.execution_error_code is not None:
        message += f" (error code {run.execution_error_code})"
    texts = [
        text
        for text in (errors.texts() if errors is not None else [])
        if not run.message or run.message not in text  # CloudWorks' message often repeats one
    ]
    if texts:
        shown = texts[:5] + ([f"and {len(texts) - 5} more"] if len(texts) > 5 else [])
        message += ": " + "; ".join(shown)
    if errors is not None and errors.dump_actions():
        message += " [failure dump available: error.dumps]"
    return message


def wait(
    ctx: Context,
    ref: RunRef,
    *,
    timeout: float | None = None,
    on_progress: RunProgressCallback | None = None,
    cancel_on_timeout: bool = False,
    cancel_on_interrupt: bool = True,
    on_failure: RunFailureFactory | None = None,
    status_of: Callable[[], Flow[RunStatus]] | None = None,
    allow_partial: bool = False,
) -> Flow[RunStatus]:
    """Poll a run until it ends; return it when successful, else raise.

    Runs report no progress, so they are read as a task at progress 0: backing off from
    `PollPolicy.initial_interval`, but at most `queued_interval` (2 s) apart, or
    `queued_fraction` (5%) of the time waited when that is longer, and never more than
    `max_interval` (30 s): a run is seen within max(2 s, 5% of its duration) of its end. A
    read that fails (outage, 5xx, 429) is ridden out up to `PollPolicy.failed_poll_tolerance`
    times in a row; the run goes on meanwhile.

    Args:
        ctx: The flow context.
        ref: The run.
        timeout: Overall deadline in seconds; `TaskTimeoutError` carrying the last status.
        on_progress: Called after each poll with a `RunProgress`.
        cancel_on_timeout: Cancel the run when the deadline passes (a run that succeeded just
            before the cancel arrived is returned).
        cancel_on_interrupt: On KeyboardInterrupt or async cancellation, cancel the run and
            report its final state before the interruption propagates.
        on_failure: Builds the `IntegrationRunFailedError` (the client binds the dumps there).
        status_of: How to read the run's status (default: `get_run`).
        allow_partial: Return a run that succeeded in part (rows rejected, `success: false`
            with `executionErrorCode` 38) instead of raising.

    Raises:
        IntegrationRunFailedError: The run ended with `success: false` (its errors fetched).
        TaskCancelledError: The run was cancelled.
        TaskTimeoutError: The deadline passed first.
    """
    read = status_of or (lambda: get_run(ctx, ref.run_id))
    began = ctx.clock()
    schedule = PollSchedule(ctx.poll, ctx.rng)
    failed_polls = 0
    try:
        while True:
            try:
                status = yield from read()
                failed_polls = 0
            except (TransportError, ServerError, RateLimitError) as error:
                failed_polls += 1
                if failed_polls > ctx.poll.failed_poll_tolerance:
                    raise
                logger.warning("status of %s unavailable (%s); polling on", ref.describe(), error)
                pause = min(ctx.poll.max_interval, ctx.poll.min_interval * failed_polls)
                if timeout is not None:
                    pause = min(pause, max(timeout - (ctx.clock() - began), 0.0))
                yield Sleep(pause)
                if timeout is not None and ctx.clock() - began >= timeout:
                    raise
                continue
            elapsed = ctx.clock() - began
            if status.finished:
                partial = status.execution_error_code == PARTIAL_SUCCESS_CODE
                if status.success or (allow_partial and partial):
                    return status
                if status.cancelled:
                    raise TaskCancelledError(f"{ref.describe()} was cancelled", task=status)
                if ref.flow:
                    errors = yield from flow_errors(ctx, ref.integration_id)
                else:
                    errors = yield from run_errors(ctx, ref.run_id)
                if on_failure is not None:
                    raise on_failure(ref, status, errors)
                raise IntegrationRunFailedError(
                    failure_message(ref, status, errors), run=status, ref=ref, errors=errors
                )
            # No progress to estimate from: read like a task at progress 0 (its end is seen
            # within max(queued_interval, queued_fraction · elapsed)).
            schedule.observe(elapsed, 0.0)
            if on_progress is not None:
                on_progress(RunProgress(run=status, elapsed=elapsed, message=status.message))
            delay = schedule.next_delay(elapsed)
            if timeout is not None:
                left = timeout - elapsed
                if left <= 0:
                    last = status
                    cancelled = False
                    if cancel_on_timeout and not ref.flow:
                        last = yield from cancel_and_settle(ctx, ref)
                        if last.success:
                            return last  # it ended well just before the cancel arrived
                        cancelled = last.cancelled
                    raise TaskTimeoutError(
                        f"{ref.describe()} did not finish within {timeout:g}s "
                        f"(last seen: {last.describe()})" + ("; cancelled" if cancelled else ""),
                        task=last,
                        cancelled=cancelled,
                    )
                delay = min(delay, left)
            yield Sleep(delay)
    except (KeyboardInterrupt, asyncio.CancelledError) as interruption:
        if not cancel_on_interrupt or ref.flow:
            raise
        logger.warning("interrupted while waiting for %s: cancelling it", ref.describe())
        try:
            final = yield from cancel_and_settle(ctx, ref)
        except AnaplanError as error:
            logger.warning("could not cancel %s: %s", ref.describe(), error)
            interruption.add_note(f"{ref.describe()}: cancel failed: {error}")
            raise interruption from None
        logger.warning("after the interruption: %s", final.describe())
        if isinstance(interruption, KeyboardInterrupt) and final.cancelled:
            raise TaskCancelledError(
                f"{ref.describe()} cancelled on interrupt; {final.describe()}",
                task=final,
                cancelled_by_us=True,
            ) from interruption
        interruption.add_note(f"{ref.describe()}: final state {final.describe()}")
        raise


def run(
    ctx: Context,
    wanted: str,
    *,
    wait_options: Mapping[str, Any],
    on_failure: RunFailureFactory | None = None,
    on_progress: RunProgressCallback | None = None,
) -> Flow[RunStatus]:
    """Resolve an integration by id or name, start a run and wait for it."""
    ref = yield from start(ctx, wanted)
    return (
        yield from wait(ctx, ref, on_failure=on_failure, on_progress=on_progress, **wait_options)
    )


# Schedules


def _schedule_url(ctx: Context, integration_id: str) -> str:
    return url(ctx, f"/integrations/{_segment(integration_id)}/schedule")


def set_schedule(
    ctx: Context, integration_id: str, schedule: Mapping[str, Any], *, replace: bool
) -> Flow[None]:
    """Create (POST) or replace (PUT) an integration's one schedule.

    The body carries `integrationId` as well as the path names it: CloudWorks refuses a PUT
    without it (400 `Invalid value for integration_id`).
    """
    body = {"integrationId": integration_id, "schedule": dict(schedule)}
    method = "PUT" if replace else "POST"
    yield from send_json(ctx, request(method, _schedule_url(ctx, integration_id), json=body))


def delete_schedule(ctx: Context, integration_id: str) -> Flow[None]:
    """Delete an integration's schedule."""
    yield from send_json(ctx, request("DELETE", _schedule_url(ctx, integration_id)))


def set_schedule_enabled(ctx: Context, integration_id: str, enabled: bool) -> Flow[None]:
    """Turn an integration's schedule on or off (`…/schedule/status/enabled|disabled`)."""
    target = f"{_schedule_url(ctx, integration_id)}/status/{'enabled' if enabled else 'disabled'}"
    yield from send_json(ctx, request("POST", target, json={}))


# Notifications


def create_notification(ctx: Context, body: Mapping[str, Any]) -> Flow[str]:
    """Create a notification configuration; its id."""
    answer = yield from send_json(
        ctx,
        request("POST", url(ctx, "/integrations/notification"), json=dict(body), retry="start"),
    )
    return _new_id(answer, "notification", "notificationId")


def get_notification(ctx: Context, notification_id: str) -> Flow[Notification]:
    """A notification configuration, its users expanded."""
    target = url(ctx, f"/integrations/notification/{_segment(notification_id)}")
    body = yield from send_json(ctx, request("GET", target))
    return Notification.model_validate(payload(body, "notifications"))


def update_notification(ctx: Context, notification_id: str, body: Mapping[str, Any]) -> Flow[None]:
    """Replace a notification configuration (the create body)."""
    target = url(ctx, f"/integrations/notification/{_segment(notification_id)}")
    yield from send_json(ctx, request("PUT", target, json=dict(body)))


def delete_notification(ctx: Context, notification_id: str) -> Flow[None]:
    """Delete a notification configuration."""
    target = url(ctx, f"/integrations/notification/{_segment(notification_id)}")
    yield from send_json(ctx, request("DELETE", target))


# Integration flows


def list_flows(ctx: Context, *, mine: bool = False) -> Flow[list[IntegrationFlow]]:
    """Every integration flow the caller can see (summaries)."""
    params = {"myIntegrations": "1"} if mine else {}
    items = yield from list_paged(ctx, url(ctx, "/integrationflows"), "integrationFlows", params)
    return [IntegrationFlow.model_validate(item) for item in items]


def get_flow(ctx: Context, flow_id: str) -> Flow[IntegrationFlow]:
    """One integration flow with its steps."""
    target = url(ctx, f"/integrationflows/{_segment(flow_id)}")
    body = yield from send_json(ctx, request("GET", target))
    return IntegrationFlow.model_validate(payload(body, "integrationFlow"))


def resolve_flow(ctx: Context, wanted: str) -> Flow[tuple[str, str | None]]:
    """A flow's id and name from its id or name (an id costs no listing)."""
    if CLOUDWORKS_ID.fullmatch(wanted):
        return wanted, None
    flows = yield from list_flows(ctx)
    pairs = [(item.id, item.name) for item in flows]
    chosen = _pick("integration flow", wanted, pairs)
    return chosen, dict(pairs).get(chosen)


def flow_body(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A flow body: `version` 2.0 and `type` IntegrationFlow unless given."""
    return {"version": API_VERSION, "type": "IntegrationFlow", **dict(definition)}


def create_flow(ctx: Context, body: Mapping[str, Any]) -> Flow[str]:
    """Create an integration flow (at least two enabled steps); its id."""
    answer = yield from send_json(
        ctx, request("POST", url(ctx, "/integrationflows"), json=dict(body), retry="start")
    )
    return _new_id(answer, "integrationFlow", "integrationFlowId")


def update_flow(ctx: Context, flow_id: str, body: Mapping[str, Any]) -> Flow[None]:
    """Replace an integration flow with a whole new body."""
    target = url(ctx, f"/integrationflows/{_segment(flow_id)}")
    yield from send_json(ctx, request("PUT", target, json=dict(body)))


def delete_flow(ctx: Context, flow_id: str) -> Flow[None]:
    """Delete an integration flow (refused while it runs)."""
    target = url(ctx, f"/integrationflows/{_segment(flow_id)}")
    yield from send_json(ctx, request("DELETE", target))


def flow_run_status(ctx: Context, flow_id: str, run_id: str) -> Flow[RunStatus]:
    """A flow run's status, from its flow's `latestRun`.

    CloudWorks serves no status read keyed by a flow run's id (`GET /integrations/run/{id}`
    knows integration runs only); a flow runs once at a time (409 otherwise), so the flow's
    latest run after a start is that start's.
    """
    flow = yield from get_flow(ctx, flow_id)
    latest = flow.latest_run
    fields = {} if latest is None else latest.model_dump(exclude_none=True)
    fields.pop("triggered_by", None)
    return RunStatus(id=run_id, integration_id=flow_id, **fields)


def flow_errors(ctx: Context, flow_id: str) -> Flow[RunErrors | None]:
    """The steps of a flow whose latest runs did not succeed, as run errors (step: message).

    Each step's own run has its errors and dumps: `run_errors` and `dump` of that run, found in
    its integration's history (`flowGroupId` ties it to the flow run).
    """
    flow = yield from get_flow(ctx, flow_id)
    troubled = [
        {
            "actionId": step.referrer,
            "actionName": step.name,
            "errorMessage": [{"localMessageText": step.latest_run.message}],
        }
        for step in flow.steps or []
        if step.latest_run is not None and step.latest_run.outcome not in ("ok", "running")
    ]
    return RunErrors.model_validate({"errorMessages": troubled}) if troubled else None


def start_flow_run(ctx: Context, flow_id: str, steps: Sequence[str] | None = None) -> Flow[str]:
    """Start a run of a flow (all steps, or the `steps` named by their integration ids).

    Repeated only when it provably never reached CloudWorks: a flow's runs have no listing
    to reconcile a lost answer from, so such a start raises.
    """
    body = {"stepsToRun": list(steps)} if steps else {}
    target = url(ctx, f"/integrationflows/{_segment(flow_id)}/run")
    answer = yield from send_json(ctx, request("POST", target, json=body, retry="start"))
    run = payload(answer, "run")
    if isinstance(run, Mapping) and isinstance(run.get("id"), str):
        return str(run["id"])
    raise ServerError("expected run.id in CloudWorks' answer", status_code=200, body=answer)
