"""The emulator's HTTP application: one origin for `/token/…`, `/oauth/…`, `/2/0/…` (with
CloudWorks' `/2/0/integrations…`), `/cloudworks/2/0/…` and `/_emulator/…`.

Layers, outermost first:

1. `EmulatorApp.__call__` (plain ASGI, so it can break connections): drops a trailing slash,
   finds the request's route (once: `RouteIndex` looks only at routes of the path's shape, and
   Starlette's router dispatches to the route found), counts the request per route, applies
   the optional rate limit, then fault rules.
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
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

from ..engine.contract import Engine, Progression
from ..engine.oauth import OAuthService
from ..errors import EmulatorError
from .alm_routes import alm_routes
from .auth import DEFAULT_TOKEN_LIFETIME, ReplayGuard, RequireToken, TokenStore, token_routes
from .catalog import catalog_routes
from .cloudworks import cloudworks_routes, html_not_found, is_cloudworks_path
from .control import ControlGate, EmulatorControl, control_routes
from .faults import RAW_SEND, FaultInjector, RequestCounter, apply_fault
from .files import file_routes
from .oauth import OAuthSite, oauth_routes
from .openapi import openapi_document
from .ratelimit import RateLimiter, retry_after_header
from .tasks import task_routes
from .transactional import transactional_routes
from .wire import error_response, status_message

logger = logging.getLogger("anaplan_tasks.emulator")

CONTROL_PREFIX = "/_emulator"
MATCHED = "anaplan_tasks.emulator.route"
"""Scope key of the route `EmulatorApp` found for a request, with its child scope."""


class RouteIndex:
    """Finds a path's route as Starlette's router would, looking only at routes of its shape.

    A `{param}` matches one path segment, so a plain route can only match a path with as many
    segments, whose literal segments equal the route's. Other routes (`{param:path}`, mounts)
    are tried for every path. Candidates are tried in the routes' order, so the first full
    match wins, else the first partial one (a known path with another method: 405), exactly as
    in `starlette.routing.Router`.
    """

    def __init__(self, routes: Sequence[BaseRoute]):
        self._by_length: dict[int, list[tuple[int, BaseRoute, tuple[tuple[int, str], ...]]]] = {}
        self._always: list[tuple[int, BaseRoute, tuple[tuple[int, str], ...]]] = []
        for order, route in enumerate(routes):
            if isinstance(route, Route) and ":" not in route.path:
                segments = route.path.split("/")
                literals = tuple((i, seg) for i, seg in enumerate(segments) if "{" not in seg)
                self._by_length.setdefault(len(segments), []).append((order, route, literals))
            else:
                self._always.append((order, route, ()))

    def match(self, scope: Scope) -> tuple[str | None, tuple[BaseRoute, Scope] | None]:
        """The template of the first route the path fits (any method), and the route to run."""
        segments = scope["path"].split("/")
        candidates = self._by_length.get(len(segments), [])
        if scope.get("root_path"):  # routes match the path below it: try them all
            candidates = sorted(
                [entry for entries in self._by_length.values() for entry in entries],
                key=lambda entry: entry[0],
            )
            segments = []
        if self._always:
            candidates = sorted([*candidates, *self._always], key=lambda entry: entry[0])
        template: str | None = None
        partial: tuple[BaseRoute, Scope] | None = None
        for _, route, literals in candidates:
            if segments and any(segments[i] != literal for i, literal in literals):
                continue
            match, child = route.matches(scope)
            if match is Match.NONE:
                continue
            if template is None and isinstance(route, Route):
                template = route.path
            if match is Match.FULL:
                return template, (route, child)
            if partial is None:
                partial = (route, child)
        return template, partial


class _MatchedRouter(Router):
    """Starlette's router, dispatching to the route `EmulatorApp` already found."""

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched: tuple[BaseRoute, Scope] | None = scope.pop(MATCHED, None)
        if matched is None or scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        route, child = matched
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child)
        await route.handle(scope, receive, send)


async def _error_handler(request: Request, exc: Exception) -> Response:
    """Anaplan's error envelope for every refused request."""
    if (
        isinstance(exc, HTTPException)
        and exc.status_code == 404
        and is_cloudworks_path(request.scope["path"])
    ):
        return html_not_found()  # CloudWorks: an unrouted path is not a JSON 404
    if isinstance(exc, EmulatorError):
        return error_response(exc.status_code, exc.message, request.scope["path"])
    if isinstance(exc, HTTPException):
        message = status_message(exc.status_code)
        return error_response(exc.status_code, message, request.scope["path"], headers=exc.headers)
    logger.error("internal error on %s %s", request.method, request.scope["path"], exc_info=exc)
    return error_response(500, "Internal Server Error", request.scope["path"])


async def _client_left(request: Request, exc: Exception) -> Response:
    """A client that went away before its body was read: nothing to answer, nothing to log
    but one line (it is the client's doing, not the emulator's)."""
    logger.info("client left before its request was read: %s %s", request.method, request.url.path)
    return Response(status_code=400)


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
        control: who may call the `/_emulator/…` routes (default: loopback peers, no token).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
        progression: Progression | None = None,
        extra_routes: Sequence[BaseRoute] = (),
        control: ControlGate | None = None,
    ):
        self.engine = engine
        self.clock = clock
        """The emulator's clock (tokens, CloudWorks runs and schedules)."""
        self.control_gate = control or ControlGate()
        self.tokens = TokenStore(token_lifetime, clock)
        self.faults = FaultInjector()
        self.requests = RequestCounter()
        self.rate_limiter = RateLimiter(clock)
        self.oauth = OAuthService(engine.oauth_client, clock)
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
            *oauth_routes(),
            *catalog_routes(),
            *file_routes(),
            *task_routes(),
            *alm_routes(),
            *transactional_routes(),
            *cloudworks_routes(),
            *extra_routes,
            *control_routes(),
            Route("/_emulator/openapi.json", _openapi, methods=["GET"], name="control_openapi"),
        ]
        handlers: dict[Any, Any] = {
            ClientDisconnect: _client_left,
            EmulatorError: _error_handler,
            HTTPException: _error_handler,
            Exception: _error_handler,
        }
        self.starlette = Starlette(
            routes=self.routes,
            middleware=[Middleware(RequireToken, tokens=self.tokens)],
            exception_handlers=handlers,
        )
        self.starlette.router = _MatchedRouter(self.routes)
        self._index = RouteIndex(self.routes)
        self.starlette.state.engine = engine
        self.starlette.state.tokens = self.tokens
        self.starlette.state.replay_guard = ReplayGuard()
        self.starlette.state.control = self.control
        self.starlette.state.oauth_site = OAuthSite(self.oauth)
        self.control.on_reset.append(self.oauth.reset)
        self.starlette.state.emulator = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection event."""
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        scope[RAW_SEND] = send  # the server's own send: what can reset the connection
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
            raw_path: bytes = scope.get("raw_path") or path.encode("utf-8")
            scope = {**scope, "path": path, "raw_path": raw_path.rstrip(b"/") or b"/"}
        template, matched = self._index.match(scope)
        if matched is not None:
            scope[MATCHED] = matched
        if path.startswith(CONTROL_PREFIX + "/"):
            refused = self.control_gate.refusal(scope)
            if refused is not None:
                await error_response(*refused, path)(scope, receive, send)
                return
            await self.starlette(scope, receive, send)
            return
        method: str = scope["method"]
        if template is None:
            template = path if path.startswith("/token/") else "<unknown>"
        self.requests.count(f"{method} {template}")
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
            await apply_fault(rule, self.starlette, scope, receive, send, self.faults)
