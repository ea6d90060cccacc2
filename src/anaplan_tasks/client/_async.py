"""`AsyncClient`: the asyncio driver of the core's flows, and its resource namespaces."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .._core.auth import logout_request, obtain_token, token_usable
from .._core.calls import call
from .._core.flow import Emit, Flow, GetToken, Offload, Parallel, ReadStream, Send, Sleep
from .._transport import AsyncHttpClient, AsyncHttpTransport, AsyncTransport
from ..errors import AnaplanError
from ._async_resources import (
    AsyncActions,
    AsyncExports,
    AsyncFiles,
    AsyncImports,
    AsyncModels,
    AsyncProcesses,
    AsyncTasks,
    AsyncWorkspaces,
)
from ._shared import Hooks, SessionState, make_context, new_session
from .config import ClientConfig

if TYPE_CHECKING:
    from .alm import AsyncAlm

logger = logging.getLogger("anaplan_tasks")

T = TypeVar("T")

_END: Any = object()


class _Session:
    def __init__(self, state: SessionState, transport: AsyncTransport):
        self.state = state
        self.transport = transport
        self.token_lock = asyncio.Lock()


class AsyncClient:
    """An asyncio Anaplan client: the same surface as `Client`, awaitable.

    Example:
        ```python
        async with AsyncClient(base_url="http://127.0.0.1:8080", email=e, password=p,
                               workspace_id=ws, model_id=m) as client:
            task = await client.imports.run("Accounts", source="accounts.csv")
        ```

    Args:
        config: Settings already resolved (otherwise built from the keyword arguments).
        http_client: Your own `httpx2.AsyncClient` (you close it).
        transport: Your own async `httpx2` transport for our client.
        clock: Monotonic seconds (tests inject a fake).
        wall_clock: Epoch seconds.
        sleep: How to wait (an async function; tests inject a fake).
        rng: Source of jitter.
        **settings: Passed to `ClientConfig.resolve`.
    """

    alm: AsyncAlm
    """ALM: revisions, syncs, comparison and summary reports (`anaplan_tasks.client.alm`)."""

    def __init__(
        self,
        *,
        config: ClientConfig | None = None,
        http_client: AsyncHttpClient | None = None,
        transport: AsyncHttpTransport | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
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
        self._sleep = sleep or asyncio.sleep
        self._session = _Session(
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
        self._ctx = make_context(self._config, self._session.state, self._hooks)
        self.workspaces = AsyncWorkspaces(self)
        self.models = AsyncModels(self)
        self.files = AsyncFiles(self)
        self.imports = AsyncImports(self, "imports")
        self.exports = AsyncExports(self, "exports")
        self.actions = AsyncActions(self, "actions")
        self.processes = AsyncProcesses(self, "processes")
        self.tasks = AsyncTasks(self)
        for name, namespace_type in _EXTRA_NAMESPACES.items():
            setattr(self, name, namespace_type(self))

    def __repr__(self) -> str:
        config = self._config
        return (
            f"AsyncClient(api_base_url={config.api_base_url!r}, "
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
        self._session.state.users += 1
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

    # -- the driver ------------------------------------------------------------------------

    async def _steps(self, flow: Flow[T], result: list[T]) -> AsyncIterator[bytes]:
        value: Any = None
        error: BaseException | None = None
        bodies: list[Any] = []
        try:
            while True:
                try:
                    effect = flow.throw(error) if error is not None else flow.send(value)
                except StopIteration as stop:
                    result.append(stop.value)
                    return
                value, error = None, None
                try:
                    if isinstance(effect, Send):
                        value = await self._session.transport.send(effect.request)
                        if value.stream is not None:
                            bodies.append(value.stream)
                    elif isinstance(effect, ReadStream):
                        value = await self._session.transport.read(effect.stream)
                    elif isinstance(effect, Sleep):
                        await self._sleep(effect.seconds)
                    elif isinstance(effect, GetToken):
                        value = await self._token(effect.stale)
                    elif isinstance(effect, Offload):
                        value = await asyncio.to_thread(effect.function)
                    elif isinstance(effect, Parallel):
                        value = await self._parallel(effect.flows, effect.limit)
                    elif isinstance(effect, Emit):
                        yield effect.data
                except BaseException as caught:
                    error = caught
        finally:
            for body in bodies:
                await self._session.transport.close_body(body)

    async def _run(self, flow: Flow[T]) -> T:
        result: list[T] = []
        async for _ in self._steps(flow, result):
            pass
        return result[0]

    async def _token(self, stale: str | None) -> str:
        state = self._session.state
        current = state.token
        if current is not None and token_usable(current, stale, self._hooks.wall_clock()):
            return current.value
        async with self._session.token_lock:
            current = state.token
            if current is None or not token_usable(current, stale, self._hooks.wall_clock()):
                current = await self._run(
                    obtain_token(self._ctx, state.credentials, current, stale)
                )
                state.token = current
            return current.value

    async def _parallel(self, flows: Iterable[Flow[Any]], limit: int) -> list[Any]:
        results: dict[int, Any] = {}
        slots = asyncio.Semaphore(limit)
        iterator = iter(flows)

        async def run_one(position: int, flow: Flow[Any]) -> None:
            try:
                results[position] = await self._run(flow)
            finally:
                slots.release()

        try:
            async with asyncio.TaskGroup() as group:
                position = 0
                while True:
                    await slots.acquire()
                    # Pulling the next flow may read the source (a file): off the event loop.
                    item = await asyncio.to_thread(next, iterator, _END)
                    if item is _END:
                        slots.release()
                        break
                    group.create_task(run_one(position, item))
                    position += 1
        except BaseExceptionGroup as group_error:
            raise group_error.exceptions[0] from None
        return [results[index] for index in sorted(results)]

    # -- lifecycle -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Sign out (when this client signed in) and close the connection pool.

        Copies made with `with_model()`/`with_options()` share the session: it closes with
        the last of them.
        """
        if self._closed:
            return
        self._closed = True
        self._session.state.users -= 1
        if self._session.state.users > 0:
            return
        state = self._session.state
        state.closed = True
        token = state.token
        state.token = None
        if token is not None and token.signed_in:
            try:
                await self._run(call(self._ctx, logout_request(self._ctx, token.value)))
            except AnaplanError as error:
                logger.info("sign-out failed: %s", error)
        await self._session.transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


_EXTRA_NAMESPACES: dict[str, Callable[[AsyncClient], Any]] = {}
"""Namespaces added by other modules (ALM registers `alm` here via `register_async_namespace`)."""


def register_async_namespace(name: str, namespace_type: Callable[[AsyncClient], Any]) -> None:
    """Add a namespace to every `AsyncClient` created afterwards (e.g. `client.alm`)."""
    _EXTRA_NAMESPACES[name] = namespace_type
