"""Sync and async Anaplan clients, built on one no-I/O core (`anaplan_tasks._core`).

`Client` and `AsyncClient` have the same surface: `workspaces`, `models`, `files`, `imports`,
`exports`, `actions`, `processes`, `tasks`, `alm`, the model data ones and `cloudworks`;
`with_model()` / `with_options()` copies; context managers that sign out on close.

How it is built (`docs/client-internals.md`): every namespace is written once, as async code, in
`client/_async/`, over the core's flows; the sync client in `client/_sync/` is generated from it
by `scripts/unasync.py`, and CI fails when the generated files are stale.
"""

from .._core.alm import AlmTaskRef
from .._core.cloudworks import RunProgress, RunRef
from .._core.dumps import DumpRef
from .._core.oauth import OAuthCredentials
from .._core.polling import PollPolicy
from .._core.retry import RetryBudget, RetryPolicy
from .._core.types import DumpRow, ProgressUpdate, TaskRef
from ._async.alm import AsyncAlm
from ._async.client import AsyncClient
from ._async.cloudworks import AsyncCloudWorks, AsyncRunDumps
from ._async.login import browser_login as async_browser_login
from ._async.login import device_login as async_device_login
from ._async.tasks import AsyncFailureDumps
from ._sync.alm import Alm
from ._sync.client import Client
from ._sync.cloudworks import CloudWorks, RunDumps
from ._sync.login import browser_login, device_login
from ._sync.tasks import FailureDumps
from .alm import ComparisonReportResult, SummaryReportResult
from .config import ClientConfig
from .token_store import FileTokenStore, KeyringTokenStore, TokenStore, default_token_store

__all__ = [
    "Alm",
    "AlmTaskRef",
    "AsyncAlm",
    "AsyncClient",
    "AsyncCloudWorks",
    "AsyncFailureDumps",
    "AsyncRunDumps",
    "Client",
    "ClientConfig",
    "CloudWorks",
    "ComparisonReportResult",
    "DumpRef",
    "DumpRow",
    "FailureDumps",
    "FileTokenStore",
    "KeyringTokenStore",
    "OAuthCredentials",
    "PollPolicy",
    "ProgressUpdate",
    "RetryBudget",
    "RetryPolicy",
    "RunDumps",
    "RunProgress",
    "RunRef",
    "SummaryReportResult",
    "TaskRef",
    "TokenStore",
    "async_browser_login",
    "async_device_login",
    "browser_login",
    "default_token_store",
    "device_login",
]
