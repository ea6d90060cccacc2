"""The emulator's ALM: revisions, syncs, comparison and summary reports, online status.

Every method takes the authenticated caller and raises an `EmulatorError` carrying Anaplan's
status and message for a request Anaplan would refuse. Payloads are the shared wire models
(`Revision`, `AppliedToModel`, the ALM task models, `SummaryReport`), so the HTTP layer only
serialises them.

Behaviour (Anaplan's where documented, the emulator's choice where marked *emulator*):

- Every endpoint needs Workspace Administrator on the model's workspace (sync and reports: on
  the source's workspace too): 403, except the comparison/summary report endpoints, which answer
  424 with an empty message, as observed live.
- ALM starts for a model the first time any ALM call runs: a model copied from another (its
  definition's `origin`) shares that model's latest revision (*emulator*: the origin gets a first
  revision "Baseline" from its structure at that moment if it has none). Other models start with
  no revision, so `latestRevision` has no `revisions` key until one is created.
- Creating a revision needs a structural change since the model's latest revision (*emulator*
  message `NO_CHANGE_MESSAGE`).
- ALM tasks go `IN_PROGRESS` → `COMPLETE`. With `polls_to_complete=0` (the default) the work is
  done when the task starts; with N > 0 it is done on the N-th status read, so a client's waiting
  loop sees a running task first. A sync replaces the target's structure with the source
  revision's (the target keeps its name and origin, and its data where the structure still
  holds it) and makes the source revision the target's latest.
- Incompatible revisions (see `compat`) end the task `COMPLETE`, `currentStep: "Failed."`, with
  Anaplan's `result.error`.
- Task lists show a model's tasks of one kind, newest first, finished within the last 48 hours.
  Reports are kept 48 hours after their last download.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from ...models import (
    AppliedToModel,
    Revision,
    SummaryReport,
    TaskSummary,
    TaskWithUrl,
    parse_report_task,
    parse_sync_task,
)
from ...models.alm_report import ReportSide
from ...models.parsing import ReportTaskStatus, SyncTaskStatus
from ..definitions import ModelDef
from ..engine.contract import Page, Paged, Principal
from ..errors import BadRequest, EmulatorError, Forbidden, ModelArchived, ModelOffline, NotFound
from .compat import history_of, incompatibility, syncable
from .diff import diff_structures, same_structure, structure_of
from .edits import EditError, apply_edits, parse_edits
from .host import AlmHost, ModelInfo
from .report import comparison_report, summary_report
from .store import (
    AlmStore,
    AlmTaskRecord,
    AppliedRecord,
    ReportKind,
    RevisionRecord,
    TaskKind,
)

MAX_NAME = 60
MAX_DESCRIPTION = 250
NAME_TOO_LONG = "The title of your revision tag must be 60 characters or fewer."
DESCRIPTION_TOO_LONG = "Revision tag descriptions must be 250 characters or fewer."
NAME_MISSING = "Expected mandatory field 'name' to be present and not empty."
NO_CHANGE_MESSAGE = (
    "A revision tag cannot be created: the model has no structural change since its last "
    "revision tag."
)
MISSING_SOURCE_MODEL = "Missing 'sourceModelId' request parameter."
MISSING_TASK_FIELDS = (
    "Expected mandatory fields 'sourceRevisionId', 'sourceModelId' and 'targetRevisionId'"
)
NULL_BODY = "The request body is null. To continue, change the format to a non-empty state."
BAD_DATE = "Date query parameter must be of the format 'YYYY-MM-DD'"
DATES_IN_WRONG_ORDER = "'appliedAfter' must be an earlier date than 'appliedBefore'"

CREATED_VIA_API = "User added revision via API"
SYNCHRONIZED = "Revision synchronized"
MODEL_COPIED = "Model copied"
BASELINE_NAME = "Baseline"

RUNNING_STEP = "Processing ..."
COMPLETE_STEP = "Complete."
FAILED_STEP = "Failed."

RETENTION_MS = 48 * 3600 * 1000
"""Finished ALM tasks and unread reports are kept this long (Anaplan: 48 hours)."""

_TASK_FIELDS = ("sourceRevisionId", "sourceModelId", "targetRevisionId")
_REVISION_SORT_KEYS: dict[str, Callable[[tuple[RevisionRecord, AppliedRecord]], Any]] = {
    "name": lambda pair: pair[0].name,
    "id": lambda pair: pair[0].id,
    "description": lambda pair: pair[0].description or "",
    "createdOn": lambda pair: pair[0].created_ms,
    "createdBy": lambda pair: pair[0].created_by,
    "creationMethod": lambda pair: pair[0].creation_method,
    "appliedOn": lambda pair: pair[1].applied_ms,
    "appliedBy": lambda pair: pair[1].applied_by,
}


def unrecognized(field: str) -> BadRequest:
    """Anaplan's 400 for a body field an ALM endpoint does not take."""
    return BadRequest(
        f"Identified an unrecognized '{field}'. Amend the content so it only contains "
        "applicable fields."
    )


