# Generated from src/anaplan_tasks/client/_async/client.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`Client`: settings, a session, and one attribute per namespace."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ..._transport import HttpClient, HttpTransport, SyncTransport
from .._backends import SleepFunction, SyncBackend
from .._shared import Hooks, new_session
from ..config import ClientConfig
from .actions import Actions, Exports, Imports, Processes
from .alm import Alm
from .cloudworks import CloudWorks
from .driver import Driver, Session
from .files import Files
from .lists import Lists
from .modules import Cells, Modules, Views
from .tasks import Tasks
from .timesettings import Calendar, Users, Versions
from .workspaces import Models, Workspaces


class Client:
    """The synchronous Anaplan client: bulk tasks, files, failure dumps and ALM.

    Settings are keyword arguments with an `ANAPLAN_*` environment fallback (see
    `anaplan_tasks.client.config`). Point at the emulator with `base_url="http://127.0.0.1:8080"`.

    Example:
        ```python
        with Client(workspace_id=ws, model_id=m, email=e, password=p) as client:
            task = client.imports.run("Accounts from accounts.csv", source="accounts.csv")
        ```

    Args:
        config: Settings already resolved (otherwise built from the keyword arguments).
        http_client: Your own `httpx2.Client` (you close it).
        transport: Your own `httpx2` transport for our client (e.g. `MockTransport`).
        clock: Monotonic seconds (tests inject a fake).
        wall_clock: Epoch seconds.
        sleep: How to wait (tests inject a fake).
        rng: Source of jitter.
        **settings: Passed to `ClientConfig.resolve` (workspace_id, model_id, email, password,
            certificate, private_key, token, base_url, api_base_url, auth_base_url,
            cloudworks_base_url, timeout,
            retry, poll, chunk_size, upload_workers, locale, env).
    """

    workspaces: Workspaces
    """The workspaces you can see."""
    models: Models
    """The models you can see."""
    files: Files
    """The model's files: list, upload, download, delete."""
    imports: Imports
    """Import definitions and their tasks."""
    exports: Exports
    """Export definitions and their tasks."""
    actions: Actions
    """Model actions (delete-by-selection, …) and their tasks."""
    processes: Processes
    """Processes and their tasks."""
    tasks: Tasks
    """Any task given its `TaskRef`: status, list, cancel, wait, failure dumps."""
    alm: Alm
    """ALM: revisions, syncs, comparison and summary reports."""
    lists: Lists
    """The model's lists and their items (transactional API)."""
    modules: Modules
    """The model's modules, line items and dimension items."""
    views: Views
    """The model's views and their data."""
    cells: Cells
    """Write a module's cells."""
    calendar: Calendar
    """The model calendar and current period."""
    versions: Versions
    """The model's versions and switchover."""
    users: Users
    """The signed-in user and the tenant's users."""
    cloudworks: CloudWorks
    """CloudWorks: connections, integrations and their runs, schedules, notifications, flows."""

    def __init__(
        self,
        *,
        config: ClientConfig | None = None,
        http_client: HttpClient | None = None,
        transport: HttpTransport | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        sleep: SleepFunction | None = None,
        rng: random.Random | None = None,
        **settings: Any,
    ):
        self._config = config or ClientConfig.resolve(**settings)
        hooks = Hooks()
        if clock is not None:
            hooks.clock = clock
        if wall_clock is not None:
            hooks.wall_clock = wall_clock
        if rng is not None:
            hooks.rng = rng
        self._hooks = hooks
        self._sleep = sleep or SyncBackend.sleep
        self._session = Session(
            new_session(self._config),
            SyncTransport(
                timeout=self._config.timeout,
                connect_timeout=self._config.connect_timeout,
                http_client=http_client,
                transport=transport,
            ),
        )
        self._closed = False
        self._setup()

    def _setup(self) -> None:
        driver = Driver(self._session, self._config, self._hooks, self._sleep)
        self._driver = driver
        self.workspaces = Workspaces(driver)
        self.models = Models(driver)
        self.files = Files(driver)
        self.imports = Imports(driver, "imports")
        self.exports = Exports(driver, "exports")
        self.actions = Actions(driver, "actions")
        self.processes = Processes(driver, "processes")
        self.tasks = Tasks(driver)
        self.alm = Alm(driver)
        self.lists = Lists(driver)
        self.modules = Modules(driver)
        self.views = Views(driver)
        self.cells = Cells(driver)
        self.calendar = Calendar(driver)
        self.versions = Versions(driver)
        self.users = Users(driver)
        self.cloudworks = CloudWorks(driver)

    def __repr__(self) -> str:
        config = self._config
        return (
            f"{type(self).__name__}(api_base_url={config.api_base_url!r}, "
            f"workspace_id={config.workspace_id!r}, model_id={config.model_id!r})"
        )

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (credentials hidden from repr)."""
        return self._config

    def _copy(self, config: ClientConfig) -> Client:
        clone = object.__new__(Client)
        clone._config = config
        clone._hooks = self._hooks
        clone._sleep = self._sleep
        clone._session = self._session
        clone._closed = False
        self._session.join()
        clone._setup()
        return clone

    def with_model(self, model_id: str, workspace_id: str | None = None) -> Client:
        """A client for another model, sharing this one's connection and token."""
        return self._copy(
            self._config.with_options(
                model_id=model_id, workspace_id=workspace_id or self._config.workspace_id
            )
        )

    def with_options(self, **changes: Any) -> Client:
        """A client with some settings changed (timeout, retry, poll, chunk_size, …)."""
        return self._copy(self._config.with_options(**changes))

    def close(self) -> None:
        """Sign out (when this client signed in) and close the connection pool.

        Copies made with `with_model()`/`with_options()` share the session: it closes with
        the last of them.
        """
        if self._closed:
            return
        self._closed = True
        if self._session.leave():
            self._driver.sign_out()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
