"""The task models of the specification, field for field, and the states Anaplan adds to them.

The twelve seed models (TaskResultDetail … CompletedReportTask) keep every name, type, default and
description of the specification. The classes below them (cancelled tasks, id-less ALM failures,
task summaries in the CANCELLING/CANCELLED states) exist because the real API sends those payloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from ._base import WireModel

TaskState = Literal["NOT_STARTED", "IN_PROGRESS", "COMPLETE", "CANCELLING", "CANCELLED"]
"""Every state a bulk task can report. COMPLETE and CANCELLED are terminal."""

TERMINAL_STATES: frozenset[str] = frozenset({"COMPLETE", "CANCELLED"})
"""The states after which a task never changes again."""

# Keys of a detail's `values` whose values are counts (or sizes) and so decode to integers.
_COUNT_KEY = re.compile(r"(Count|Items|Size|Number|Rows)$|^(rowCount|position)$")
_INTEGER = re.compile(r"-?\d+")

# Result keys kept from the wire but not made fields: the field set stays the specification's.
_RESULT_EXTRA_KEYS: tuple[tuple[str, str], ...] = (
    ("objectId", "object_id"),
    ("objectName", "object_name"),
    ("duration", "duration"),
    ("startTime", "start_time"),
)


FAILURE_CODES: frozenset[str] = frozenset(
    [
        "actionFailed",
        "connectorError",
        "crossCustomerImport",
        "deleteFromSelectionFailed",
        "failedToCreateRevision",
        "failedToLocateEntity",
        "failedToLocateHierarchy",
        "failedToLocateModel",
        "failedToLocateModule",
        "failedToLocateSavedView",
        "hierarchyImportBombed",
        "hierarchyImportDuplicateSourceKey",
        "hierarchyImportDuplicateTargetKey",
        "hierarchyImportFailed",
        "hierarchyImportFailedToUpdateProperties",
        "hierarchyImportInconsistentRenaming",
        "hierarchyImportNameAndCodeUnmapped",
        "hierarchyImportNameOrCodeSameAsParent",
        "hierarchyImportNoSelectiveEditing",
        "hierarchyImportPropertyKeyCalculated",
        "hierarchyImportPropertyKeyInvalidMissing",
        "hierarchyImportPropertyKeyInvalidNoDefintion",
        "hierarchyImportPropertyKeyInvalidSystem",
        "hierarchyImportPropertyKeyUnmapped",
        "hierarchyImportUniqueness",
        "importFailedGeneralError",
        "internalError",
        "missingFields",
        "modelObjectNotLocated",
        "modelObjectNotSupported",
        "moduleImportFailed",
        "moduleImportNoWriteAccess",
        "msgExportCancelled",
        "msgImportCancelled",
        "msgTooManyColumns",
        "msgTooManyRows",
        "noAccessToModule",
        "notAuthorised",
        "sourceModelArchived",
        "sourceWorkspaceNoAccess",
        "sourceWorkspaceNotLocated",
        "taskElementFailed",
        "uploadedFileNoLongerAvailable",
        "usersImportBombed",
        "usersImportFailed",
        "versionImportPropertyChangeFailed",
        "versionsImportBombed",
        "versionsImportFailed",
    ]
)
"""Anaplan's codes for an action that could not complete."""

