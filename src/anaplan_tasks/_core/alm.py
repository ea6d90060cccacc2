"""ALM flows: revisions, online status, sync and report tasks, and the reports themselves.

ALM lives at `{api}/models/{modelId}/alm/…` (no workspace in the path). Its tasks go
`IN_PROGRESS` → `COMPLETE` and cannot be cancelled; a failed one is still `COMPLETE`, with
`currentStep: "Failed."` and `result.error {title, messageText[, subtitle]}`, which `wait` turns
into `AlmTaskFailedError`.

Starting a task creates work, so its POST is repeated only when it provably never ran; when it
may have run, the target's task list is read and a task created since the attempt began is
adopted (as for bulk tasks).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast
from urllib.parse import quote

from ..errors import (
    AlmTaskFailedError,
    AnaplanError,
    ConfigurationError,
    NoSyncableRevisionError,
    TaskCancelledError,
    TaskTimeoutError,
)
from ..models import (
    AppliedToModel,
    CancelledTask,
    CompletedReportTask,
    CompletedSyncTask,
    PendingTask,
    ReportTaskStatus,
    Revision,
    SummaryReport,
    SyncTaskStatus,
    TaskListItem,
    parse_report_task,
    parse_sync_task,
    parse_task_list,
    parse_task_with_url,
)
from .calls import call, get_json, list_all
from .flow import Context, Flow, Request, Sleep
from .polling import PollSchedule
from .responses import items_of, json_object
from .tasks import start_reconciled
from .types import ProgressUpdate

logger = logging.getLogger("anaplan_tasks")

AlmTaskKind = Literal["syncTasks", "comparisonReportTasks", "summaryReportTasks"]
"""The three kinds of ALM task, named as their URL segment."""

AlmStatus = SyncTaskStatus | ReportTaskStatus
"""The status of any ALM task."""

ProgressCallback = Callable[[ProgressUpdate], None]

REPORT_MEDIA_TYPE = "application/octet-stream"
"""The only `Accept` the comparison report download honours (anything else: 406)."""

_NOUNS: dict[AlmTaskKind, str] = {
    "syncTasks": "sync",
    "comparisonReportTasks": "comparison report",
    "summaryReportTasks": "summary report",
}


@dataclass(frozen=True)
class AlmTaskRef:
    """Which ALM task: its kind, the target model and the task id.

    Attributes:
        kind: `syncTasks`, `comparisonReportTasks` or `summaryReportTasks`.
        model_id: The target model.
        task_id: The task's id.
        source_revision_id: The source revision asked for, when known.
        target_revision_id: The target revision asked for, when known.
    """

    kind: AlmTaskKind
    model_id: str
    task_id: str
    source_revision_id: str | None = None
    target_revision_id: str | None = None

    def describe(self) -> str:
        """`ALM sync task ABC… on model DEF…` for messages."""
        return f"ALM {_NOUNS[self.kind]} task {self.task_id} on model {self.model_id}"


# -- URLs and bodies ----------------------------------------------------------------------------


def model_url(ctx: Context, model_id: str | None) -> str:
    """`{api}/models/{modelId}`; the client's model when none is given."""
    chosen = model_id or ctx.model_id
    if not chosen:
        raise ConfigurationError(
            "this ALM call needs a model: pass model_id= (or set ANAPLAN_MODEL_ID)"
        )
    return f"{ctx.api_base_url}/models/{quote(chosen, safe='')}"


def alm_url(ctx: Context, model_id: str | None, path: str) -> str:
    """A path under `{api}/models/{modelId}/alm`."""
    return f"{model_url(ctx, model_id)}/alm{path}"


def revision_query(
    *,
    applied_after: date | str | None = None,
    applied_before: date | str | None = None,
    sort: str | None = None,
) -> dict[str, str]:
    """Query parameters of the revision list (dates as `YYYY-MM-DD`)."""
    query: dict[str, str] = {}
    if applied_after is not None:
        query["appliedAfter"] = str(applied_after)
    if applied_before is not None:
        query["appliedBefore"] = str(applied_before)
    if sort:
        query["sort"] = sort
    return query


def task_body(
    *, source_model_id: str, source_revision_id: str, target_revision_id: str
) -> dict[str, str]:
    """The body of every ALM task start: exactly the three ids (Anaplan refuses any other)."""
    return {
        "sourceRevisionId": source_revision_id,
        "sourceModelId": source_model_id,
        "targetRevisionId": target_revision_id,
    }


