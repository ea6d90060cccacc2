"""anaplan-tasks: run and understand Anaplan's asynchronous tasks.

The task models live in [`anaplan_tasks.models`][anaplan_tasks.models] and are re-exported here.
"""

from . import errors
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
    "CancelledTask",
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
