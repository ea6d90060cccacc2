"""Wire models of Anaplan's CloudWorks API v2 (`https://api.cloudworks.anaplan.com/2/0`).

CloudWorks runs a model's import, export or process against cloud storage (Amazon S3, Azure
Blob, Google BigQuery), on demand or on a schedule. Its JSON is camelCase like the Integration
API's, with a few exceptions the envelopes carry (`history_of_runs`), which the client reads.

Lenient on input like every wire model: unknown fields are ignored, and the fields CloudWorks
leaves out before a first run (`latestRun`, `schedule`) are optional. Where the live service
and its documentation disagree, the live-probed shape is the one required and the documented
one is accepted too: run-history `lastRun` arrives as epoch seconds live (an ISO string in the
docs), a clean run's errors are `{}`, a flow's id is `id` in lists (`integrationFlowId` in a
create answer).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field

from ._base import WireModel

IntegrationType = Literal["Import", "Export", "Process"]
"""What an integration runs: one import, one export, or a process."""

ConnectionType = Literal["AmazonS3", "AzureBlob", "GoogleBigQuery"]
"""The cloud storage a connection reaches."""

NotificationType = Literal["success", "partial_failure", "full_failure"]
"""When a notification is sent."""


PARTIAL_SUCCESS_CODE = 38
"""`executionErrorCode` of a run that loaded some rows and rejected others."""


def outcome_of(
    end_date: str | None, success: bool | None, message: str | None, code: int | None
) -> str:
    """One word for a run: `running`, `ok`, `partial`, `cancelled` or `failed`."""
    if end_date is None:
        return "running"
    if success:
        return "ok"
    if code == PARTIAL_SUCCESS_CODE:
        return "partial"
    return "cancelled" if message == "Cancelled" else "failed"


class LatestRun(WireModel):
    """The latest run of an integration or flow, as its summary shows it.

    `endDate` is null and `message` is `Running` while the run is in flight.
    """

    triggered_by: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    success: bool | None = None
    message: str | None = None
    execution_error_code: int | None = None
    trigger_source: str | None = Field(
        default=None,
        description="`manual`, `scheduled`, `manual_inf`, `scheduled_inf`, `nux_dashboard`, …",
    )

    @property
    def outcome(self) -> str:
        """`running`, `ok`, `partial`, `cancelled` or `failed`."""
        return outcome_of(self.end_date, self.success, self.message, self.execution_error_code)


class Schedule(WireModel):
    """An integration's schedule (one per integration).

    `type` decides which other fields apply: `daily` (`time`), `weekly` (`time`,
    `daysOfWeek`, 0 = Sunday), `hourly` (`fromTime`, `toTime`, `repeatEvery` hours,
    `daysOfWeek`), `monthly_specific_day` (`time`, `dayOfMonth`) and
    `monthly_relative_weekday` (`time`, `dayOfWeek`, `repeatEvery`). Dates are `YYYY-MM-DD`,
    times `HH:mm`; `timezone` is an IANA name. `status` (`Active`/`Inactive`) comes back on
    reads only.
    """

    name: str | None = None
    type: str
    timezone: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    time: str | None = None
    days_of_week: list[int] | None = None
    from_time: str | None = None
    to_time: str | None = None
    repeat_every: int | None = None
    day_of_month: int | None = None
    day_of_week: int | None = None
    status: str | None = None


class Connection(WireModel):
    """A connection to cloud storage (`GET /integrations/connections`).

    `body` echoes only what is not secret (the name, bucket, storage account, container,
    dataset): CloudWorks never returns credentials.
    """

    connection_id: str
    connection_type: str = Field(description="`AmazonS3`, `AzureBlob` or `GoogleBigQuery`.")
    body: dict[str, Any] = Field(default_factory=dict)
    creation_date: str | None = None
    modification_date: str | None = None
    created_by: str | None = None
    modified_by: str | None = None
    status: int | None = Field(default=None, description="1 valid, 0 invalid.")
    integration_error_code: int | None = None
    workspace_id: str | None = None
    auth_method: str | None = None

    @property
    def name(self) -> str:
        """The connection's name (from its body)."""
        return str(self.body.get("name", ""))


