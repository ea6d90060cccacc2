"""Task flows: start (never twice, never someone else's), status, list, cancel, and wait.

A task start is a POST that creates work, so it is repeated only when it provably never ran
(connect error, 429, 409/423, a 503 with Anaplan's error body) or when the server de-duplicates
it by `Idempotency-Key`. Otherwise a start that may have run is reconciled from the action's
task list, and a task is adopted only when it is provably this start's
(`start_reconciled`); when it is not, `AmbiguousStartError` names the candidates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, assert_never

from ..errors import (
    AmbiguousStartError,
    AnaplanError,
    ApiError,
    RateLimitError,
    ServerError,
    TaskCancelledError,
    TaskFailedError,
    TaskPayloadError,
    TaskTimeoutError,
    TransportError,
)
from ..models import (
    ActionKind,
    BulkTaskStatus,
    CancelledTask,
    CompletedTask,
    Task,
    TaskListItem,
    action_kind_of,
    parse_task,
    parse_task_list,
)
from . import endpoints
from .calls import call, list_all
from .flow import Context, Flow, Request, Response, Sleep
from .polling import PollSchedule
from .responses import is_refusal, json_object
from .retry import backoff
from .types import ProgressUpdate, TaskRef

logger = logging.getLogger("anaplan_tasks")

ProgressCallback = Callable[[ProgressUpdate], None]

_AMBIGUOUS_STATUSES = frozenset({408, 500, 502, 503, 504})
CANCEL_CONFIRM_SECONDS = 30.0


def start_body(
    locale: str, mapping_parameters: Mapping[str, str] | Sequence[Mapping[str, str]] | None
) -> dict[str, Any]:
    """The start body: `localeName` first, then `mappingParameters` when given.

    Mapping parameters may be a mapping `{entityType: entityName}` or a list of
    `{"entityType": …, "entityName": …[, "importId": …]}` objects.
    """
    body: dict[str, Any] = {"localeName": locale}
    if mapping_parameters:
        if isinstance(mapping_parameters, Mapping):
            body["mappingParameters"] = [
                {"entityType": entity_type, "entityName": entity_name}
                for entity_type, entity_name in mapping_parameters.items()
            ]
        else:
            body["mappingParameters"] = [dict(item) for item in mapping_parameters]
    return body


def may_have_started(error: BaseException) -> bool:
    """True when a failed start POST may nevertheless have created a task.

    A transport error after the request left, and a 408/5xx, may have; a 503 carrying
    Anaplan's own error body is a refusal (`responses.is_refusal`) and has not.
    """
    if isinstance(error, TransportError):
        return error.request_sent
    return (
        isinstance(error, ApiError)
        and error.status_code in _AMBIGUOUS_STATUSES
        and not is_refusal(error.status_code, error.body)
    )


def get_status(ctx: Context, ref: TaskRef) -> Flow[BulkTaskStatus]:
    """A task's current status."""
    params = {"includeProcessDetails": "true"} if ref.kind == "processes" else {}
    url = endpoints.task(ctx, ref.kind, ref.action_id, ref.task_id)
    response = yield from call(ctx, Request("GET", url, params=params))
    return parse_task(json_object(response))


def list_tasks(ctx: Context, kind: ActionKind, action_id: str) -> Flow[list[TaskListItem]]:
    """An action's tasks, oldest first (all users' tasks)."""
    items = yield from list_all(ctx, endpoints.tasks(ctx, kind, action_id), "tasks")
    return parse_task_list({"tasks": list(items)})


def start(
    ctx: Context, kind: ActionKind, action_id: str, body: Mapping[str, Any]
) -> Flow[BulkTaskStatus]:
    """Start a task, reconciling instead of repeating when the start may have run."""
    request = Request(
        "POST",
        endpoints.tasks(ctx, kind, action_id),
        headers={"Idempotency-Key": ctx.new_key()},
        json=dict(body),
        retry="start",
    )
    answer, task_id = yield from start_reconciled(
        ctx,
        request,
        lambda: list_tasks(ctx, kind, action_id),
        f"{kind} {action_id}",
        family="bulk",
        task_id_of=_started_task_id,
    )
    task = json_object(answer).get("task") if answer is not None else None
    if isinstance(task, Mapping) and "taskState" in task:
        # Start answers carry no `progress`, which the Task model requires: a new task has 0.
        return parse_task({"progress": 0.0, **task})
    return (yield from get_status(ctx, TaskRef(kind, action_id, task_id)))


def _started_task_id(answer: Response) -> str:
    body = json_object(answer)
    task = body.get("task")
    if isinstance(task, Mapping) and isinstance(task.get("taskId"), str):
        return str(task["taskId"])
    return parse_task(body).id


