"""`client.alm`: revisions, syncs, comparison and summary reports, online status.

The same namespace on `Client` (`Alm`) and `AsyncClient` (`AsyncAlm`, every method awaitable),
both thin drivers of the flows in `anaplan_tasks._core.alm`. Methods work on the client's model
unless `model_id=` names another; for syncs and reports that model is the *target*.

Example:
    ```python
    with Client(model_id=prod_id, ...) as client:
        release = client.with_model(dev_id).alm.create_revision("Release 12")
        report = client.alm.compare(dev_id)  # newest syncable revision vs prod's latest
        for row in report.report.rows("LINE ITEMS ADDED"):
            print(row["Module"], row["Line Item"])
        client.alm.sync(dev_id)  # raises AlmTaskFailedError with Anaplan's title/message
    ```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from .._core import alm as core
from .._core.alm import AlmStatus, AlmTaskKind, AlmTaskRef, ProgressCallback
from .._core.flow import Flow
from ..models import (
    AppliedToModel,
    CompletedReportTask,
    CompletedSyncTask,
    Revision,
    SummaryReport,
    TaskListItem,
)
from ..models.alm_report import ComparisonReport, parse_comparison_report
from ._async import AsyncClient, register_async_namespace
from ._sync import Client, register_namespace

T = TypeVar("T")

Destination = str | os.PathLike[str]


@dataclass(frozen=True)
class ComparisonReportResult:
    """A generated comparison report.

    Attributes:
        task: The finished report task.
        content: The report's bytes, as Anaplan serves them (tab-separated UTF-8 text).
        report: The report parsed: header, sections, rows by column.
        path: Where the report was written, when a destination was given.
    """

    task: CompletedReportTask
    content: bytes
    report: ComparisonReport
    path: Path | None = None


@dataclass(frozen=True)
class SummaryReportResult:
    """A generated summary report and the task that made it."""

    task: CompletedReportTask
    summary: SummaryReport


def _comparison_result(
    task: CompletedReportTask, content: bytes, dest: Destination | None
) -> ComparisonReportResult:
    return ComparisonReportResult(
        task, content, parse_comparison_report(content), _write(content, dest)
    )


def _write(content: bytes, dest: Destination | None) -> Path | None:
    if dest is None:
        return None
    path = Path(dest)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    partial.replace(path)
    return path


class Alm:
    """`client.alm` on a `Client`."""

    def __init__(self, client: Client):
        self._client = client

    def _run(self, flow: Flow[T]) -> T:
        return self._client._run(flow)

    @property
    def _ctx(self) -> Any:
        return self._client._ctx

    # -- revisions -------------------------------------------------------------------------
    def revisions(
        self,
        model_id: str | None = None,
        *,
        applied_after: date | str | None = None,
        applied_before: date | str | None = None,
        sort: str | None = None,
    ) -> list[Revision]:
        """The model's revisions (`applied_after`/`applied_before` as dates, `sort="-name"`)."""
        query = core.revision_query(
            applied_after=applied_after, applied_before=applied_before, sort=sort
        )
        return self._run(core.list_revisions(self._ctx, model_id, query))

    def latest_revision(self, model_id: str | None = None) -> Revision | None:
        """The model's latest revision, or None when it has none."""
        return self._run(core.latest_revision(self._ctx, model_id))

    def syncable_revisions(
        self, source_model_id: str, model_id: str | None = None
    ) -> list[Revision]:
        """Revisions of `source_model_id` that can be synced into this model, newest first."""
        return self._run(core.syncable_revisions(self._ctx, model_id, source_model_id))

    def create_revision(
        self, name: str, description: str | None = None, model_id: str | None = None
    ) -> Revision:
        """Tag the model's structure (name ≤ 60, description ≤ 250 characters)."""
        return self._run(core.create_revision(self._ctx, model_id, name, description))

    def applied_to_models(
        self, revision_id: str, model_id: str | None = None
    ) -> list[AppliedToModel]:
        """The models a revision of this model was applied to."""
        return self._run(core.applied_to_models(self._ctx, model_id, revision_id))

    # -- online status ---------------------------------------------------------------------
    def set_online(self, model_id: str | None = None) -> None:
        """Bring the model online."""
        self._run(core.set_online_status(self._ctx, model_id, True))

    def set_offline(self, model_id: str | None = None) -> None:
        """Take the model offline (for example during a sync into production)."""
        self._run(core.set_online_status(self._ctx, model_id, False))

    # -- tasks -----------------------------------------------------------------------------
    def start(
        self,
        kind: AlmTaskKind,
        source_model_id: str,
        source_revision_id: str,
        target_revision_id: str,
        model_id: str | None = None,
    ) -> AlmTaskRef:
        """Start a `syncTasks`, `comparisonReportTasks` or `summaryReportTasks` task."""
        body = core.task_body(
            source_model_id=source_model_id,
            source_revision_id=source_revision_id,
            target_revision_id=target_revision_id,
        )
        return self._run(core.start_task(self._ctx, kind, model_id, body))

    def status(self, task: AlmTaskRef) -> AlmStatus:
        """A task's current status."""
        return self._run(core.get_status(self._ctx, task))

    def list_tasks(self, kind: AlmTaskKind, model_id: str | None = None) -> list[TaskListItem]:
        """The model's tasks of one kind, newest first."""
        return self._run(core.list_tasks(self._ctx, kind, model_id))

    def wait(
        self,
        task: AlmTaskRef,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> CompletedSyncTask:
        """Wait until the task is COMPLETE (same schedule and deadline as bulk tasks).

        Raises:
            AlmTaskFailedError: The task failed; `title`, `message_text`, `subtitle` say why.
            TaskTimeoutError: The deadline passed first (the task goes on on the server).
        """
        return self._run(core.wait(self._ctx, task, timeout=timeout, on_progress=on_progress))

    # -- the whole operations --------------------------------------------------------------
    def sync(
        self,
        source_model_id: str,
        *,
        source_revision_id: str | None = None,
        target_revision_id: str | None = None,
        model_id: str | None = None,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> CompletedSyncTask:
        """Sync a revision of `source_model_id` into this model and wait.

        Without revision ids: the newest syncable revision onto the model's latest revision.

        Raises:
            AlmTaskFailedError: The sync failed (for example incompatible revisions).
        """
        return self._run(
            core.sync(
                self._ctx,
                source_model_id,
                model_id,
                source_revision_id,
                target_revision_id,
                timeout=timeout,
                on_progress=on_progress,
            )
        )

    def compare(
        self,
        source_model_id: str,
        *,
        source_revision_id: str | None = None,
        target_revision_id: str | None = None,
        model_id: str | None = None,
        dest: Destination | None = None,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ComparisonReportResult:
        """Generate the full comparison report, download it (to `dest` too) and parse it."""
        task, content = self._run(
            core.compare(
                self._ctx,
                source_model_id,
                model_id,
                source_revision_id,
                target_revision_id,
                timeout=timeout,
                on_progress=on_progress,
            )
        )
        return _comparison_result(task, content, dest)

    def summarize(
        self,
        source_model_id: str,
        *,
        source_revision_id: str | None = None,
        target_revision_id: str | None = None,
        model_id: str | None = None,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> SummaryReportResult:
        """Generate the summary report and read it."""
        task, summary = self._run(
            core.summarize(
                self._ctx,
                source_model_id,
                model_id,
                source_revision_id,
                target_revision_id,
                timeout=timeout,
                on_progress=on_progress,
            )
        )
        return SummaryReportResult(task=task, summary=summary)

    def comparison_report(
        self,
        target_revision_id: str,
        source_revision_id: str,
        model_id: str | None = None,
        dest: Destination | None = None,
    ) -> bytes:
        """Download a comparison report generated earlier (to `dest` too)."""
        content = self._run(
            core.download_comparison_report(
                self._ctx, model_id, target_revision_id, source_revision_id
            )
        )
        _write(content, dest)
        return content

    def summary_report(
        self, target_revision_id: str, source_revision_id: str, model_id: str | None = None
    ) -> SummaryReport:
        """Read a summary report generated earlier."""
        return self._run(
            core.summary_report(self._ctx, model_id, target_revision_id, source_revision_id)
        )


class AsyncAlm:
    """`client.alm` on an `AsyncClient`: `Alm`'s methods, awaitable."""

    def __init__(self, client: AsyncClient):
        self._client = client

    async def _run(self, flow: Flow[T]) -> T:
        return await self._client._run(flow)

    @property
    def _ctx(self) -> Any:
        return self._client._ctx

    async def revisions(
        self,
        model_id: str | None = None,
        *,
        applied_after: date | str | None = None,
        applied_before: date | str | None = None,
        sort: str | None = None,
    ) -> list[Revision]:
        """See `Alm.revisions`."""
        query = core.revision_query(
            applied_after=applied_after, applied_before=applied_before, sort=sort
        )
        return await self._run(core.list_revisions(self._ctx, model_id, query))

    async def latest_revision(self, model_id: str | None = None) -> Revision | None:
        """See `Alm.latest_revision`."""
        return await self._run(core.latest_revision(self._ctx, model_id))

    async def syncable_revisions(
        self, source_model_id: str, model_id: str | None = None
    ) -> list[Revision]:
        """See `Alm.syncable_revisions`."""
        return await self._run(core.syncable_revisions(self._ctx, model_id, source_model_id))

    async def create_revision(
        self, name: str, description: str | None = None, model_id: str | None = None
    ) -> Revision:
        """See `Alm.create_revision`."""
        return await self._run(core.create_revision(self._ctx, model_id, name, description))

    async def applied_to_models(
        self, revision_id: str, model_id: str | None = None
    ) -> list[AppliedToModel]:
        """See `Alm.applied_to_models`."""
        return await self._run(core.applied_to_models(self._ctx, model_id, revision_id))

    async def set_online(self, model_id: str | None = None) -> None:
        """See `Alm.set_online`."""
        await self._run(core.set_online_status(self._ctx, model_id, True))

    async def set_offline(self, model_id: str | None = None) -> None:
        """See `Alm.set_offline`."""
        await self._run(core.set_online_status(self._ctx, model_id, False))

    async def start(
        self,
        kind: AlmTaskKind,
        source_model_id: str,
        source_revision_id: str,
        target_revision_id: str,
        model_id: str | None = None,
    ) -> AlmTaskRef:
        """See `Alm.start`."""
        body = core.task_body(
            source_model_id=source_model_id,
            source_revision_id=source_revision_id,
            target_revision_id=target_revision_id,
        )
        return await self._run(core.start_task(self._ctx, kind, model_id, body))

    async def status(self, task: AlmTaskRef) -> AlmStatus:
        """See `Alm.status`."""
        return await self._run(core.get_status(self._ctx, task))

    async def list_tasks(
        self, kind: AlmTaskKind, model_id: str | None = None
    ) -> list[TaskListItem]:
        """See `Alm.list_tasks`."""
        return await self._run(core.list_tasks(self._ctx, kind, model_id))

    async def wait(
        self,
        task: AlmTaskRef,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> CompletedSyncTask:
        """See `Alm.wait`."""
        return await self._run(core.wait(self._ctx, task, timeout=timeout, on_progress=on_progress))

    async def sync(
        self,
        source_model_id: str,
        *,
        source_revision_id: str | None = None,
        target_revision_id: str | None = None,
        model_id: str | None = None,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> CompletedSyncTask:
        """See `Alm.sync`."""
        return await self._run(
            core.sync(
                self._ctx,
                source_model_id,
                model_id,
                source_revision_id,
                target_revision_id,
                timeout=timeout,
                on_progress=on_progress,
            )
        )

    async def compare(
        self,
        source_model_id: str,
        *,
        source_revision_id: str | None = None,
        target_revision_id: str | None = None,
        model_id: str | None = None,
        dest: Destination | None = None,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ComparisonReportResult:
        """See `Alm.compare`."""
        task, content = await self._run(
            core.compare(
                self._ctx,
                source_model_id,
                model_id,
                source_revision_id,
                target_revision_id,
                timeout=timeout,
                on_progress=on_progress,
            )
        )
        return _comparison_result(task, content, dest)

    async def summarize(
        self,
        source_model_id: str,
        *,
        source_revision_id: str | None = None,
        target_revision_id: str | None = None,
        model_id: str | None = None,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> SummaryReportResult:
        """See `Alm.summarize`."""
        task, summary = await self._run(
            core.summarize(
                self._ctx,
                source_model_id,
                model_id,
                source_revision_id,
                target_revision_id,
                timeout=timeout,
                on_progress=on_progress,
            )
        )
        return SummaryReportResult(task=task, summary=summary)

    async def comparison_report(
        self,
        target_revision_id: str,
        source_revision_id: str,
        model_id: str | None = None,
        dest: Destination | None = None,
    ) -> bytes:
        """See `Alm.comparison_report`."""
        content = await self._run(
            core.download_comparison_report(
                self._ctx, model_id, target_revision_id, source_revision_id
            )
        )
        _write(content, dest)
        return content

    async def summary_report(
        self, target_revision_id: str, source_revision_id: str, model_id: str | None = None
    ) -> SummaryReport:
        """See `Alm.summary_report`."""
        return await self._run(
            core.summary_report(self._ctx, model_id, target_revision_id, source_revision_id)
        )


register_namespace("alm", Alm)
register_async_namespace("alm", AsyncAlm)
