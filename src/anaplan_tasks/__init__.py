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

# Names are imported when first used, so `anaplan-tasks --help` (and any program that needs
# one submodule) does not pay for pydantic and httpx2 up front.
_LAZY: dict[str, str] = {
    "errors": "",
    "AsyncClient": ".client",
    "Client": ".client",
    **dict.fromkeys(
        (
            "AlmTaskFailedError",
            "AnaplanError",
            "AuthenticationError",
            "TaskCancelledError",
            "TaskFailedError",
            "TaskTimeoutError",
        ),
        ".errors",
    ),
    **dict.fromkeys(
        (
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
            "parse_report_task",
            "parse_sync_task",
            "parse_task",
            "parse_task_list",
        ),
        ".models",
    ),
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name] or f".{name}", __name__)
    value = module if not _LAZY[name] else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
