"""anaplan-tasks: run and understand Anaplan's asynchronous tasks.

`Client` and `AsyncClient` (in [`anaplan_tasks.client`][anaplan_tasks.client]) run tasks; the
task models live in [`anaplan_tasks.models`][anaplan_tasks.models] and are re-exported here.
"""

from . import errors
from .client import AsyncClient, Client
from .errors import (
    AlmTaskFailedError,
    AmbiguousStartError,
    AnaplanError,
    AuthenticationError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
)
from .models import (
    CancelledTask,
    CompletedReportTask,
    CompletedSyncTask,
    CompletedTask,
    PendingTask,
    ReportTaskError,
    ReportTaskFailureResult,
    ReportTaskResult,
    SyncTaskResult,
    Task,
    TaskResult,
    TaskResultDetail,
    TaskSummary,
    parse_report_task,
    parse_sync_task,
    parse_task,
    parse_task_list,
)

__version__ = "0.1.0"

__all__ = [
    "AlmTaskFailedError",
    "AmbiguousStartError",
    "AnaplanError",
    "AsyncClient",
    "AuthenticationError",
    "CancelledTask",
    "Client",
    "CompletedReportTask",
    "CompletedSyncTask",
    "CompletedTask",
    "PendingTask",
    "ReportTaskError",
    "ReportTaskFailureResult",
    "ReportTaskResult",
    "SyncTaskResult",
    "Task",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskResult",
    "TaskResultDetail",
    "TaskSummary",
    "TaskTimeoutError",
    "__version__",
    "errors",
    "parse_report_task",
    "parse_sync_task",
    "parse_task",
    "parse_task_list",
]
