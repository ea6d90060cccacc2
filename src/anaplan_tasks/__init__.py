"""anaplan-tasks: run and understand Anaplan's asynchronous tasks.

`Client` and `AsyncClient` (in [`anaplan_tasks.client`][anaplan_tasks.client]) run tasks; the
task models live in [`anaplan_tasks.models`][anaplan_tasks.models] and are re-exported here.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import errors
    from .client import AsyncClient, Client
    from .errors import (
        AlmTaskFailedError,
        AmbiguousStartError,
        AnaplanError,
        AuthenticationError,
        IntegrationRunFailedError,
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
    "IntegrationRunFailedError",
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

# Imported on first use (PEP 562): `import anaplan_tasks` alone (the pytest plugin, the CLI)
# does not build the client and the task models. Names not listed here come from `.models`.
_SOURCES = {
    "AsyncClient": ".client",
    "Client": ".client",
    "AlmTaskFailedError": ".errors",
    "AmbiguousStartError": ".errors",
    "AnaplanError": ".errors",
    "AuthenticationError": ".errors",
    "IntegrationRunFailedError": ".errors",
    "TaskCancelledError": ".errors",
    "TaskFailedError": ".errors",
    "TaskTimeoutError": ".errors",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "errors":
        return importlib.import_module(".errors", __name__)
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES.get(name, ".models"), __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