def parse_status(ref: AlmTaskRef, body: Mapping[str, Any]) -> AlmStatus:
    """A task status by kind: sync tasks and report tasks have different results.

    Anaplan's documented success answer of a sync task carries only `successful: true`; the
    revision ids the task was started with are filled in so it still reads as a
    `CompletedSyncTask` (live answers name them).
    """
    task = body.get("task", body)
    result = task.get("result") if isinstance(task, Mapping) else None
    if isinstance(result, Mapping) and result.get("successful") is True:
        filled = dict(result)
        if ref.source_revision_id is not None:
            filled.setdefault("sourceRevisionId", ref.source_revision_id)
        if ref.target_revision_id is not None:
            filled.setdefault("targetRevisionId", ref.target_revision_id)
        body = {**task, "result": filled}
    if ref.kind == "syncTasks":
        return parse_sync_task(body)
    return parse_report_task(body)


def failure_of(ref: AlmTaskRef, task: CompletedSyncTask) -> AlmTaskFailedError:
    """The error for a finished ALM task whose result says `successful: false`."""
    error = getattr(task.result, "error", None)
    title = getattr(error, "title", None) or "ALM task failed"
    message_text = getattr(error, "message", None) or ""
    subtitle = getattr(error, "subtitle", None)
    text = f"{ref.describe()} failed: {title}"
    if message_text:
        text += f": {message_text}"
    if subtitle:
        text += f" ({subtitle})"
    return AlmTaskFailedError(
        text, task=task, ref=ref, title=title, message_text=message_text, subtitle=subtitle
    )


# -- revisions and online status ---------------------------------------------------------------


def list_revisions(
    ctx: Context, model_id: str | None, query: Mapping[str, str] | None = None
) -> Flow[list[Revision]]:
    """Every revision of a model (all pages)."""
    items = yield from list_all(ctx, alm_url(ctx, model_id, "/revisions"), "revisions", query)
    return [Revision.model_validate(item) for item in items]


def latest_revision(ctx: Context, model_id: str | None) -> Flow[Revision | None]:
    """A model's latest revision; None when it has none (Anaplan omits the key)."""
    body = yield from get_json(ctx, alm_url(ctx, model_id, "/latestRevision"))
    items = items_of(body, "revisions")
    return Revision.model_validate(items[0]) if items else None


def syncable_revisions(
    ctx: Context, target_model_id: str | None, source_model_id: str
) -> Flow[list[Revision]]:
    """The source model's revisions the target can take, newest first."""
    url = alm_url(ctx, target_model_id, "/syncableRevisions")
    body = yield from get_json(ctx, url, {"sourceModelId": source_model_id})
    return [Revision.model_validate(item) for item in items_of(body, "revisions")]


def create_revision(
    ctx: Context, model_id: str | None, name: str, description: str | None = None
) -> Flow[Revision]:
    """Tag the model's current structure (needs a structural change since the last tag)."""
    body: dict[str, str] = {"name": name}
    if description is not None:
        body["description"] = description
    request = Request("POST", alm_url(ctx, model_id, "/revisions"), json=body, retry="start")
    response = yield from call(ctx, request)
    payload = json_object(response)
    revision = payload.get("revision", payload)
    return Revision.model_validate(revision)


def applied_to_models(
    ctx: Context, model_id: str | None, revision_id: str
) -> Flow[list[AppliedToModel]]:
    """The models a revision was applied to, in order."""
    url = alm_url(ctx, model_id, f"/revisions/{quote(revision_id, safe='')}/appliedToModels")
    body = yield from get_json(ctx, url)
    return [AppliedToModel.model_validate(item) for item in items_of(body, "appliedToModels")]


def set_online_status(ctx: Context, model_id: str | None, online: bool) -> Flow[None]:
    """Bring a model online or take it offline (workspace administrators only)."""
    url = f"{model_url(ctx, model_id)}/onlineStatus"
    status = "online" if online else "offline"
    yield from call(ctx, Request("PUT", url, json={"status": status}))


# -- tasks -------------------------------------------------------------------------------------


def list_tasks(ctx: Context, kind: AlmTaskKind, model_id: str | None) -> Flow[list[TaskListItem]]:
    """A model's ALM tasks of one kind, newest first (48 hours)."""
    body = yield from get_json(ctx, alm_url(ctx, model_id, f"/{kind}"))
    return parse_task_list(body)


