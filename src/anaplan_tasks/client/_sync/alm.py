# Generated from src/anaplan_tasks/client/_async/alm.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`client.alm`: revisions, syncs, comparison and summary reports, online status.

Thin over the flows in `anaplan_tasks._core.alm`. Methods work on the client's model unless
`model_id=` names another; for syncs and reports that model is the *target*.
"""

from __future__ import annotations

from datetime import date

from ..._core import alm as core
from ..._core.alm import AlmStatus, AlmTaskKind, AlmTaskRef, ProgressCallback
from ...models import (
    AppliedToModel,
    CompletedSyncTask,
    Revision,
    SummaryReport,
    TaskListItem,
)
from ..alm import (
    ComparisonReportResult,
    Destination,
    SummaryReportResult,
    comparison_result,
    write_report,
)
from .runner import Namespace


class Alm(Namespace):
    """`client.alm`: revisions, syncs, comparison and summary reports, online status."""

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
        return self._runner.offload(comparison_result, task, content, dest)

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
        self._runner.offload(write_report, content, dest)
        return content

    def summary_report(
        self, target_revision_id: str, source_revision_id: str, model_id: str | None = None
    ) -> SummaryReport:
        """Read a summary report generated earlier."""
        return self._run(
            core.summary_report(self._ctx, model_id, target_revision_id, source_revision_id)
        )