def start_reconciled(
    ctx: Context,
    request: Request,
    listed: Callable[[], Flow[Sequence[TaskListItem]]],
    what: str,
    *,
    family: str,
    task_id_of: Callable[[Response], str],
) -> Flow[tuple[Response | None, str]]:
    """POST a task start; never start it twice, never claim a task that is not provably its.

    Refusals (connect error, 429, 409/423, a 503 with Anaplan's error body) are retried by
    `calls.call`. When an attempt may have reached the server (reset, read timeout, other
    5xx):

    * against a server known to honour `Idempotency-Key` for this `family` of starts
      (`RetryPolicy.idempotency_keys`), the start is sent again with the same key: the answer
      is this start's task, created once;
    * otherwise, after `RetryPolicy.start_settle` seconds, the action's tasks are `listed()`.
      The candidates are the tasks this client has not claimed whose `creationTime` falls
      between the first uncertain send and the listing, on the server's clock as measured from
      `Date` headers. One candidate, while no other start of the same action by this client
      (or its copies) was unresolved and `shared_actions` is off, is adopted. More than one,
      or one under those conditions, raises `AmbiguousStartError` naming them. None means
      the start did not run (the server commits a start before it answers), so it is sent
      again, with the same key.

    Returns the start's answer (None when a task was adopted) and the task's id, which is
    claimed for this client before anyone else can list it as a candidate.
    """
    key = request.headers.get("Idempotency-Key")
    ticket = ctx.state.starts.begin(request.url)
    settled = False
    try:
        began: float | None = None
        attempt = 1
        while True:
            sent_at = ctx.wall_clock()
            try:
                answer = yield from call(ctx, request)
            except AnaplanError as error:
                if not may_have_started(error):
                    settled = True
                    raise
                began = sent_at if began is None else began
                keyed = key is not None and _keys_trusted(ctx, family)
                delay = backoff(attempt, ctx.retry.base_delay, ctx.retry.max_delay, ctx.rng)
                logger.warning(
                    "start of %s may have reached the server (%s); %s",
                    what,
                    error,
                    "sending it again with its Idempotency-Key" if keyed else "reconciling",
                )
                if not keyed:
                    yield Sleep(max(delay, ctx.retry.start_settle))
                    adopted = yield from _find_started(ctx, listed, began, what, key, error, ticket)
                    if adopted is not None:
                        logger.warning("adopted task %s started by the earlier attempt", adopted)
                        settled = True
                        return None, adopted
                exhausted = attempt >= ctx.retry.max_attempts
                if exhausted or not ctx.budget.try_acquire(after_timeout=True):
                    if keyed:
                        raise AmbiguousStartError(
                            f"start of {what} may have run: {attempt} attempts with "
                            f"Idempotency-Key {key} got no answer ({error}). Check the action's "
                            "tasks before starting it again; a start sent again with this key "
                            "returns the same task",
                            action=what,
                            candidates=[],
                            idempotency_key=key,
                            cause=error,
                        ) from error
                    settled = True  # listed after the failure: nothing was started
                    raise
                if keyed:
                    yield Sleep(delay)
                attempt += 1
                continue
            if key is not None and answer.headers.get("idempotency-key") == key:
                ctx.state.learn_keys_honoured(family)
            task_id = task_id_of(answer)
            ctx.claimed_tasks.add(task_id)
            settled = True
            return answer, task_id
    finally:
        ctx.state.starts.end(ticket, settled=settled)


def _keys_trusted(ctx: Context, family: str) -> bool:
    mode = ctx.retry.idempotency_keys
    if mode == "honoured":
        return True
    if mode == "ignored":
        return False
    return ctx.state.keys_honoured(family)


def _find_started(
    ctx: Context,
    listed: Callable[[], Flow[Sequence[TaskListItem]]],
    began: float,
    what: str,
    key: str | None,
    error: AnaplanError,
    ticket: int,
) -> Flow[str | None]:
    try:
        tasks = yield from listed()
    except AnaplanError as listing:
        raise AmbiguousStartError(
            f"start of {what} may have run ({error}), and its tasks could not be listed to "
            f"find out ({listing}). Check the action's tasks before starting it again: "
            "starting again may run it twice",
            action=what,
            candidates=[],
            idempotency_key=key,
            cause=error,
        ) from listing
    listed_at = ctx.wall_clock()
    bounds = ctx.state.clock.bounds
    unclaimed = [item for item in tasks if item.id not in ctx.claimed_tasks]
    if bounds is None:
        candidates = unclaimed
        why = "no answer has carried a Date header, so creation times cannot be placed"
    else:
        margin = ctx.retry.clock_margin
        since = (began + bounds.low - margin) * 1000.0
        until = (listed_at + bounds.high + margin) * 1000.0
        candidates = [item for item in unclaimed if since <= item.creation_time <= until]
        why = ""
    if not candidates:
        return None
    overlapping = ctx.state.starts.overlapped(ticket)
    if len(candidates) == 1 and not why:
        if overlapping:
            why = "another start of the same action by this client was unresolved meanwhile"
        elif ctx.retry.shared_actions:
            why = "other processes may start this action (RetryPolicy.shared_actions)"
        else:
            chosen = candidates[0].id
            ctx.claimed_tasks.add(chosen)
            return chosen
    if not why:
        why = f"{len(candidates)} tasks were created while the start was unresolved"
    names = ", ".join(
        f"{item.id} ({item.task_state}, created {_iso(item.creation_time)})"
        for item in candidates[:10]
    )
    more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
    raise AmbiguousStartError(
        f"start of {what} may have run ({error}) and no task is provably its own: {why}. "
        f"Candidates: {names}{more}. Check which of them your start created (who ran it, "
        "and its result) before starting the action again: starting again may run it twice",
        action=what,
        candidates=list(candidates),
        idempotency_key=key,
        cause=error,
    ) from error


