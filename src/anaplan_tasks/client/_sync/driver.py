# Generated from src/anaplan_tasks/client/_async/driver.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""The driver: performs the core's effects for one client (the `Runner` of its namespaces).

A flow yields effects (`Send`, `Sleep`, `GetToken`, …); the driver performs each one and sends
the result back, or throws the error in. The session it drives (transport, token, retry budget)
is shared by a client and its `with_model()`/`with_options()` copies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ..._core import scope
from ..._core.auth import logout_request, obtain_token, token_usable
from ..._core.calls import call
from ..._core.flow import (
    Context,
    Emit,
    Flow,
    GetToken,
    Offload,
    Parallel,
    ReadStream,
    Send,
    Sleep,
)
from ..._transport import SyncTransport
from ...errors import AnaplanError
from .._backends import Lock, SleepFunction, SyncBackend
from .._shared import Hooks, SessionState, make_context
from ..config import ClientConfig

logger = logging.getLogger("anaplan_tasks")

T = TypeVar("T")


class Session:
    """The connection, token and retry budget that a client shares with its copies."""

    def __init__(self, state: SessionState, transport: SyncTransport):
        self.state = state
        self.transport = transport
        self.token_lock: Lock = SyncBackend.new_lock()
        self.users_lock = threading.Lock()

    def join(self) -> None:
        """One more client (a copy) uses this session."""
        with self.users_lock:
            self.state.users += 1

    def leave(self) -> bool:
        """One client is done with the session; True when it was the last."""
        with self.users_lock:
            self.state.users -= 1
            return self.state.users <= 0


class Driver:
    """Performs flows for one client: its context and settings over a shared session."""

    def __init__(
        self,
        session: Session,
        config: ClientConfig,
        hooks: Hooks,
        sleep: SleepFunction,
    ):
        self.session = session
        self._config = config
        self._hooks = hooks
        self._sleep = sleep
        self._ctx = make_context(config, session.state, hooks)
        self._scope = scope.Scope(config.workspace_id, config.model_id)
        self._scope_ready = not self._scope.needs_lookup
        self._scope_lock: Lock = SyncBackend.new_lock()

    @property
    def ctx(self) -> Context:
        """The flow context of this client."""
        return self._ctx

    @property
    def config(self) -> ClientConfig:
        """This client's settings."""
        return self._config

    def run(self, flow: Flow[T], *, in_scope: bool = True) -> T:
        """Perform a flow until it returns; its result.

        The first flow in scope (`in_scope`: it uses the client's workspace or model) of a client
        configured with workspace or model names waits until the names are resolved to ids,
        once for the client and its copies.
        """
        if in_scope and not self._scope_ready:
            self._resolve_scope()
        return self._perform(flow)

    def stream(self, flow: Flow[Any]) -> Iterator[bytes]:
        """Perform a flow, yielding the bytes it emits (a download's chunks) as they come."""
        if not self._scope_ready:
            self._resolve_scope()
        yield from self._steps(flow, [])

    def _perform(self, flow: Flow[T]) -> T:
        result: list[T] = []
        for _ in self._steps(flow, result):
            pass
        return result[0]

    def _resolve_scope(self) -> None:
        with self._scope_lock:
            if self._scope_ready:
                return
            known = self.session.state.scopes
            resolved = known.get(self._scope)
            if resolved is None:
                resolved = self._perform(scope.resolve(self._ctx, self._scope))
                known[self._scope] = resolved
            self._ctx.workspace_id = resolved.workspace
            self._ctx.model_id = resolved.model
            self._scope_ready = True

    def offload(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work where it does not hold up the client."""
        return SyncBackend.offload(function, *args)

    def write(self, dest: Any, data: bytes) -> None:
        """Write to a caller's binary file object."""
        SyncBackend.write(dest, data)

    def _steps(self, flow: Flow[T], result: list[T]) -> Iterator[bytes]:
        transport = self.session.transport
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
                        value = transport.send(effect.request)
                        if value.stream is not None:
                            bodies.append(value.stream)
                    elif isinstance(effect, ReadStream):
                        value = transport.read(effect.stream)
                    elif isinstance(effect, Sleep):
                        self._sleep(effect.seconds)
                    elif isinstance(effect, GetToken):
                        value = self._token(effect.stale)
                    elif isinstance(effect, Offload):
                        value = SyncBackend.offload(effect.function)
                    elif isinstance(effect, Parallel):
                        value = SyncBackend.parallel(self.run, effect.flows, effect.limit)
                    elif isinstance(effect, Emit):
                        yield effect.data
                except BaseException as caught:
                    error = caught
        finally:
            for body in bodies:
                transport.close_body(body)

    def _token(self, stale: str | None) -> str:
        state = self.session.state
        current = state.token
        if current is not None and token_usable(current, stale, self._hooks.wall_clock()):
            return current.value
        with self.session.token_lock:
            current = state.token
            if current is None or not token_usable(current, stale, self._hooks.wall_clock()):
                current = self._perform(obtain_token(self._ctx, state.credentials, current, stale))
                state.token = current
            return current.value

    def sign_out(self) -> None:
        """End the session: sign out when it signed in, then close the connection pool."""
        state = self.session.state
        state.closed = True
        token = state.token
        state.token = None
        if token is not None and token.signed_in:
            try:
                self._perform(call(self._ctx, logout_request(self._ctx, token.value)))
            except AnaplanError as error:
                logger.info("sign-out failed: %s", error)
        self.session.transport.close()