class JobEndpoint(WireModel):
    """One source or target of an integration's job.

    Anaplan ends carry `actionId` (and an import's `fileId`); S3 and Azure ends a
    `connectionId` and a `file` (a folder for an export's target); BigQuery ends a `table`.
    Reads add `connectionName`, `isConnectionDeleted` and `bucketName`.
    """

    type: str
    connection_id: str | None = None
    file: str | None = None
    table: str | None = None
    overwrite: bool | None = None
    action_id: str | None = None
    file_id: str | None = None
    connection_name: str | None = None
    is_connection_deleted: bool | None = None
    bucket_name: str | None = None


class ColumnMapping(WireModel):
    """A BigQuery column mapping of an export job."""

    source_name: str
    target_name: str


class Job(WireModel):
    """What an import or export integration moves: one source into one target.

    `type` is e.g. `AmazonS3ToAnaplan` or `AnaplanToAzureBlob`. A process integration has one
    job per cloud-connected import or export of the process.
    """

    type: str
    sources: list[JobEndpoint] = Field(default_factory=list)
    targets: list[JobEndpoint] = Field(default_factory=list)
    mapping: list[ColumnMapping] | None = None


class Integration(WireModel):
    """An integration: its summary (`GET /integrations`) or its whole record (`GET …/{id}`).

    `integrationType` comes in the list only; `version` and `jobs` in the single read only.
    """

    integration_id: str
    name: str
    integration_type: str | None = Field(default=None, description="Import, Export or Process.")
    process_id: str | None = None
    workspace_id: str | None = None
    model_id: str | None = None
    nux_visible: bool | None = None
    notification_id: str | None = None
    created_by: str | None = None
    creation_date: str | None = None
    modification_date: str | None = None
    modified_by: str | None = None
    latest_run: LatestRun | None = None
    schedule: Schedule | None = None
    version: str | None = None
    jobs: list[Job] | None = None

    @property
    def kind(self) -> str:
        """`Import`, `Export` or `Process`: the listed type, else told from the record."""
        if self.integration_type:
            return self.integration_type
        if self.process_id:
            return "Process"
        jobs = self.jobs or []
        if jobs and jobs[0].type.startswith("Anaplan"):
            return "Export"
        return "Import"


class RunRecord(WireModel):
    """One run in an integration's history (`GET /integrations/runs/{integrationId}`)."""

    id: str
    triggered_by: str | None = None
    last_run: int | str | None = Field(
        default=None, description="Epoch seconds live; an ISO string in the docs."
    )
    start_date: str | None = None
    end_date: str | None = None
    success: bool | None = None
    message: str | None = None
    execution_error_code: int | None = None
    trace_id: str | None = None
    trigger_source: str | None = None

    @property
    def finished(self) -> bool:
        """True once the run has ended (its `endDate` is set)."""
        return self.end_date is not None

    @property
    def outcome(self) -> str:
        """`running`, `ok`, `partial`, `cancelled` or `failed`."""
        return outcome_of(self.end_date, self.success, self.message, self.execution_error_code)


class RunHistory(WireModel):
    """An integration's run history: the integration's summary and its runs."""

    integration_id: str
    name: str | None = None
    integration_type: str | None = None
    schedule: Schedule | None = None
    workspace_id: str | None = None
    model_id: str | None = None
    creation_date: str | None = None
    modification_date: str | None = None
    created_by: str | None = None
    modified_by: str | None = None
    status: int | None = None
    notification_id: str | None = None
    runs: list[RunRecord] = Field(default_factory=list)
    total_runs: int | None = None


class RunStatus(WireModel):
    """One run's status (`GET /integrations/run/{runId}`): the only read keyed by a run id.

    In flight, `endDate` is null (and `message` reads `Running`); at the end `success` and
    `message` tell the outcome: `Success`, `Cancelled`, `Process failed`, or a partial-success
    text with row counts (`executionErrorCode` 38).
    """

    id: str
    integration_id: str | None = None
    trace_id: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    success: bool | None = None
    message: str | None = None
    creation_date: str | None = None
    modification_date: str | None = None
    created_by: str | None = None
    modified_by: str | None = None
    execution_error_code: int | None = None
    flow_group_id: str | None = None
    trigger_source: str | None = None

    @property
    def finished(self) -> bool:
        """True once the run has ended (its `endDate` is set)."""
        return self.end_date is not None

    @property
    def cancelled(self) -> bool:
        """True when the run ended because it was cancelled."""
        return self.outcome == "cancelled"

    @property
    def outcome(self) -> str:
        """`running`, `ok`, `partial` (rows rejected), `cancelled` or `failed`."""
        return outcome_of(self.end_date, self.success, self.message, self.execution_error_code)

    def describe(self) -> str:
        """One line for a person: the run, its state and message."""
        state = {
            "running": "running",
            "ok": "succeeded",
            "partial": "succeeded in part",
            "cancelled": "cancelled",
        }.get(self.outcome, "failed")
        message = f": {self.message}" if self.message and self.message != "Running" else ""
        code = (
            f" (error code {self.execution_error_code})"
            if self.execution_error_code is not None
            else ""
        )
        return f"run {self.id} {state}{message}{code}"


