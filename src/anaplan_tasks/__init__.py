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
# one submodule) does not pay for pydantic and httpx2 up front. Each name of `__all__` lives in
# the first of these modules that has it (the imports above, for type checkers, say which).
_HOMES = (".errors", ".models", ".client")


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    import importlib

    if name == "errors":
        value: Any = importlib.import_module(".errors", __name__)
    elif name in __all__:
        for home in _HOMES:
            module = importlib.import_module(home, __name__)
            if hasattr(module, name):
                value = getattr(module, name)
                break
        else:  # pragma: no cover - a name in __all__ that no home has
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
