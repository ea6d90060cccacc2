"""What a route needs to call the engine: the caller, the model in the path, a worker thread.

The engine is synchronous; a call runs in a worker thread (`anyio.to_thread`) so a slow call
never blocks the event loop. Calls that only read memory or one row (a task's status, the
catalogue) and never wait pass `inline=True` and run on the event loop: for them the thread hop
cost more than the work (about half the server's CPU per status read). Model-scoped routes
exist twice, as
`/2/0/workspaces/{workspaceId}/models/{modelId}/…` and `/2/0/models/{modelId}/…`; `in_model`
checks the caller may use the model (and that it lives in that workspace) in the same thread hop
as the work itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine.contract import Engine, Principal
from .auth import principal_of

T = TypeVar("T")

WORKSPACE_PREFIX = "/2/0/workspaces/{workspaceId}/models/{modelId}"
MODEL_PREFIX = "/2/0/models/{modelId}"


def engine_of(request: Request) -> Engine:
    """The engine behind this app."""
    engine: Engine = request.app.state.engine
    return engine


WORKER_THREADS = 100
"""Engine calls in flight at once. A status poll may block while a task finishes (`polls`
progression), so the pool is larger than anyio's default of 40."""


def _limiter(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "engine_limiter", None)
    if limiter is None:  # created on the event loop, once
        limiter = anyio.CapacityLimiter(WORKER_THREADS)
        state.engine_limiter = limiter
    return limiter


def leased(engine: Engine, work: Callable[[], T]) -> T:
    """Run `work()` holding the engine's store (a reset waits for it; see `engine/lifecycle`)."""
    with engine.use():
        return work()


async def run(
    request: Request, work: Callable[[Engine, Principal], T], *, inline: bool = False
) -> T:
    """Run `work(engine, principal)` holding the engine's store: in a worker thread, or here on
    the event loop when `inline` (short work such as a status read, which a reset only delays)."""
    engine = engine_of(request)
    principal = principal_of(request)
    if inline:
        return leased(engine, partial(work, engine, principal))
    return await anyio.to_thread.run_sync(
        leased, engine, partial(work, engine, principal), limiter=_limiter(request)
    )


async def in_model(
    request: Request, work: Callable[[Engine, Principal, str], T], *, inline: bool = False
) -> T:
    """Resolve the path's model for the caller, then run `work(engine, principal, model_id)`."""
    workspace_id = request.path_params.get("workspaceId")
    model_id = request.path_params["modelId"]

    def resolved(engine: Engine, principal: Principal) -> T:
        resolved_id = engine.resolve_model(principal, workspace_id, model_id)
        return work(engine, principal, resolved_id)

    return await run(request, resolved, inline=inline)


def model_id_of(request: Request) -> str:
    """The model id in the path."""
    model_id: str = request.path_params["modelId"]
    return model_id


def model_scoped(
    suffix: str, endpoint: Callable[[Request], Awaitable[Response]], methods: list[str], name: str
) -> list[Route]:
    """A model-scoped route in both of Anaplan's forms: with and without the workspace."""
    return [
        Route(WORKSPACE_PREFIX + suffix, endpoint, methods=methods, name=name),
        Route(MODEL_PREFIX + suffix, endpoint, methods=methods, name=f"{name}_by_model"),
    ]
