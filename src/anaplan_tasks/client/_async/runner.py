"""What a namespace needs from its client: a runner of flows, and the base of every namespace.

A namespace (`client.files`, `client.alm`, …) never sees the client class: it is given a runner,
which performs the core's flows (`anaplan_tasks._core`) for one client and knows that client's
context and settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol, TypeVar

from ..._core.flow import Context, Flow
from ..config import ClientConfig

T = TypeVar("T")


class AsyncRunner(Protocol):
    """Runs flows for one client (its driver implements this)."""

    @property
    def ctx(self) -> Context:
        """The flow context: where to go, the policies, injected time."""
        ...

    @property
    def config(self) -> ClientConfig:
        """The client's resolved settings."""
        ...

    async def run(self, flow: Flow[T], *, in_scope: bool = True) -> T:
        """Perform a flow's effects until it returns; its result.

        `in_scope=False` for a flow that does not use the client's workspace or model (which
        then need not be resolved from names first).
        """
        ...

    def stream(self, flow: Flow[Any]) -> AsyncIterator[bytes]:
        """Perform a flow, handing on the bytes it emits as they come."""
        ...

    async def offload(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work (disk, CPU) where it does not hold up the client."""
        ...

    async def write(self, dest: Any, data: bytes) -> None:
        """Write to a caller's binary file object."""
        ...


class AsyncNamespace:
    """The base of a namespace: its runner, and shortcuts to run a flow in its context."""

    def __init__(self, runner: AsyncRunner):
        self._runner = runner

    @property
    def _ctx(self) -> Context:
        return self._runner.ctx

    async def _run(self, flow: Flow[T]) -> T:
        return await self._runner.run(flow)