def get_status(ctx: Context, ref: AlmTaskRef) -> Flow[AlmStatus]:
    """A task's current status."""
    url = alm_url(ctx, ref.model_id, f"/{ref.kind}/{quote(ref.task_id, safe='')}")
    body = yield from get_json(ctx, url)
    return parse_status(ref, body)


def start_task(
    ctx: Context, kind: AlmTaskKind, model_id: str | None, body: Mapping[str, str]
) -> Flow[AlmTaskRef]:
    """Start a task on the target model, reconciling instead of repeating a start that ran."""
    target = model_id or ctx.model_id or ""
    url = alm_url(ctx, target, f"/{kind}")
    source_revision_id = body.get("sourceRevisionId")
    target_revision_id = body.get("targetRevisionId")
    request = Request(
        "POST",
        url,
        headers={"Idempotency-Key": ctx.new_key()},
        json=dict(body),
        retry="start",
    )
    _, task_id = yield from start_reconciled(
        ctx,
        request,
        lambda: list_tasks(ctx, kind, target),
        f"ALM {kind} of model {target}",
        family=f"alm {kind}",
        task_id_of=lambda answer: parse_task_with_url(json_object(answer)).id,
    )
    return AlmTaskRef(kind, target, task_id, source_revision_id, target_revision_id)