class RunErrorMessage(WireModel):
    """One message of a failed action, like a bulk task's result detail."""

    local_message_text: str | None = None
    occurrences: int | None = None
    type: str | None = None
    values: list[Any] = Field(default_factory=list)


class RunActionErrors(WireModel):
    """The errors one action (an import or export of the integration) reported in a run."""

    error_message: list[RunErrorMessage] = Field(default_factory=list)
    action_id: str | None = None
    action_name: str | None = None
    failure_dump_generated: bool | None = None


class RunErrors(WireModel):
    """A run's errors (`GET /integrations/runerror/{runId}`), per action.

    `taskId` is the Anaplan task that ran the action. A clean run has none (CloudWorks
    answers `{}`, which the client reads as None).
    """

    id: str | None = None
    task_id: str | None = None
    error_messages: list[RunActionErrors] = Field(default_factory=list)
    creation_date: str | None = None
    modification_date: str | None = None
    created_by: str | None = None
    modified_by: str | None = None

    def texts(self) -> list[str]:
        """Every message text, `action: text` when the action is named."""
        lines: list[str] = []
        for action in self.error_messages:
            for message in action.error_message:
                text = message.local_message_text or message.type or ""
                name = action.action_name or action.action_id
                lines.append(f"{name}: {text}" if name else text)
        return lines

    def dump_actions(self) -> list[str]:
        """The action ids whose failures left a dump."""
        return [
            action.action_id
            for action in self.error_messages
            if action.failure_dump_generated and action.action_id
        ]


class NotificationUser(WireModel):
    """A recipient as a notification read expands it."""

    user_guid: str
    first_name: str | None = None
    last_name: str | None = None


class NotificationConfig(WireModel):
    """Who is told of one kind of outcome (at most 5 users per type)."""

    type: str = Field(description="`success`, `partial_failure` or `full_failure`.")
    users: list[NotificationUser | str] = Field(default_factory=list)


class NotificationConfigs(WireModel):
    """The `notifications` object of a notification: its list of configurations."""

    config: list[NotificationConfig] = Field(default_factory=list)


class Notification(WireModel):
    """A notification configuration (`GET /integrations/notification/{notificationId}`)."""

    notification_id: str
    integration_ids: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list, description="`email`, `in_app`.")
    notifications: NotificationConfigs = Field(default_factory=NotificationConfigs)


class ExceptionBehavior(WireModel):
    """What a flow does when a step ends in `type`: `stop` or `continue`."""

    type: str = Field(description="`failure` or `partial_success`.")
    strategy: str = Field(description="`stop` or `continue`.")


class FlowStep(WireModel):
    """A step of an integration flow: an integration (`referrer`) and what it waits for."""

    type: str | None = Field(
        default=None, description="`Integration` when written; the integration's type on reads."
    )
    referrer: str
    name: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    is_skipped: bool = False
    exception_behavior: list[ExceptionBehavior] = Field(default_factory=list)
    created_by: str | None = None
    created_date: str | None = None
    modified_date: str | None = None
    modified_by: str | None = None
    workspace_id: str | None = None
    model_id: str | None = None
    accessible: bool | None = None
    latest_run: LatestRun | None = None


class IntegrationFlow(WireModel):
    """An integration flow: its summary (`GET /integrationflows`) or whole record (`…/{id}`)."""

    id: str = Field(validation_alias=AliasChoices("id", "integrationFlowId"))
    name: str
    type: str | None = None
    version: str | None = None
    created_by: str | None = None
    creation_date: str | None = None
    modification_date: str | None = None
    modified_by: str | None = None
    notification_id: str | None = None
    nux_visible: bool | None = None
    steps_count: int | None = None
    latest_run: LatestRun | None = None
    schedule: Schedule | None = None
    steps: list[FlowStep] | None = None
