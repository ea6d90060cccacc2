"""`AsyncClient`: settings, a session, and one attribute per namespace."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ..._transport import AsyncHttpClient, AsyncHttpTransport, AsyncTransport
from .._backends import AsyncBackend, AsyncSleepFunction
from .._shared import Hooks, new_session
from ..config import ClientConfig
from .actions import AsyncActions, AsyncExports, AsyncImports, AsyncProcesses
from .alm import AsyncAlm
from .cloudworks import AsyncCloudWorks
from .driver import AsyncDriver, AsyncSession
from .files import AsyncFiles
from .lists import AsyncLists
from .modules import AsyncCells, AsyncModules, AsyncViews
from .tasks import AsyncTasks
from .timesettings import AsyncCalendar, AsyncUsers, AsyncVersions
from .workspaces import AsyncModels, AsyncWorkspaces


class AsyncClient:
    """The asyncio Anaplan client: bulk tasks, files, failure dumps and ALM.

    Settings are keyword arguments with an `ANAPLAN_*` environment fallback (see
    `anaplan_tasks.client.config`). Point at the emulator with `base_url="http://127.0.0.1:8080"`.

    Example:
        ```python
        async with AsyncClient(workspace_id=ws, model_id=m, email=e, password=p) as client:
            task = await client.imports.run("Accounts from accounts.csv", source="accounts.csv")
        ```

    Args:
        config: Settings already resolved (otherwise built from the keyword arguments).
        http_client: Your own `httpx2.AsyncClient` (you close it).
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

    workspaces: AsyncWorkspaces
    """The workspaces you can see."""
    models: AsyncModels
    """The models you can see."""
    files: AsyncFiles
    """The model's files: list, upload, download, delete."""
    imports: AsyncImports
    """Import definitions and their tasks."""
    exports: AsyncExports
    """Export definitions and their tasks."""
    actions: AsyncActions
    """Model actions (delete-by-selection, …) and their tasks."""
    processes: AsyncProcesses
    """Processes and their tasks."""
    tasks: AsyncTasks
    """Any task given its `TaskRef`: status, list, cancel, wait, failure dumps."""
    alm: AsyncAlm
    """ALM: revisions, syncs, comparison and summary reports."""
    lists: AsyncLists
    """The model's lists and their items (transactional API)."""
    modules: AsyncModules
    """The model's modules, line items and dimension items."""
    views: AsyncViews
    """The model's views and their data."""
    cells: AsyncCells
    """Write a module's cells."""
    calendar: AsyncCalendar
    """The model calendar and current period."""
    versions: AsyncVersions
    """The model's versions and switchover."""
    users: AsyncUsers
    """The signed-in user and the tenant's users."""
    cloudworks: AsyncCloudWorks
    """CloudWorks: connections, integrations and their runs, schedules, notifications, flows."""

    def __init__(
        self,
        *,
        config: ClientConfig | None = None,
        http_client: AsyncHttpClient | None = None,
        transport: AsyncHttpTransport | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        sleep: AsyncSleepFunction | None = None,
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
        self._sleep = sleep or AsyncBackend.sleep
        self._session = AsyncSession(
            new_session(self._config),
            AsyncTransport(
                timeout=self._config.timeout,
                connect_timeout=self._config.connect_timeout,
                http_client=http_client,
                transport=transport,
            ),
        )
        self._closed = False
        self._setup()

    def _setup(self) -> None:
        driver = AsyncDriver(self._session, self._config, self._hooks, self._sleep)
        self._driver = driver
        self.workspaces = AsyncWorkspaces(driver)
        self.models = AsyncModels(driver)
        self.files = AsyncFiles(driver)
        self.imports = AsyncImports(driver, "imports")
        self.exports = AsyncExports(driver, "exports")
        self.actions = AsyncActions(driver, "actions")
        self.processes = AsyncProcesses(driver, "processes")
        self.tasks = AsyncTasks(driver)
        self.alm = AsyncAlm(driver)
        self.lists = AsyncLists(driver)
        self.modules = AsyncModules(driver)
        self.views = AsyncViews(driver)
        self.cells = AsyncCells(driver)
        self.calendar = AsyncCalendar(driver)
        self.versions = AsyncVersions(driver)
        self.users = AsyncUsers(driver)
        self.cloudworks = AsyncCloudWorks(driver)

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

    def _copy(self, config: ClientConfig) -> AsyncClient:
        clone = object.__new__(AsyncClient)
        clone._config = config
        clone._hooks = self._hooks
        clone._sleep = self._sleep
        clone._session = self._session
        clone._closed = False
        self._session.join()
        clone._setup()
        return clone

    def with_model(self, model_id: str, workspace_id: str | None = None) -> AsyncClient:
        """A client for another model, sharing this one's connection and token."""
        return self._copy(
            self._config.with_options(
                model_id=model_id, workspace_id=workspace_id or self._config.workspace_id
            )
        )

    def with_options(self, **changes: Any) -> AsyncClient:
        """A client with some settings changed (timeout, retry, poll, chunk_size, …)."""
        return self._copy(self._config.with_options(**changes))

    async def aclose(self) -> None:
        """Sign out (when this client signed in) and close the connection pool.

        Copies made with `with_model()`/`with_options()` share the session: it closes with
        the last of them.
        """
        if self._closed:
            return
        self._closed = True
        if self._session.leave():
            await self._driver.sign_out()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
