"""`Client`: the synchronous driver of the core's flows, and its resource namespaces."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import TYPE_CHECKING, Any, TypeVar

from .._core.auth import logout_request, obtain_token, token_usable
from .._core.calls import call
from .._core.flow import Emit, Flow, GetToken, Offload, Parallel, ReadStream, Send, Sleep
from .._transport import HttpClient, HttpTransport, SyncTransport
from ..errors import AnaplanError
from ._shared import Hooks, SessionState, make_context, new_session
from ._sync_resources import (
    Actions,
    Exports,
    Files,
    Imports,
    Models,
    Processes,
    Tasks,
    Workspaces,
)
from .config import ClientConfig

if TYPE_CHECKING:
    from .alm import Alm

logger = logging.getLogger("anaplan_tasks")

T = TypeVar("T")


class _Session:
    def __init__(self, state: SessionState, transport: SyncTransport):
        self.state = state
        self.transport = transport
        self.token_lock = threading.Lock()
        self.users_lock = threading.Lock()


class Client:
    """A synchronous Anaplan client for bulk tasks, files and failure dumps.

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
            certificate, private_key, token, base_url, api_base_url, auth_base_url, timeout,
            retry, poll, chunk_size, upload_workers, locale, env).
    """

    alm: Alm
    """ALM: revisions, syncs, comparison and summary reports (`anaplan_tasks.client.alm`)."""

    def __init__(
        self,
        *,
        config: ClientConfig | None = None,
        http_client: HttpClient | None = None,
        transport: HttpTransport | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
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
        self._sleep = sleep or time.sleep
        self._session = _Session(
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
        self._ctx = make_context(self._config, self._session.state, self._hooks)
        self.workspaces = Workspaces(self)
        self.models = Models(self)
        self.files = Files(self)
        self.imports = Imports(self, "imports")
        self.exports = Exports(self, "exports")
        self.actions = Actions(self, "actions")
        self.processes = Processes(self, "processes")
        self.tasks = Tasks(self)
        for name, namespace_type in _EXTRA_NAMESPACES.items():
            setattr(self, name, namespace_type(self))

    def __repr__(self) -> str:
        config = self._config
        return (
            f"Client(api_base_url={config.api_base_url!r}, "
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
        with self._session.users_lock:
            self._session.state.users += 1
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

    # -- the driver ------------------------------------------------------------------------

    def _steps(self, flow: Flow[T], result: list[T]) -> Iterator[bytes]:
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
                        value = self._session.transport.send(effect.request)
                        if value.stream is not None:
                            bodies.append(value.stream)
                    elif isinstance(effect, ReadStream):
                        value = self._session.transport.read(effect.stream)
                    elif isinstance(effect, Sleep):
                        self._sleep(effect.seconds)
                    elif isinstance(effect, GetToken):
                        value = self._token(effect.stale)
                    elif isinstance(effect, Offload):
                        value = effect.function()
                    elif isinstance(effect, Parallel):
                        value = self._parallel(effect.flows, effect.limit)
                    elif isinstance(effect, Emit):
                        yield effect.data
                except BaseException as caught:
                    error = caught
        finally:
            for body in bodies:
                self._session.transport.close_body(body)

    def _run(self, flow: Flow[T]) -> T:
        result: list[T] = []
        for _ in self._steps(flow, result):
            pass
        return result[0]

    def _token(self, stale: str | None) -> str:
        state = self._session.state
        current = state.token
        if current is not None and token_usable(current, stale, self._hooks.wall_clock()):
            return current.value
        with self._session.token_lock:
            current = state.token
            if current is None or not token_usable(current, stale, self._hooks.wall_clock()):
                current = self._run(obtain_token(self._ctx, state.credentials, current, stale))
                state.token = current
            return current.value

    def _parallel(self, flows: Iterable[Flow[Any]], limit: int) -> list[Any]:
        results: dict[int, Any] = {}
        failure: BaseException | None = None
        iterator = iter(flows)
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="anaplan") as pool:
            pending: dict[Future[Any], int] = {}
            index = 0
            exhausted = False
            try:
                while True:
                    while failure is None and not exhausted and len(pending) < limit:
                        try:
                            flow = next(iterator)
                        except StopIteration:
                            exhausted = True
                            break
                        pending[pool.submit(self._run, flow)] = index
                        index += 1
                    if not pending:
                        break
                    done, _ = wait_futures(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        position = pending.pop(future)
                        try:
                            results[position] = future.result()
                        except BaseException as error:
                            failure = failure or error
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if failure is not None:
            raise failure
        return [results[position] for position in sorted(results)]

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Sign out (when this client signed in) and close the connection pool.

        Copies made with `with_model()`/`with_options()` share the session: it closes with
        the last of them.
        """
        if self._closed:
            return
        self._closed = True
        with self._session.users_lock:
            self._session.state.users -= 1
            last = self._session.state.users <= 0
        if not last:
            return
        state = self._session.state
        state.closed = True
        token = state.token
        state.token = None
        if token is not None and token.signed_in:
            try:
                self._run(call(self._ctx, logout_request(self._ctx, token.value)))
            except AnaplanError as error:
                logger.info("sign-out failed: %s", error)
        self._session.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_EXTRA_NAMESPACES: dict[str, Callable[[Client], Any]] = {}
"""Namespaces added by other modules (ALM registers `alm` here via `register_namespace`)."""


def register_namespace(name: str, namespace_type: Callable[[Client], Any]) -> None:
    """Add a namespace to every `Client` created afterwards (e.g. `client.alm`)."""
    _EXTRA_NAMESPACES[name] = namespace_type
