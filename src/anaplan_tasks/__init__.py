"""anaplan-tasks: run and understand Anaplan's asynchronous tasks.

`Client` and `AsyncClient` (in [`anaplan_tasks.client`][anaplan_tasks.client]) run tasks; the
task models live in [`anaplan_tasks.models`][anaplan_tasks.models] and are re-exported here.
"""

from . import errors
from .client import AsyncClient, Client
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
    "AsyncClient",
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
    "TaskResult",
    "TaskResultDetail",
    "TaskSummary",
    "__version__",
    "errors",
    "parse_report_task",
    "parse_sync_task",
    "parse_task",
    "parse_task_list",
]