def iso(ms: int) -> str:
    """Epoch milliseconds as ALM writes times: ISO-8601 UTC, seconds, `Z`."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AlmService:
    """ALM over an engine (`AlmHost`) and the ALM tables (`AlmStore`).

    Args:
        host: The engine's side (models, admin rights, structure).
        store: Where revisions, tasks and reports are kept.
        clock: Epoch seconds.
        polls_to_complete: Status reads before a task's work is done (0: done at start), or a
            function giving it (the HTTP layer follows the emulator's `polls` progression).
    """

    def __init__(
        self,
        host: AlmHost,
        store: AlmStore,
        *,
        clock: Callable[[], float] = time.time,
        polls_to_complete: int | Callable[[], int] = 0,
    ):
        self.host = host
        self.store = store
        self.clock = clock
        self._polls_to_complete = polls_to_complete
        self._lock = threading.RLock()

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    @property
    def polls_to_complete(self) -> int:
        """Status reads a task needs before its work is done (0: done when it starts)."""
        chosen = self._polls_to_complete
        return chosen() if callable(chosen) else chosen

    # -- access ------------------------------------------------------------------------------
    def _admin_model(
        self, principal: Principal, model_id: str, *, denied: type[EmulatorError] = Forbidden
    ) -> ModelInfo:
        model = self.host.model_info(principal, model_id)
        if not self.host.is_workspace_admin(principal, model.workspace_id):
            raise denied("" if denied is ModelOffline else "Forbidden")
        if model.state == "ARCHIVED":
            raise ModelArchived("Model is Archived")
        self._start_alm()
        return model

    def _start_alm(self) -> None:
        """Register models ALM has not seen; copies share their origin's latest revision."""
        with self._lock:
            known = self.store.known_models()
            models = self.host.all_models()
            for model in models:
                if model.id in known and known[model.id] != model.created_ms:
                    self.store.forget_model(model.id)  # recreated by a reset: stale history
                    del known[model.id]
            by_id = {model.id: model for model in models}
            for model in models:
                self._register(model, by_id, known, set())

    def _register(
        self,
        model: ModelInfo,
        by_id: Mapping[str, ModelInfo],
        known: dict[str, int],
        visiting: set[str],
    ) -> None:
        if model.id in known or model.id in visiting:
            return
        visiting.add(model.id)
        origin = self._origin_of(model, by_id.values())
        now = self._now_ms()
        if origin is not None:
            self._register(origin, by_id, known, visiting)
            latest = self.store.latest_of(origin.id)
            with self.store.transaction() as db:
                if latest is None:
                    baseline = RevisionRecord(
                        id=_new_id(),
                        model_id=origin.id,
                        name=BASELINE_NAME,
                        description=None,
                        created_ms=now,
                        created_by=self._admin_of(origin),
                        creation_method=MODEL_COPIED,
                        parent_id=None,
                        structure=structure_of(self.host.structure(origin.id)),
                    )
                    AlmStore.add_revision(db, baseline)
                    AlmStore.add_applied(
                        db,
                        AppliedRecord(
                            baseline.id, origin.id, now, baseline.created_by, MODEL_COPIED
                        ),
                    )
                    revision_id = baseline.id
                else:
                    revision_id = latest[0].id
                AlmStore.add_applied(
                    db,
                    AppliedRecord(revision_id, model.id, now, self._admin_of(model), MODEL_COPIED),
                )
                AlmStore.remember_model(db, model.id, model.created_ms)
        else:
            with self.store.transaction() as db:
                AlmStore.remember_model(db, model.id, model.created_ms)
        known[model.id] = model.created_ms

    def _admin_of(self, model: ModelInfo) -> str:
        # Who "copied" a model from the definition: its workspace's first administrator.
        admins = self.host.workspace_admins(model.workspace_id)
        return admins[0] if admins else ""

    @staticmethod
    def _origin_of(model: ModelInfo, models: Iterable[ModelInfo]) -> ModelInfo | None:
        if model.origin is None:
            return None
        candidates = [other for other in models if other.name == model.origin and other != model]
        same_workspace = [other for other in candidates if other.workspace_id == model.workspace_id]
        chosen = same_workspace or candidates
        return chosen[0] if chosen else None

    # -- revisions ---------------------------------------------------------------------------
    def revisions(
        self,
        principal: Principal,
        model_id: str,
        page: Page,
        *,
        applied_after: str | None = None,
        applied_before: str | None = None,
        sort: str | None = None,
    ) -> Paged[Revision]:
        """`GET …/alm/revisions`: the revisions applied to the model, oldest first by default."""
        after, before = _date(applied_after), _date(applied_before)
        if after is not None and before is not None and after >= before:
            raise BadRequest(DATES_IN_WRONG_ORDER)
        self._admin_model(principal, model_id)
        pairs = self.store.applied_to_model(model_id)
        if after is not None:
            pairs = [pair for pair in pairs if pair[1].applied_ms >= _day_end_ms(after)]
        if before is not None:
            pairs = [pair for pair in pairs if pair[1].applied_ms < _day_start_ms(before)]
        if sort:
            descending = sort.startswith("-")
            key = _REVISION_SORT_KEYS.get(sort.lstrip("+-").strip())
            if key is not None:
                pairs = sorted(pairs, key=key, reverse=descending)
        window = pairs[page.offset : page.offset + page.limit]
        return Paged(
            items=[_revision_wire(*pair) for pair in window],
            total_size=len(pairs),
            offset=page.offset,
        )

    def latest_revision(self, principal: Principal, model_id: str) -> Revision | None:
        """`GET …/alm/latestRevision`: the model's latest revision, or None."""
        self._admin_model(principal, model_id)
        latest = self.store.latest_of(model_id)
        return _revision_wire(*latest) if latest is not None else None

    def syncable_revisions(
        self, principal: Principal, target_model_id: str, source_model_id: str | None
    ) -> list[Revision]:
        """`GET …/alm/syncableRevisions?sourceModelId=`: source revisions the target can take."""
        if not source_model_id:
            raise BadRequest(MISSING_SOURCE_MODEL)
        self._admin_model(principal, target_model_id)
        self._admin_model(principal, source_model_id)
        pairs = self.store.applied_to_model(source_model_id)
        newest_first = sorted(pairs, key=lambda pair: pair[0].created_ms, reverse=True)
        latest = self.store.latest_of(target_model_id)
        ids = syncable(
            [pair[0].id for pair in newest_first],
            self.store.parents(),
            latest[0].id if latest is not None else None,
        )
        by_id = {pair[0].id: pair for pair in newest_first}
        return [_revision_wire(*by_id[revision_id]) for revision_id in ids]

    def create_revision(
        self, principal: Principal, model_id: str, body: Mapping[str, Any] | None
    ) -> Revision:
        """`POST …/alm/revisions`: tag the model's current structure."""
        if body is None:
            raise BadRequest(NULL_BODY)
        for field in body:
            if field not in ("name", "description"):
                raise unrecognized(field)
        name, description = body.get("name"), body.get("description")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest(NAME_MISSING)
        if description is not None and not isinstance(description, str):
            raise BadRequest("Found a value with an unexpected format when string was expected.")
        if len(name) > MAX_NAME:
            raise BadRequest(NAME_TOO_LONG)
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise BadRequest(DESCRIPTION_TOO_LONG)
        self._admin_model(principal, model_id)
        with self._lock:
            structure = structure_of(self.host.structure(model_id))
            latest = self.store.latest_of(model_id)
            if latest is not None and same_structure(latest[0].structure, structure):
                raise BadRequest(NO_CHANGE_MESSAGE)
            now = self._now_ms()
            revision = RevisionRecord(
                id=_new_id(),
                model_id=model_id,
                name=name,
                description=description or None,
                created_ms=now,
                created_by=principal.user_id,
                creation_method=CREATED_VIA_API,
                parent_id=latest[0].id if latest is not None else None,
                structure=structure,
            )
            applied = AppliedRecord(revision.id, model_id, now, principal.user_id, CREATED_VIA_API)
            with self.store.transaction() as db:
                AlmStore.add_revision(db, revision)
                AlmStore.add_applied(db, applied)
        return _revision_wire(revision, applied)

    def applied_to_models(
        self, principal: Principal, model_id: str, revision_id: str
    ) -> list[AppliedToModel]:
        """`GET …/alm/revisions/{revisionId}/appliedToModels`."""
        self._admin_model(principal, model_id)
        applications = self.store.applications_of(revision_id)
        if not any(applied.model_id == model_id for applied in applications):
            raise NotFound("Not Found")
        existing = {model.id: model for model in self.host.all_models()}
        seen: set[str] = set()
        result: list[AppliedToModel] = []
        for applied in applications:
            if applied.model_id in seen:
                continue
            seen.add(applied.model_id)
            wire: dict[str, Any] = {"modelId": applied.model_id}
            model = existing.get(applied.model_id)
            if model is not None:
                try:
                    visible = self.host.model_info(principal, applied.model_id)
                    wire["modelName"] = visible.name
                except NotFound:
                    wire["modelName"] = ""
                wire["workspaceId"] = model.workspace_id
            wire.update(
                appliedBy=applied.applied_by,
                appliedOn=iso(applied.applied_ms),
                appliedMethod=applied.method,
            )
            if model is None:
                wire["modelDeleted"] = True
            result.append(AppliedToModel.model_validate(wire))
        return result

    # -- online status -----------------------------------------------------------------------
    def set_online_status(
        self, principal: Principal, model_id: str, body: Mapping[str, Any] | None
    ) -> None:
        """`PUT /models/{modelId}/onlineStatus` with `{"status": "online"|"offline"}`."""
        if body is None:
            raise BadRequest("Error parsing request body as JSON")
        for field in body:
            if field != "status":
                raise BadRequest("Unrecognised property detected")
        if "status" not in body:
            raise BadRequest("Missing mandatory property 'status'")
        status = body["status"]
        if status not in ("online", "offline"):
            raise BadRequest("Invalid value for 'status', must be one of [online, offline]")
        model = self.host.model_info(principal, model_id)
        if not self.host.is_workspace_admin(principal, model.workspace_id):
            raise Forbidden("Forbidden")
        if model.state == "ARCHIVED":
            raise ModelArchived("Model is Archived")
        if model.state == "LOCKED":
            raise BadRequest("Cannot change status when model is in Locked or Archived mode")
        self.host.set_online(model_id, status == "online")

    # -- tasks -------------------------------------------------------------------------------
    def start_task(
        self,
        principal: Principal,
        kind: TaskKind,
        model_id: str,
        body: Mapping[str, Any] | None,
        *,
        base_url: str,
    ) -> TaskWithUrl:
        """`POST …/alm/{kind}`: start a sync, comparison or summary task."""
        denied: type[EmulatorError] = Forbidden if kind == "syncTasks" else ModelOffline
        self._admin_model(principal, model_id, denied=denied)
        if body is None:
            raise BadRequest(NULL_BODY)
        for field in body:
            if field not in _TASK_FIELDS:
                raise unrecognized(field)
        values = [body.get(field) for field in _TASK_FIELDS]
        if not all(isinstance(value, str) and value for value in values):
            raise BadRequest(MISSING_TASK_FIELDS)
        source_revision_id, source_model_id, target_revision_id = (str(v) for v in values)
        try:
            self._admin_model(principal, source_model_id, denied=denied)
        except NotFound:
            raise BadRequest(f"The source model '{source_model_id}' could not be found.") from None
        source_ids = {pair[0].id for pair in self.store.applied_to_model(source_model_id)}
        if source_revision_id not in source_ids:
            raise BadRequest(
                f"The revision '{source_revision_id}' is not a revision of the source model."
            )
        if self.store.revision(target_revision_id) is None:
            raise BadRequest(f"The target revision '{target_revision_id}' could not be found.")
        task = AlmTaskRecord(
            id=_new_id(),
            kind=kind,
            model_id=model_id,
            user_id=principal.user_id,
            created_ms=self._now_ms(),
            state="IN_PROGRESS",
            current_step=RUNNING_STEP,
            polls=0,
            source_model_id=source_model_id,
            source_revision_id=source_revision_id,
            target_revision_id=target_revision_id,
            result=None,
            finished_ms=None,
        )
        self.store.add_task(task)
        if self.polls_to_complete <= 0:
            self._run(task)
        return TaskWithUrl.model_validate(
            {
                "taskId": task.id,
                "taskUrl": f"{base_url}/2/0/models/{model_id}/alm/{kind}/{task.id}",
                "taskState": "IN_PROGRESS",
                "creationTime": task.created_ms,
            }
        )

    def tasks(self, principal: Principal, kind: TaskKind, model_id: str) -> list[TaskSummary]:
        """`GET …/alm/{kind}`: newest first, finished within the last 48 hours."""
        denied: type[EmulatorError] = Forbidden if kind == "syncTasks" else ModelOffline
        self._admin_model(principal, model_id, denied=denied)
        horizon = self._now_ms() - RETENTION_MS
        return [
            TaskSummary.model_validate(
                {"taskId": task.id, "taskState": task.state, "creationTime": task.created_ms}
            )
            for task in self.store.tasks(model_id, kind)
            if task.finished_ms is None or task.finished_ms >= horizon
        ]

    def task(
        self, principal: Principal, kind: TaskKind, model_id: str, task_id: str, *, base_url: str
    ) -> SyncTaskStatus | ReportTaskStatus:
        """`GET …/alm/{kind}/{taskId}`: a task's status (one poll)."""
        denied: type[EmulatorError] = Forbidden if kind == "syncTasks" else ModelOffline
        self._admin_model(principal, model_id, denied=denied)
        task = self.store.task(task_id)
        if task is None or task.model_id != model_id or task.kind != kind:
            raise NotFound("Not Found")
        if task.state != "COMPLETE":
            self.store.count_poll(task.id)
            if task.polls + 1 >= self.polls_to_complete:
                self._run(task)
            task = self.store.task(task_id)
            assert task is not None
        return _task_status(task, base_url)

    def _run(self, task: AlmTaskRecord) -> None:
        with self._lock:
            current = self.store.task(task.id)
            if current is None or current.state == "COMPLETE":
                return
            source = self.store.revision(task.source_revision_id)
            target_revision = self.store.revision(task.target_revision_id)
            assert source is not None
            assert target_revision is not None
            latest = self.store.latest_of(task.model_id)
            failure = incompatibility(
                source_revision_id=source.id,
                source_history=history_of(source.id, self.store.parents()),
                target_revision_id=target_revision.id,
                target_latest_revision_id=latest[0].id if latest is not None else None,
            )
            now = self._now_ms()
            if failure is not None:
                result: dict[str, Any] = {
                    "successful": False,
                    "error": failure.to_error().to_wire(),
                }
                with self.store.transaction() as db:
                    AlmStore.finish_task(
                        db, task.id, current_step=FAILED_STEP, result=result, finished_ms=now
                    )
                return
            result = {
                "successful": True,
                "sourceRevisionId": source.id,
                "targetRevisionId": target_revision.id,
            }
            if task.kind == "syncTasks":
                current_structure = self.host.structure(task.model_id)
                new_structure = source.structure.model_copy(
                    update={"name": current_structure.name, "origin": current_structure.origin}
                )
                self.host.replace_structure(task.model_id, new_structure)
                with self.store.transaction() as db:
                    AlmStore.add_applied(
                        db,
                        AppliedRecord(source.id, task.model_id, now, task.user_id, SYNCHRONIZED),
                    )
                    AlmStore.finish_task(
                        db, task.id, current_step=COMPLETE_STEP, result=result, finished_ms=now
                    )
                return
            content = self._report_content(task, source, target_revision)
            report_kind: ReportKind = (
                "comparison" if task.kind == "comparisonReportTasks" else "summary"
            )
            with self.store.transaction() as db:
                AlmStore.save_report(
                    db, task.model_id, report_kind, target_revision.id, source.id, now, content
                )
                AlmStore.finish_task(
                    db, task.id, current_step=COMPLETE_STEP, result=result, finished_ms=now
                )

    def _report_content(
        self, task: AlmTaskRecord, source: RevisionRecord, target: RevisionRecord
    ) -> bytes:
        diff = diff_structures(target.structure, source.structure)
        if task.kind == "summaryReportTasks":
            summary = summary_report(
                diff, target_revision_id=target.id, source_revision_id=source.id
            )
            return json.dumps(summary.to_wire()).encode("utf-8")
        models = {model.id: model for model in self.host.all_models()}
        report = comparison_report(
            diff,
            source=_side(models.get(task.source_model_id), source),
            target=_side(models.get(task.model_id), target),
        )
        return report.to_bytes()

    # -- reports -----------------------------------------------------------------------------
    def comparison_report(
        self, principal: Principal, model_id: str, target_revision_id: str, source_revision_id: str
    ) -> bytes:
        """`GET …/alm/comparisonReports/{target}/{source}`: the tab-separated report."""
        return self._report(
            principal, model_id, "comparison", target_revision_id, source_revision_id
        )

    def summary_report(
        self, principal: Principal, model_id: str, target_revision_id: str, source_revision_id: str
    ) -> SummaryReport:
        """`GET …/alm/summaryReports/{target}/{source}`: the summary."""
        content = self._report(
            principal, model_id, "summary", target_revision_id, source_revision_id
        )
        return SummaryReport.model_validate_json(content)

    def _report(
        self,
        principal: Principal,
        model_id: str,
        kind: ReportKind,
        target_revision_id: str,
        source_revision_id: str,
    ) -> bytes:
        self._admin_model(principal, model_id, denied=ModelOffline)
        found = self.store.report(model_id, kind, target_revision_id, source_revision_id)
        now = self._now_ms()
        if found is None or found[0] < now - RETENTION_MS:
            raise NotFound("Not Found")
        self.store.touch_report(model_id, kind, target_revision_id, source_revision_id, now)
        return found[1]

    # -- control (the emulator's own endpoints) ----------------------------------------------
    def structure(self, model_id: str) -> ModelDef:
        """A model's current structure (for the control endpoint)."""
        self._start_alm()
        return self.host.structure(model_id)

    def edit_structure(self, model_id: str, data: Any) -> ModelDef:
        """Apply structural edits (see `edits`) to a model; returns its new structure."""
        self._start_alm()
        try:
            edits = parse_edits(data)
        except EditError as error:
            raise BadRequest(str(error)) from None
        with self._lock:
            current = self.host.structure(model_id)
            try:
                new = apply_edits(current, edits)
            except EditError as error:
                raise BadRequest(str(error)) from None
            self.host.replace_structure(model_id, new)
        return new


def _new_id() -> str:
    return uuid.uuid4().hex.upper()


def _date(value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(BAD_DATE) from None


def _day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _day_end_ms(day: date) -> int:
    return _day_start_ms(day) + 24 * 3600 * 1000


def _revision_wire(revision: RevisionRecord, applied: AppliedRecord) -> Revision:
    wire: dict[str, Any] = {"id": revision.id, "name": revision.name}
    if revision.description:
        wire["description"] = revision.description
    wire.update(
        createdOn=iso(revision.created_ms),
        createdBy=revision.created_by,
        creationMethod=revision.creation_method,
        appliedOn=iso(applied.applied_ms),
        appliedBy=applied.applied_by,
    )
    return Revision.model_validate(wire)


def _side(model: ModelInfo | None, revision: RevisionRecord) -> ReportSide:
    return ReportSide(
        workspace_id=model.workspace_id if model else None,
        workspace_name=model.workspace_name if model else None,
        model_name=model.name if model else None,
        revision_name=revision.name,
        revision_description=revision.description,
    )


def _task_status(task: AlmTaskRecord, base_url: str) -> SyncTaskStatus | ReportTaskStatus:
    wire: dict[str, Any] = {"taskId": task.id, "currentStep": task.current_step}
    if task.result is not None:
        result = dict(task.result)
        if result.get("successful") and task.kind != "syncTasks":
            segment = (
                "comparisonReports" if task.kind == "comparisonReportTasks" else "summaryReports"
            )
            result["reportFileUrl"] = (
                f"{base_url}/2/0/models/{task.model_id}/alm/{segment}/"
                f"{task.target_revision_id}/{task.source_revision_id}"
            )
        wire["result"] = result
    wire.update(taskState=task.state, creationTime=task.created_ms)
    if task.kind == "syncTasks":
        return parse_sync_task(wire)
    return parse_report_task(wire)
