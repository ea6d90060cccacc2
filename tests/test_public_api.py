"""The public surface is exactly what we mean to export."""

import anaplan_tasks
import anaplan_tasks.models

SEED_MODELS = {
    "TaskResultDetail",
    "TaskResult",
    "TaskSummary",
    "Task",
    "CompletedTask",
    "SyncTaskResult",
    "PendingTask",
    "CompletedSyncTask",
    "ReportTaskResult",
    "ReportTaskError",
    "ReportTaskFailureResult",
    "CompletedReportTask",
}


def test_seed_models_are_exported_from_both_packages() -> None:
    assert SEED_MODELS <= set(anaplan_tasks.__all__)
    assert SEED_MODELS <= set(anaplan_tasks.models.__all__)
    for name in SEED_MODELS:
        assert getattr(anaplan_tasks, name) is getattr(anaplan_tasks.models, name)


def test_all_names_resolve() -> None:
    for module in (anaplan_tasks, anaplan_tasks.models):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name} is in __all__ but missing"


def test_clients_are_exported_at_the_top() -> None:
    import anaplan_tasks.client

    assert anaplan_tasks.Client is anaplan_tasks.client.Client
    assert anaplan_tasks.AsyncClient is anaplan_tasks.client.AsyncClient
    for module in (anaplan_tasks, anaplan_tasks.client):
        assert list(module.__all__) == sorted(module.__all__, key=_order)


def _order(name: str) -> tuple[int, str]:
    # ruff's order: constants, classes, then functions and modules
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def test_the_errors_a_caller_catches_are_exported_at_the_top() -> None:
    import anaplan_tasks.errors

    for name in (
        "AnaplanError",
        "AmbiguousStartError",
        "TaskFailedError",
        "TaskCancelledError",
        "TaskTimeoutError",
    ):
        assert getattr(anaplan_tasks, name) is getattr(anaplan_tasks.errors, name)
