"""Sync and async Anaplan clients, built on one no-I/O core (`anaplan_tasks._core`).

`Client` and `AsyncClient` have the same surface: `workspaces`, `models`, `files`, `imports`,
`exports`, `actions`, `processes`, `tasks` and `alm` namespaces; `with_model()` / `with_options()`
copies; context managers that sign out on close.

More namespaces (ALM's `client.alm`) plug in with `register_namespace(name, factory)` /
`register_async_namespace(name, factory)`: the factory gets the client and builds its flows on
`anaplan_tasks._core` (`calls.call`, `calls.get_json`, `polling.PollSchedule`, …), run with
the client's driver (`client._run(flow)`).
"""

from .._core.alm import AlmTaskRef
from .._core.dumps import DumpRef
from .._core.polling import PollPolicy
from .._core.retry import RetryBudget, RetryPolicy
from .._core.types import DumpRow, ProgressUpdate, TaskRef
from ._async import AsyncClient, register_async_namespace
from ._async_resources import AsyncFailureDumps
from ._sync import Client, register_namespace
from ._sync_resources import FailureDumps
from .alm import Alm, AsyncAlm, ComparisonReportResult, SummaryReportResult
from .config import ClientConfig

__all__ = [
    "Alm",
    "AlmTaskRef",
    "AsyncAlm",
    "AsyncClient",
    "AsyncFailureDumps",
    "Client",
    "ClientConfig",
    "ComparisonReportResult",
    "DumpRef",
    "DumpRow",
    "FailureDumps",
    "PollPolicy",
    "ProgressUpdate",
    "RetryBudget",
    "RetryPolicy",
    "SummaryReportResult",
    "TaskRef",
    "register_async_namespace",
    "register_namespace",
]