def _iso(epoch_ms: float) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000.0, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ref_of(task: CompletedTask) -> TaskRef:
    """Which task a finished task is, from the action id in its result (`objectId`)."""
    object_id = task.result.object_id
    kind = action_kind_of(object_id) if object_id else None
    if object_id is None or kind is None:
        raise TaskPayloadError(
            f"task {task.id}: its result names no known action (objectId {object_id!r})",
            task_id=task.id,
            field="result.objectId",
        )
    return TaskRef(kind, object_id, task.id)


def cancel(ctx: Context, ref: TaskRef) -> Flow[BulkTaskStatus]:
    """Ask the server to cancel a task (DELETE); returns the status it answers."""
    url = endpoints.task(ctx, ref.kind, ref.action_id, ref.task_id)
    response = yield from call(ctx, Request("DELETE", url))
    body = json_object(response)
    if isinstance(body.get("task"), Mapping) and "taskState" in body["task"]:
        return parse_task(body)
    return (yield from get_status(ctx, ref))


def cancel_and_settle(ctx: Context, ref: TaskRef) -> Flow[BulkTaskStatus]:
    """Cancel, then poll briefly until the task is CANCELLED or COMPLETE."""
    status = yield from cancel(ctx, ref)
    began = ctx.clock()
    delay = 0.25
    while not status.is_terminal and ctx.clock() - began < CANCEL_CONFIRM_SECONDS:
        yield Sleep(delay)
        delay = min(delay * 2, 5.0)
        status = yield from get_status(ctx, ref)
    return status


def failure_message(ref: TaskRef, task: CompletedTask) -> str:
    """`TaskFailedError`'s message: who failed, the counts, and the failing detail texts."""
    result = task.result
    outcome = "completed but rejected rows" if result.successful else "failed"
    parts = [f"{ref.describe()} {outcome}"]
    failed_rows = result.failed_row_count
    if failed_rows:
        parts.append(f"{failed_rows} rows failed")
    details = result.failure_details() or [d for part in result.walk() for d in part.details]
    texts: list[str] = []
    for detail in details[:5]:
        count = f" ({detail.occurrences} rows)" if detail.occurrences else ""
        texts.append(f"{detail.text}{count}")
    if len(details) > 5:
        texts.append(f"and {len(details) - 5} more")
    message = ", ".join(parts)
    if texts:
        message += ": " + "; ".join(texts)
    if any(part.failure_dump_available for part in result.walk()):
        message += " [failure dump available: error.dumps]"
    return message