def wait(
    ctx: Context,
    ref: AlmTaskRef,
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Flow[CompletedSyncTask]:
    """Poll until the task is COMPLETE; return it when successful.

    The polling schedule, deadline and progress callback are the bulk tasks' (`tasks.wait`).
    ALM tasks cannot be cancelled: on a deadline or Ctrl-C the task goes on on the server, and
    the error says so.

    Raises:
        AlmTaskFailedError: COMPLETE with `successful: false` (carries Anaplan's title/message).
        TaskTimeoutError: The deadline passed first (carries the last status).
    """
    began = ctx.clock()
    schedule = PollSchedule(ctx.poll, ctx.rng)
    try:
        while True:
            status = yield from get_status(ctx, ref)
            elapsed = ctx.clock() - began
            if isinstance(status, CompletedSyncTask):  # also CompletedReportTask
                if status.result.successful:
                    return status
                raise failure_of(ref, status)
            if isinstance(status, CancelledTask):
                raise TaskCancelledError(f"{ref.describe()} was cancelled", task=status)
            schedule.observe(elapsed, None)
            if on_progress is not None:
                on_progress(
                    ProgressUpdate(
                        task=cast("Any", status),
                        progress=0.0,
                        current_step=status.current_step or None,
                        elapsed=elapsed,
                        estimated_remaining=None,
                    )
                )
            delay = schedule.next_delay(elapsed)
            if timeout is not None:
                left = timeout - elapsed
                if left <= 0:
                    raise TaskTimeoutError(
                        f"{ref.describe()} did not finish within {timeout:g}s (last seen: "
                        f"{_describe(status)}); ALM tasks cannot be cancelled, it goes on",
                        task=status,
                    )
                delay = min(delay, left)
            yield Sleep(delay)
    except (KeyboardInterrupt, asyncio.CancelledError) as interruption:
        interruption.add_note(
            f"{ref.describe()} goes on on the server: ALM tasks cannot be cancelled"
        )
        raise


def _describe(status: AlmStatus) -> str:
    if isinstance(status, PendingTask):
        return status.describe()
    return f"task {status.id}: {status.task_state}"


def run_task(
    ctx: Context,
    kind: AlmTaskKind,
    model_id: str | None,
    body: Mapping[str, str],
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Flow[CompletedSyncTask]:
    """Start a task and wait for it."""
    ref = yield from start_task(ctx, kind, model_id, body)
    return (yield from wait(ctx, ref, timeout=timeout, on_progress=on_progress))


def resolve_revisions(
    ctx: Context,
    target_model_id: str | None,
    source_model_id: str,
    source_revision_id: str | None,
    target_revision_id: str | None,
) -> Flow[tuple[str, str]]:
    """The (source, target) revision ids: the given ones, or the newest syncable revision and
    the target's latest revision."""
    if target_revision_id is None:
        latest = yield from latest_revision(ctx, target_model_id)
        if latest is None:
            raise AnaplanError(
                f"model {target_model_id or ctx.model_id} has no revision to sync onto"
            )
        target_revision_id = latest.id
    if source_revision_id is None:
        candidates = yield from syncable_revisions(ctx, target_model_id, source_model_id)
        if not candidates:
            raise NoSyncableRevisionError(source_model_id, target_model_id or ctx.model_id or "")
        source_revision_id = candidates[0].id
    return source_revision_id, target_revision_id


def run_between(
    ctx: Context,
    kind: AlmTaskKind,
    source_model_id: str,
    model_id: str | None,
    source_revision_id: str | None,
    target_revision_id: str | None,
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Flow[tuple[CompletedSyncTask, str, str]]:
    """Run a sync or report task between two revisions (by default the newest syncable one and
    the target's latest); returns the task and the (target, source) revision ids it used."""
    source, target = yield from resolve_revisions(
        ctx, model_id, source_model_id, source_revision_id, target_revision_id
    )
    body = task_body(
        source_model_id=source_model_id, source_revision_id=source, target_revision_id=target
    )
    task = yield from run_task(ctx, kind, model_id, body, timeout=timeout, on_progress=on_progress)
    return task, target, source


def sync(
    ctx: Context,
    source_model_id: str,
    model_id: str | None,
    source_revision_id: str | None,
    target_revision_id: str | None,
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Flow[CompletedSyncTask]:
    """Sync a revision of the source model into the target model and wait."""
    task, _, _ = yield from run_between(
        ctx, "syncTasks", source_model_id, model_id, source_revision_id, target_revision_id,
        timeout=timeout, on_progress=on_progress,
    )  # fmt: skip
    return task


def compare(
    ctx: Context,
    source_model_id: str,
    model_id: str | None,
    source_revision_id: str | None,
    target_revision_id: str | None,
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Flow[tuple[CompletedReportTask, bytes]]:
    """Generate the comparison report and download it."""
    task, target, source = yield from run_between(
        ctx, "comparisonReportTasks", source_model_id, model_id, source_revision_id,
        target_revision_id, timeout=timeout, on_progress=on_progress,
    )  # fmt: skip
    assert isinstance(task, CompletedReportTask)
    content = yield from download_comparison_report(ctx, model_id, target, source)
    return task, content


def summarize(
    ctx: Context,
    source_model_id: str,
    model_id: str | None,
    source_revision_id: str | None,
    target_revision_id: str | None,
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Flow[tuple[CompletedReportTask, SummaryReport]]:
    """Generate the summary report and read it."""
    task, target, source = yield from run_between(
        ctx, "summaryReportTasks", source_model_id, model_id, source_revision_id,
        target_revision_id, timeout=timeout, on_progress=on_progress,
    )  # fmt: skip
    assert isinstance(task, CompletedReportTask)
    summary = yield from summary_report(ctx, model_id, target, source)
    return task, summary


# -- reports -----------------------------------------------------------------------------------


def comparison_report_url(
    ctx: Context, model_id: str | None, target_revision_id: str, source_revision_id: str
) -> str:
    """Where a comparison report is (target revision first)."""
    return alm_url(
        ctx,
        model_id,
        f"/comparisonReports/{quote(target_revision_id, safe='')}/"
        f"{quote(source_revision_id, safe='')}",
    )


def download_comparison_report(
    ctx: Context, model_id: str | None, target_revision_id: str, source_revision_id: str
) -> Flow[bytes]:
    """The comparison report's bytes (tab-separated text)."""
    url = comparison_report_url(ctx, model_id, target_revision_id, source_revision_id)
    response = yield from call(ctx, Request("GET", url, headers={"Accept": REPORT_MEDIA_TYPE}))
    return response.content


def summary_report(
    ctx: Context, model_id: str | None, target_revision_id: str, source_revision_id: str
) -> Flow[SummaryReport]:
    """The summary report: totals and per-category counts."""
    url = alm_url(
        ctx,
        model_id,
        f"/summaryReports/{quote(target_revision_id, safe='')}/"
        f"{quote(source_revision_id, safe='')}",
    )
    body = yield from get_json(ctx, url)
    return SummaryReport.model_validate(body.get("summaryReport", body))


def report_task_ids(task: CompletedSyncTask) -> tuple[str, str]:
    """The (target, source) revision ids a finished report task names."""
    result = task.result
    if not isinstance(task, CompletedReportTask) or result.target_revision_id is None:
        raise AnaplanError(f"task {task.id} names no revisions")
    return result.target_revision_id, result.source_revision_id