DATA_ERROR_CODES: frozenset[str] = frozenset(
    [
        "columnSeparatorExpected",
        "unmatchedTextDelimiter",
        "dateFormatInvalid",
        "dateFormatMalformed",
        "periodFormatMalformed",
        "invalidDate",
        "invalidPeriod",
        "expectedCharacter",
        "expectedD",
        "expectedDD",
        "expectedH",
        "expectedM",
        "expectedMM",
        "expectedMMM",
        "expectedMMMM",
        "expectedQ",
        "expectedSeparator",
        "expectedW",
        "expectedWW",
        "expectedY",
        "expectedYY",
        "expectedYYYY",
        "hierarchyImportAccessCantMoveFromParent",
        "hierarchyImportAccessCantMoveToParent",
        "hierarchyImportAccessNoCreateWithoutParent",
        "hierarchyImportAccessNoImplicitAddToTopLevel",
        "hierarchyImportAccessNoImplicitCreate",
        "hierarchyImportAccessNoMoveWithoutParent",
        "hierarchyImportAccessNoMove",
        "hierarchyImportAccessNoRemoveParent",
        "hierarchyImportAccessNoUpdate",
        "hierarchyImportCancelledByUser",
        "hierarchyImportCannotChangeCodeForTopLevel",
        "hierarchyImportDuplicateKeyInSource",
        "hierarchyImportDuplicateKeyInTarget",
        "hierarchyImportEmptyKey",
        "hierarchyImportFailedDependency",
        "hierarchyImportInvalidCode",
        "hierarchyImportInvalidEntityIdInKey",
        "hierarchyImportInvalidName",
        "hierarchyImportInvalidParent",
        "hierarchyImportInvalidStatus",
        "hierarchyImportNameOrCodeExists",
        "hierarchyImportNewEntityNumberedList",
        "hierarchyImportNoNameOrCode",
        "hierarchyImportParentMustBeLeaf",
        "hierarchyImportParseErrorInKey",
        "hierarchyImportPropertyChangeFailed",
        "moduleImportBooleanFormat",
        "moduleImportDateFormat",
        "moduleImportDimensionIdentifiersUnmapped",
        "moduleImportInvalidLineItemIdentifier",
        "moduleImportInvalidListIdentifier",
        "moduleImportInvalidTimeEntityIdentifier",
        "moduleImportInvalidTimescaleIdentifier",
        "moduleImportLineItemIdentifiersUnmapped",
        "moduleImportNumberFormat",
        "moduleImportRepeatedNonNumeric",
        "usersImportConflictingAccessLevel",
        "usersImportConflictingAncestry",
        "usersImportConflictingNames",
        "usersImportConflictingRoles",
        "usersImportCreationFailed",
        "usersImportFirstNameMissing",
        "usersImportInvalidEmail",
        "usersImportInvalidListIdentifier",
        "usersImportInvalidRole",
        "usersImportLastNameMissing",
        "usersImportNoSelectiveAccess",
    ]
)
"""Anaplan's per-row data error codes (entries whose `occurrences` count the rows hit)."""

SUMMARY_WITH_FAILURES_CODES: frozenset[str] = frozenset(
    [
        "hierarchyRowsProcessedWithFailures",
        "hierarchyRowsProcessedWithFailuresFromLineItem",
        "lineItemRowsProcessedWithFailures",
        "lineItemRowsProcessedWithFailuresAndIgnored",
        "usersRowsProcessedWithFailures",
        "usersRowsProcessedWithInvalidNamesAndFailures",
        "versionsRowsProcessedWithFailures",
    ]
)
"""Summary codes that say rows failed (their count, when given, is `failedCount`)."""


class TaskResultDetail(WireModel):
    """One message of a task result: a summary, a failure code or a per-row data error."""

    local_message_text: str | None = Field(default=None, description="Error message text.")
    occurrences: int = Field(default=0, description="The number of occurrences of this error.")
    type: str = Field(description="The type of this error.")
    values: list[str | None] = Field(
        default_factory=list, description="Further error information if available."
    )

    @property
    def value_map(self) -> dict[str, str | int | None]:
        """The flat `[key, value, key, value, …]` list as a mapping.

        Values that are counts or sizes (`successRowCount`, `failedCount`, `fileSize`,
        `affectedItems`, …) are decoded to `int`; everything else stays a string. A trailing key
        without a value maps to None.
        """
        decoded: dict[str, str | int | None] = {}
        for index in range(0, len(self.values), 2):
            key = self.values[index]
            if key is None:
                continue
            value = self.values[index + 1] if index + 1 < len(self.values) else None
            if value is not None and _COUNT_KEY.search(key) and _INTEGER.fullmatch(value):
                decoded[key] = int(value)
            else:
                decoded[key] = value
        return decoded

    @property
    def text(self) -> str:
        """The message as a person would read it: Anaplan's text, or the type and its values."""
        if self.local_message_text:
            return self.local_message_text.strip()
        pairs = ", ".join(f"{key}={value}" for key, value in self.value_map.items())
        return f"{self.type}: {pairs}" if pairs else self.type

    @property
    def failed_count(self) -> int:
        """Rows this detail reports as failed (0 when it reports none)."""
        values = self.value_map
        for key in ("failedCount", "failureCount"):
            count = values.get(key)
            if isinstance(count, int):
                return count
        return 0

    @property
    def is_failure(self) -> bool:
        """True when this detail reports a failure, known from Anaplan's counts and codes.

        Failed rows (`failedCount`/`failureCount` above 0), rows hit by a data error
        (`occurrences` above 0), or a code Anaplan documents as a failure, a per-row data
        error, or a summary with failures (`FAILURE_CODES`, `DATA_ERROR_CODES`,
        `SUMMARY_WITH_FAILURES_CODES`). The wording of a code is never read.
        """
        return (
            self.failed_count > 0
            or self.occurrences > 0
            or self.type in FAILURE_CODES
            or self.type in DATA_ERROR_CODES
            or self.type in SUMMARY_WITH_FAILURES_CODES
        )

    @property
    def is_reason(self) -> bool:
        """True for a failure that says why (a failure or data-error code), not a row summary."""
        return (
            self.type in FAILURE_CODES
            or self.type in DATA_ERROR_CODES
            or (
                self.is_failure
                and self.type not in SUMMARY_WITH_FAILURES_CODES
                and not self.failed_count
            )
        )