def wait(
    ctx: Context,
    ref: TaskRef,
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel_on_timeout: bool = False,
    cancel_on_interrupt: bool = True,
    fail_on_rejected_rows: bool = False,
    initial: BulkTaskStatus | None = None,
    on_failure: Callable[[TaskRef, CompletedTask], TaskFailedError] | None = None,
) -> Flow[CompletedTask]:
    """Poll until the task ends; return it when successful, else raise a `TaskError`.

    Args:
        ctx: The flow context.
        ref: The task.
        timeout: Overall deadline in seconds; `TaskTimeoutError` (carrying the last status)
            when it passes first.
        on_progress: Called after each poll with a `ProgressUpdate`.
        cancel_on_timeout: Cancel the task on the server when the deadline passes.
        cancel_on_interrupt: On KeyboardInterrupt or async cancellation, cancel the task on the
            server (DELETE) and report its final state before the interruption propagates.
        fail_on_rejected_rows: Treat a successful task that rejected rows (an import's
            `…WithFailures`) as failed too.
        initial: A status already known (the start answer); saves the first poll.
        on_failure: Builds the `TaskFailedError` (the client binds its dump access there).
    """
    began = ctx.clock()
    schedule = PollSchedule(ctx.poll, ctx.rng)
    status: BulkTaskStatus | None = initial
    failed_polls = 0
    model = f"{ctx.workspace_id}/{ctx.model_id}"
    watched = False
    try:
        while True:
            if status is None:
                try:
                    status = yield from get_status(ctx, ref)
                    failed_polls = 0
                except (TransportError, ServerError, RateLimitError) as error:
                    # The task runs on regardless: ride out an outage of the API, within reason.
                    failed_polls += 1
                    if failed_polls > ctx.poll.failed_poll_tolerance:
                        raise
                    logger.warning(
                        "status of %s unavailable (%s); polling on", ref.describe(), error
                    )
                    elapsed = ctx.clock() - began
                    pause = min(ctx.poll.max_interval, ctx.poll.min_interval * failed_polls)
                    if timeout is not None:
                        pause = min(pause, max(timeout - elapsed, 0.0))
                    yield Sleep(pause)
                    if timeout is not None and ctx.clock() - began >= timeout:
                        raise
                    continue
            elapsed = ctx.clock() - began
            if isinstance(status, CompletedTask):
                rejected = fail_on_rejected_rows and status.result.failed_row_count > 0
                if status.result.successful and not rejected:
                    return status
                if on_failure is not None:
                    raise on_failure(ref, status)
                raise TaskFailedError(failure_message(ref, status), task=status)
            if isinstance(status, CancelledTask):
                if status.task_state == "CANCELLED":
                    raise TaskCancelledError(
                        f"{ref.describe()} was cancelled"
                        + (f" by {status.cancelled_by}" if status.cancelled_by else ""),
                        task=status,
                    )
                schedule.observe(elapsed, None)
            elif isinstance(status, Task):
                _check_state(status)
                ctx.state.queue.observe(
                    model, ref.task_id, running=status.task_state == "IN_PROGRESS"
                )
                watched = True
                if status.task_state == "NOT_STARTED" and ctx.state.queue.held(model, ref.task_id):
                    # Another task of this model, watched by this client, is running: Anaplan
                    # starts no other task of the model until it ends. Wait for that (no reads),
                    # then look.
                    while ctx.state.queue.held(model, ref.task_id) and (
                        timeout is None or ctx.clock() - began < timeout
                    ):
                        yield Sleep(ctx.poll.queue_check_interval)
                    # It was queued until now, as far as the schedule is concerned: its running
                    # time (for the estimate and the 5 s floor of long tasks) starts here.
                    schedule.observe(ctx.clock() - began, 0.0)
                    status = None
                    continue
                schedule.observe(elapsed, status.progress)
            if on_progress is not None:
                on_progress(
                    ProgressUpdate(
                        task=status,
                        progress=status.progress,
                        current_step=status.current_step,
                        elapsed=elapsed,
                        estimated_remaining=schedule.estimated_remaining(),
                    )
                )
            delay = schedule.next_delay(elapsed)
            if timeout is not None:
                left = timeout - elapsed
                if left <= 0:
                    last = status
                    cancelled = False
                    if cancel_on_timeout:
                        last = yield from cancel_and_settle(ctx, ref)
                        cancelled = True
                    raise TaskTimeoutError(
                        f"{ref.describe()} did not finish within {timeout:g}s "
                        f"(last seen: {last.describe()})" + ("; cancelled" if cancelled else ""),
                        task=last,
                        cancelled=cancelled,
                    )
                delay = min(delay, left)
            yield Sleep(delay)
            status = None
    except (KeyboardInterrupt, asyncio.CancelledError) as interruption:
        if not cancel_on_interrupt:
            raise
        logger.warning("interrupted while waiting for %s: cancelling it", ref.describe())
        try:
            final = yield from cancel_and_settle(ctx, ref)
        except AnaplanError as error:
            logger.warning("could not cancel %s: %s", ref.describe(), error)
            interruption.add_note(f"{ref.describe()}: cancel failed: {error}")
            raise interruption from None
        logger.warning("after the interruption: %s", final.describe())
        if isinstance(interruption, KeyboardInterrupt) and final.task_state == "CANCELLED":
            raise TaskCancelledError(
                f"{ref.describe()} cancelled on interrupt; final state {final.task_state}",
                task=final,
                cancelled_by_us=True,
            ) from interruption
        interruption.add_note(f"{ref.describe()}: final state {final.describe()}")
        raise
    finally:
        if watched:
            ctx.state.queue.leave(model, ref.task_id)


def _check_state(status: Task) -> None:
    # Exhaustive over the running states: a new state must be thought about here.
    state = status.task_state
    if state == "NOT_STARTED" or state == "IN_PROGRESS":
        return
    assert_never(state)
