"""The emulator's HTTP application: one origin for `/token/…`, `/2/0/…` and `/_emulator/…`.

Layers, outermost first:

1. `EmulatorApp.__call__` (plain ASGI, so it can break connections): drops a trailing slash,
   counts the request per route, applies the optional rate limit, then fault rules.
2. Starlette: `RequireToken` guards `/2/0/…`; routes parse requests, call the engine in a worker
   thread and serialise the shared models; one handler maps every `EmulatorError` (and routing's
   404/405) to Anaplan's error envelope.

Other helpers add routes through `extra_routes`, built with `context.model_scoped` and
`context.in_model`. (The ALM helper serves `PUT /2/0/models/{modelId}/onlineStatus` and the
`/alm/…` routes that way.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

from ..engine.contract import Engine, Progression
from ..errors import EmulatorError
from .alm_routes import alm_routes
from .auth import DEFAULT_TOKEN_LIFETIME, ReplayGuard, RequireToken, TokenStore, token_routes
from .catalog import catalog_routes
from .control import EmulatorControl, control_routes
from .faults import FaultInjector, RequestCounter, apply_fault
from .files import file_routes
from .openapi import openapi_document
from .ratelimit import RateLimiter, retry_after_header
from .tasks import task_routes
from .transactional import transactional_routes
from .wire import error_response, status_message

logger = logging.getLogger("anaplan_tasks.emulator")

CONTROL_PREFIX = "/_emulator"


async def _error_handler(request: Request, exc: Exception) -> Response:
    """Anaplan's error envelope for every refused request."""
    if isinstance(exc, EmulatorError):
        return error_response(exc.status_code, exc.message, request.scope["path"])
    if isinstance(exc, HTTPException):
        message = status_message(exc.status_code)
        return error_response(exc.status_code, message, request.scope["path"], headers=exc.headers)
    logger.error("internal error on %s %s", request.method, request.scope["path"], exc_info=exc)
    return error_response(500, "Internal Server Error", request.scope["path"])


async def _openapi(request: Request) -> Response:
    """The OpenAPI 3.1 description of every route served."""
    emulator: EmulatorApp = request.app.state.emulator
    return JSONResponse(
        openapi_document(emulator.routes, server_url=str(request.base_url).rstrip("/"))
    )


class EmulatorApp:
    """The emulator as an ASGI application, with its control knobs.

    Args:
        engine: the engine to serve (the app does not close it).
        token_lifetime: seconds a token lives (Anaplan: 35 minutes).
        clock: epoch-seconds clock for token expiry and certificate timestamps.
        progression: how tasks progress after a reset.
        extra_routes: more routes (same conventions) to serve.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
        progression: Progression | None = None,
        extra_routes: Sequence[BaseRoute] = (),
    ):
        self.engine = engine
        self.tokens = TokenStore(token_lifetime, clock)
        self.faults = FaultInjector()
        self.requests = RequestCounter()
        self.rate_limiter = RateLimiter(clock)
        self.control = EmulatorControl(
            engine,
            self.tokens,
            self.faults,
            self.requests,
            progression or Progression(),
            self.rate_limiter,
        )
        self.routes: list[BaseRoute] = [
            *token_routes(),
            *catalog_routes(),
            *file_routes(),
            *task_routes(),
            *alm_routes(),
            *transactional_routes(),
            *extra_routes,
            *control_routes(),
            Route("/_emulator/openapi.json", _openapi, methods=["GET"], name="control_openapi"),
        ]
        handlers: dict[Any, Any] = {
            EmulatorError: _error_handler,
            HTTPException: _error_handler,
            Exception: _error_handler,
        }
        self.starlette = Starlette(
            routes=self.routes,
            middleware=[Middleware(RequireToken, tokens=self.tokens)],
            exception_handlers=handlers,
        )
        self.starlette.state.engine = engine
        self.starlette.state.tokens = self.tokens
        self.starlette.state.replay_guard = ReplayGuard()
        self.starlette.state.control = self.control
        self.starlette.state.emulator = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection event."""
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
            raw_path: bytes = scope.get("raw_path") or path.encode("utf-8")
            scope = {**scope, "path": path, "raw_path": raw_path.rstrip(b"/") or b"/"}
        if path.startswith(CONTROL_PREFIX + "/"):
            await self.starlette(scope, receive, send)
            return
        method: str = scope["method"]
        self.requests.count(f"{method} {self._template(scope)}")
        wait = self.rate_limiter.take()
        if wait is not None:
            limit = self.rate_limiter.limit
            headers = (
                {"Retry-After": retry_after_header(wait)} if limit and limit.retry_after else {}
            )
            response = error_response(429, "Too Many Requests", path, headers=headers)
            await response(scope, receive, send)
            return
        rule = self.faults.pick(method, path)
        if rule is None:
            await self.starlette(scope, receive, send)
        else:
            await apply_fault(rule, self.starlette, scope, receive, send)

    def _template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE and isinstance(route, Route):
                return route.path
        return scope["path"] if scope["path"].startswith("/token/") else "<unknown>"