class TaskResult(WireModel):
    """The outcome of a finished task, with the nested results of a process.

    Besides the specification's fields, the result keeps Anaplan's `objectId` (the action that
    ran: needed to fetch a process's failure dumps), `objectName`, and the process details
    `duration` and `startTime`: they are read from the wire, written back, and exposed as the
    read-only properties below.
    """

    details: list[TaskResultDetail] = Field(
        default_factory=list, description="The details of this task result if available."
    )
    successful: bool = Field(description="Whether this task completed successfully or not.")
    failure_dump_available: bool = Field(
        description="Whether a failure dump is available for this task."
    )
    nested_results: list[TaskResult] = Field(
        default_factory=list, description="The nested results of this task, if available."
    )

    _wire_extras: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_wire_extras(cls, data: Any, handler: ModelWrapValidatorHandler[TaskResult]) -> Any:
        result = handler(data)
        if isinstance(data, dict):
            for wire_name, python_name in _RESULT_EXTRA_KEYS:
                value = data.get(wire_name, data.get(python_name))
                if value is not None:
                    result._wire_extras[wire_name] = str(value)
        return result

    @model_serializer(mode="wrap")
    def _write_wire_extras(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for wire_name, python_name in _RESULT_EXTRA_KEYS:
            if wire_name in self._wire_extras:
                dumped[wire_name if info.by_alias else python_name] = self._wire_extras[wire_name]
        return dumped

    @classmethod
    def build(
        cls,
        *,
        successful: bool,
        failure_dump_available: bool,
        object_id: str | None = None,
        details: list[TaskResultDetail] | None = None,
        nested_results: list[TaskResult] | None = None,
        object_name: str | None = None,
        duration: str | None = None,
        start_time: str | None = None,
    ) -> TaskResult:
        """Build a result with Anaplan's extra keys; lists left as None stay off the wire."""
        fields: dict[str, Any] = {
            "successful": successful,
            "failure_dump_available": failure_dump_available,
        }
        if details is not None:
            fields["details"] = details
        if nested_results is not None:
            fields["nested_results"] = nested_results
        extras = {
            "objectId": object_id,
            "objectName": object_name,
            "duration": duration,
            "startTime": start_time,
        }
        result = cls(**fields)
        result._wire_extras = {key: value for key, value in extras.items() if value is not None}
        return result

    @property
    def object_id(self) -> str | None:
        """The id of the action this result belongs to (`112…` import, `118…` process, …)."""
        return self._wire_extras.get("objectId")

    @property
    def object_name(self) -> str | None:
        """The action's name, when Anaplan sent it."""
        return self._wire_extras.get("objectName")

    @property
    def duration_ms(self) -> int | None:
        """Run time in milliseconds (processes with `includeProcessDetails=true`)."""
        value = self._wire_extras.get("duration")
        return int(value) if value is not None and _INTEGER.fullmatch(value) else None

    @property
    def start_time_ms(self) -> int | None:
        """Start as epoch milliseconds (processes with `includeProcessDetails=true`)."""
        value = self._wire_extras.get("startTime")
        return int(value) if value is not None and _INTEGER.fullmatch(value) else None

    def walk(self) -> Iterator[TaskResult]:
        """Yield this result, then every nested result, depth first, in execution order."""
        yield self
        for nested in self.nested_results:
            yield from nested.walk()

    def failed_results(self) -> list[TaskResult]:
        """The parts of this result that failed or rejected rows, outermost first.

        A part counts when it is unsuccessful, offers a failure dump, or has a failing detail.
        A process whose only problem lies in its nested results is left out: they explain it.
        """
        parts: list[TaskResult] = []
        for part in self.walk():
            if not part._has_own_problem():
                continue
            explained_by_children = not any(d.is_failure for d in part.details) and any(
                child._has_own_problem() for child in part.walk() if child is not part
            )
            if not explained_by_children:
                parts.append(part)
        return parts

    def _has_own_problem(self) -> bool:
        return (
            not self.successful
            or self.failure_dump_available
            or any(detail.is_failure for detail in self.details)
        )

    def failure_details(self) -> list[TaskResultDetail]:
        """Every failing detail of this result and its nested results."""
        return [detail for part in self.walk() for detail in part.details if detail.is_failure]

    @property
    def failed_row_count(self) -> int:
        """Source rows rejected, over this result and its nested results.

        A module import reports its failures once per line item (`failureCount` on each
        `lineItemRowsProcessedWithFailures` detail, all for the same rows), so within one result
        the largest count is taken, not the sum; the results of different actions add up.
        """
        return sum(
            max((detail.failed_count for detail in part.details), default=0) for part in self.walk()
        )


class TaskSummary(WireModel):
    """A task as listed: its id, state and creation time."""

    id: str = Field(alias="taskId", description="The unique identifier of this task.")
    task_state: Literal["NOT_STARTED", "IN_PROGRESS", "COMPLETE"] = Field(
        description="The state of this task."
    )
    creation_time: int = Field(description="Unix timestamp of when this task was created.")

    @property
    def is_terminal(self) -> bool:
        """True once the task can no longer change (COMPLETE or CANCELLED)."""
        return self.task_state in TERMINAL_STATES


class Task(TaskSummary):
    """A bulk task that has not finished: queued or running."""

    task_state: Literal["NOT_STARTED", "IN_PROGRESS"] = Field(description="The state of this task.")
    progress: float = Field(description="The progress of this task as a float between 0 and 1.")
    current_step: str | None = Field(default=None, description="The current step of this task.")

    def describe(self) -> str:
        """One line for a person: id, state, progress and step."""
        step = f", {self.current_step}" if self.current_step else ""
        return f"task {self.id}: {self.task_state} {self.progress:.0%}{step}"


class CompletedTask(Task):
    """A bulk task that finished, successfully or not: read `result.successful`."""

    task_state: Literal["COMPLETE"] = Field(  # type: ignore[assignment]
        description="The state of this task."
    )
    result: TaskResult

    def describe(self) -> str:
        """One line for a person: outcome, rows failed and the first reason.

        The first reason is the first failure or data-error message (`Duplicate code in
        source`), not the summary line that counts the rows; without one, the first failure.

        A task that could not run (`currentStep` "Failed.") may explain itself with a detail
        whose code names no failure (`uploadedFileNoLongerAvailable`): its first message is
        shown then.
        """
        failures = self.result.failure_details()
        if self.result.successful and not failures:
            return f"task {self.id}: COMPLETE, successful"
        outcome = "successful with problems" if self.result.successful else "failed"
        failed_rows = self.result.failed_row_count
        rows = f", {failed_rows} rows failed" if failed_rows else ""
        if not failures and not self.result.successful:
            failures = [detail for part in self.result.walk() for detail in part.details]
        reasons = [detail for detail in failures if detail.is_reason]
        first = next(iter(reasons or failures), None)
        detail = f": {first.text}" if first else ""
        return f"task {self.id}: COMPLETE, {outcome}{rows}{detail}"


class CancelledTask(Task):
    """A bulk task being cancelled or cancelled (its changes rolled back).

    Not in the specification: Anaplan documents these states, and such a task keeps its
    progress and step, may say who cancelled it and may carry the result of what already ran.
    """

    task_state: Literal["CANCELLING", "CANCELLED"] = Field(  # type: ignore[assignment]
        description="The state of this task."
    )
    progress: float = Field(
        default=0.0, description="The progress of this task as a float between 0 and 1."
    )
    cancelled_by: str | None = Field(default=None, description="Who cancelled the task.")
    result: TaskResult | None = Field(
        default=None, description="What had run before the cancel, when Anaplan reports it."
    )

    def describe(self) -> str:
        """One line for a person: state, who cancelled and how far it got."""
        who = f" by {self.cancelled_by}" if self.cancelled_by else ""
        return f"task {self.id}: {self.task_state}{who} at {self.progress:.0%}"


class CancelledTaskSummary(TaskSummary):
    """A listed task in the CANCELLING or CANCELLED state (not in the specification)."""

    task_state: Literal["CANCELLING", "CANCELLED"] = Field(  # type: ignore[assignment]
        description="The state of this task."
    )


class SyncTaskResult(WireModel):
    """The outcome of an ALM sync task."""

    source_revision_id: str = Field(description="The ID of the source revision.")
    target_revision_id: str = Field(description="The ID of the target revision.")
    successful: bool = Field(description="Whether the sync task was successful or not.")


class PendingTask(TaskSummary):
    """An ALM task (sync, comparison or summary report) that has not finished."""

    task_state: Literal["NOT_STARTED", "IN_PROGRESS"] = Field(description="The state of this task.")
    current_step: str = Field(description="The current step of the sync task.")

    def describe(self) -> str:
        """One line for a person: id, state and step."""
        return f"task {self.id}: {self.task_state}, {self.current_step}"


class CompletedSyncTask(PendingTask):
    """An ALM sync task that finished."""

    task_state: Literal["COMPLETE"] = Field(  # type: ignore[assignment]
        description="The state of this task."
    )
    result: SyncTaskResult

    def describe(self) -> str:
        """One line for a person: the outcome and, on failure, Anaplan's error."""
        if self.result.successful:
            return (
                f"task {self.id}: COMPLETE, revision {self.result.source_revision_id} "
                f"synced over {self.result.target_revision_id}"
            )
        error = getattr(self.result, "error", None)
        reason = f": {error.title}: {error.message}" if error is not None else ""
        return f"task {self.id}: COMPLETE, failed{reason}"


class ReportTaskResult(SyncTaskResult):
    """The outcome of a successful comparison or summary report task."""

    successful: Literal[True] = Field(description="Whether the sync task was successful or not.")
    report_file_url: str = Field(
        description="The URL of the report file generated by the sync task."
    )


class ReportTaskError(WireModel):
    """Why an ALM task failed."""

    title: str = Field(description="The title of the error.")
    message: str = Field(alias="messageText", description="The message of the error.")


class ReportTaskFailureResult(SyncTaskResult):
    """The outcome of a failed comparison or summary report task."""

    successful: Literal[False] = Field(description="Whether the sync task was successful or not.")
    error: ReportTaskError = Field(description="The error that occurred during the sync task.")


class CompletedReportTask(CompletedSyncTask):
    """A comparison or summary report task that finished."""

    result: ReportTaskResult | ReportTaskFailureResult = Field(discriminator="successful")

    def describe(self) -> str:
        """One line for a person: where the report is, or why it failed."""
        if isinstance(self.result, ReportTaskResult):
            return f"task {self.id}: COMPLETE, report at {self.result.report_file_url}"
        return f"task {self.id}: COMPLETE, failed: {self.result.error.title}"


class AlmTaskError(ReportTaskError):
    """Why an ALM task failed, with the optional subtitle that sync failures carry."""

    subtitle: str | None = Field(default=None, description="More about the error, if given.")


class AlmFailureResult(ReportTaskFailureResult):
    """A failed ALM task result as Anaplan really sends it: the revision ids may be absent."""

    source_revision_id: str | None = Field(  # type: ignore[assignment]
        default=None, description="The ID of the source revision."
    )
    target_revision_id: str | None = Field(  # type: ignore[assignment]
        default=None, description="The ID of the target revision."
    )
    error: AlmTaskError = Field(description="The error that occurred during the sync task.")


class AlmSuccessResult(SyncTaskResult):
    """A successful ALM sync result as Anaplan documents it: the revision ids may be absent."""

    source_revision_id: str | None = Field(  # type: ignore[assignment]
        default=None, description="The ID of the source revision."
    )
    target_revision_id: str | None = Field(  # type: ignore[assignment]
        default=None, description="The ID of the target revision."
    )
    successful: Literal[True] = Field(description="Whether the sync task was successful or not.")


class SyncTaskWithoutRevisions(CompletedSyncTask):
    """A finished ALM sync task that succeeded without naming its revisions.

    Anaplan's documented success answer carries only `successful: true`; live answers name the
    revisions and parse to `CompletedSyncTask`.
    """

    result: AlmSuccessResult

    def describe(self) -> str:
        """One line for a person: the sync succeeded."""
        return f"task {self.id}: COMPLETE, synced"


class FailedSyncTask(CompletedSyncTask):
    """A finished ALM sync task that failed; `result.error` says why."""

    result: AlmFailureResult


class FailedReportTask(CompletedReportTask):
    """A finished report task that failed without naming its revisions."""

    result: AlmFailureResult


class TaskWithUrl(WireModel):
    """What starting an ALM task answers: the new task's id, URL and first state."""

    id: str = Field(alias="taskId", description="The unique identifier of this task.")
    task_url: str | None = Field(default=None, description="The URL to poll for this task.")
    task_state: TaskState = Field(description="The state of this task.")
    creation_time: int = Field(description="Unix timestamp of when this task was created.")
