"""Control of the emulator for tests, outside Anaplan's paths (`/_emulator/…`).

- `POST /_emulator/reset`: forget data, tokens, faults, counts and the rate limit; reload
  definitions → 204.
- `POST /_emulator/definitions`: add a definition (JSON or TOML text) → 204, or a 400 that
  names the file path and the problem.
- `GET|PUT /_emulator/progression`: `{"mode": "real"|"fixed"|"polls"|"manual", "seconds",
  "polls"}`.
- `POST /_emulator/advance`: `{"taskId": …}` or `{}` (all): let manual-mode tasks run → 204.
- `GET|PUT|DELETE /_emulator/faults`: `{"seed": 7, "rules": [<fault rule>, …]}` (`faults.py`).
- `GET|DELETE /_emulator/requests`: `{"requests": {"GET /2/0/users/me": 3, …}}`, or restart.
- `GET /_emulator/polls`: `{"polls": {"<taskId>": 4, …}}`, status reads per task.
- `GET /_emulator/tasks`: `{"tasks": [{"taskId", "modelId", "actionId", "taskState",
  "createdMs", "startedMs", "finishedMs"}, …]}`, every bulk task, oldest first.
- `GET|PUT /_emulator/token-lifetime`: `{"seconds": 2100}` for tokens issued or refreshed later.
- `POST /_emulator/tokens/expire`: make every token invalid now → 204.
- `GET|PUT|DELETE /_emulator/rate-limit`: `{"perMinute": 600, "retryAfter": true}`: 429 once
  the bucket is empty (see `ratelimit.py`); GET also tells how many requests were refused.
- `GET /_emulator/health`: `{"status": "ok"}`.
- `GET /_emulator/openapi.json`: an OpenAPI 3.1 description of every route served.

Who may use them (`ControlGate`): peers on the loopback interface, with no token; with a
control token configured (`serve --control-token`), every peer presenting it as
`Authorization: Bearer <token>` and no one else. `serve` on a non-loopback interface disables the
routes (404) unless a token is given. `health` and `openapi.json` stay open to every peer.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from ..engine.contract import Engine, Progression, TaskTimes
from ..engine.readrequests import ReadRequestSettings
from ..errors import BadRequest
from .auth import TokenStore
from .faults import FaultInjector, FaultRule, RequestCounter
from .ratelimit import RateLimit, RateLimiter
from .wire import no_content, read_body, read_json_object

MAX_DEFINITION_BODY = 16 * 1024 * 1024

OPEN_CONTROL_PATHS = frozenset({"/_emulator/health", "/_emulator/openapi.json"})
"""Control paths any peer may read: they reveal and change nothing."""


def is_loopback_address(host: str) -> bool:
    """Whether an address (IPv4, IPv6 or `localhost`) is on the loopback interface."""
    try:
        return ipaddress.ip_address(host.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class ControlGate:
    """Who may call the control routes (see the module docstring)."""

    enabled: bool = True
    token: str | None = None

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) refusing this request, or None when it may pass."""
        if scope["path"] in OPEN_CONTROL_PATHS:
            return None
        if not self.enabled:
            return 404, "Not Found: the control routes are disabled on this interface."
        if self.token is not None:
            if hmac.compare_digest(_bearer(scope).encode(), self.token.encode()):
                return None
            return 401, "Unauthorized: send the control token as 'Authorization: Bearer <token>'."
        client = scope.get("client")
        if client is not None and is_loopback_address(str(client[0])):
            return None
        return 403, "Forbidden: the control routes answer loopback peers only (or a token)."


def _bearer(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return ""


class EmulatorControl:
    """The test knobs of a running emulator, used by the control routes and by Python callers."""

    def __init__(
        self,
        engine: Engine,
        tokens: TokenStore,
        faults: FaultInjector,
        requests: RequestCounter,
        progression: Progression,
        rate_limiter: RateLimiter,
    ):
        self.engine = engine
        self.tokens = tokens
        self.faults = faults
        self.requests = requests
        self.rate_limiter = rate_limiter
        self._initial_progression = progression
        self._progression = progression
        self._lock = threading.Lock()
        self.on_reset: list[Callable[[], None]] = []
        """Also run on reset (the OAuth server forgets its codes and refresh tokens)."""

    def reset(self) -> None:
        """Forget data, tokens, faults and counts; reload the configured definitions."""
        self.faults.clear()  # first: a late commit still waiting must not land after the reset
        with self._lock:
            self.engine.reset()
            self.engine.set_progression(self._initial_progression)
            self.engine.set_read_request_settings(ReadRequestSettings())
            self._progression = self._initial_progression
        self.tokens.expire_all()
        self.faults.clear()
        self.requests.clear()
        self.rate_limiter.configure(None)
        for forget in self.on_reset:
            forget()

    def load_definition(self, text: str, *, source: str = "<request>") -> None:
        """Add the users, workspaces and models of a definition (JSON or TOML)."""
        self.engine.load_definition(text, source=source)

    @property
    def progression(self) -> Progression:
        """How tasks progress now."""
        return self._progression

    def set_progression(self, progression: Progression) -> None:
        """Change how tasks progress from now on."""
        with self._lock:
            self.engine.set_progression(progression)
            self._progression = progression

    def advance(self, task_id: str | None = None) -> None:
        """In manual mode, let one task (or every queued task) run."""
        self.engine.advance(task_id)

    def poll_counts(self) -> dict[str, int]:
        """Status reads per task id."""
        return self.engine.poll_counts()

    def task_times(self) -> list[TaskTimes]:
        """When every bulk task was created, started and finished, oldest first."""
        return self.engine.task_times()

    def request_counts(self) -> dict[str, int]:
        """Requests per `METHOD route` since the last reset."""
        return self.requests.snapshot()

    def set_faults(self, rules: list[FaultRule], seed: int | None = None) -> None:
        """Replace the fault rules (and reseed their generator)."""
        self.faults.configure(rules, seed)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.faults.clear()

    @property
    def token_lifetime(self) -> float:
        """Seconds a token lives after it is issued or refreshed."""
        return self.tokens.lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self.tokens.lifetime = seconds

    def expire_tokens(self) -> None:
        """Make every token invalid now."""
        self.tokens.expire_all()

    @property
    def read_request_settings(self) -> ReadRequestSettings:
        """Page size, pacing, quota, retention and failure injection of large-volume reads."""
        return self.engine.read_request_settings()

    def set_read_request_settings(self, settings: ReadRequestSettings) -> None:
        """Change them for read requests started from now on (a reset restores the defaults)."""
        self.engine.set_read_request_settings(settings)

    def set_rate_limit(self, limit: RateLimit | None) -> None:
        """Limit requests per minute (a full bucket to start), or remove the limit."""
        self.rate_limiter.configure(limit)


def progression_from_wire(data: dict[str, Any]) -> Progression:
    """Read `{"mode", "seconds", "polls"}`; raises BadRequest naming what is wrong."""
    mode = data.get("mode")
    if mode not in ("real", "fixed", "polls", "manual"):
        raise BadRequest("'mode' must be one of real, fixed, polls, manual.")
    seconds = data.get("seconds", 0.0)
    polls = data.get("polls", 0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise BadRequest("'seconds' must be a number of seconds, 0 or more.")
    if not isinstance(polls, int) or isinstance(polls, bool) or polls < 0:
        raise BadRequest("'polls' must be a whole number, 0 or more.")
    if mode == "fixed" and seconds <= 0:
        raise BadRequest("Mode 'fixed' needs 'seconds' above 0.")
    if mode == "polls" and polls < 1:
        raise BadRequest("Mode 'polls' needs 'polls' of 1 or more.")
    return Progression(mode=mode, seconds=float(seconds), polls=polls)


def progression_to_wire(progression: Progression) -> dict[str, Any]:
    """The JSON form of a progression."""
    return {"mode": progression.mode, "seconds": progression.seconds, "polls": progression.polls}


_READ_FIELDS = {
    "pageSize": "page_size",
    "pageSeconds": "page_seconds",
    "maxPerModel": "max_per_model",
    "retention": "retention",
    "failAfterPages": "fail_after_pages",
}


def read_settings_from_wire(data: dict[str, Any]) -> ReadRequestSettings:
    """Read `{"pageSize", "pageSeconds", "maxPerModel", "retention", "failAfterPages"}` (each
    optional, the others default); raises BadRequest naming what is wrong."""
    unknown = sorted(set(data) - set(_READ_FIELDS))
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(unknown)}.")
    values: dict[str, Any] = {}
    for wire_name, name in _READ_FIELDS.items():
        if wire_name not in data:
            continue
        value = data[wire_name]
        whole = name in ("page_size", "max_per_model", "fail_after_pages")
        if value is None and name == "fail_after_pages":
            continue
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            kind = "a whole number" if whole else "a number"
            raise BadRequest(f"'{wire_name}' must be {kind}.")
        values[name] = value
    try:
        return ReadRequestSettings(**values)
    except ValueError as error:
        raise BadRequest(str(error)) from None


def read_settings_to_wire(settings: ReadRequestSettings) -> dict[str, Any]:
    """The JSON form of read-request settings."""
    return {wire: getattr(settings, name) for wire, name in _READ_FIELDS.items()}


def _control(request: Request) -> EmulatorControl:
    control: EmulatorControl = request.app.state.control
    return control


async def reset(request: Request) -> Response:
    """Forget all data, tokens, faults and counts; reload the configured definitions."""
    await anyio.to_thread.run_sync(_control(request).reset)
    return no_content()


async def load_definition(request: Request) -> Response:
    """Add a definition sent as JSON or TOML text."""
    body = await read_body(request, MAX_DEFINITION_BODY)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The definition must be UTF-8 text.") from None
    control = _control(request)
    try:
        await anyio.to_thread.run_sync(lambda: control.load_definition(text))
    except ValueError as error:  # DefinitionError names the path and the problem
        raise BadRequest(str(error)) from None
    return no_content()


async def progression(request: Request) -> Response:
    """Read (GET) or change (PUT) how tasks progress."""
    control = _control(request)
    if request.method == "PUT":
        chosen = progression_from_wire(await read_json_object(request))
        await anyio.to_thread.run_sync(control.set_progression, chosen)
    return JSONResponse(progression_to_wire(control.progression))


async def read_requests(request: Request) -> Response:
    """Read (GET) or change (PUT) the settings of large-volume reads."""
    control = _control(request)
    if request.method == "PUT":
        chosen = read_settings_from_wire(await read_json_object(request))
        control.set_read_request_settings(chosen)
    return JSONResponse(read_settings_to_wire(control.read_request_settings))


async def advance(request: Request) -> Response:
    """Let manual-mode tasks run: one (`taskId`) or all."""
    body = await read_json_object(request, required=False)
    task_id = body.get("taskId")
    if task_id is not None and not isinstance(task_id, str):
        raise BadRequest("'taskId' must be a string.")
    await anyio.to_thread.run_sync(_control(request).advance, task_id)
    return no_content()


async def faults(request: Request) -> Response:
    """Read (GET), replace (PUT) or clear (DELETE) the fault rules."""
    control = _control(request)
    if request.method == "PUT":
        body = await read_json_object(request)
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise BadRequest("'seed' must be a whole number or null.")
        raw_rules = body.get("rules", [])
        if not isinstance(raw_rules, list):
            raise BadRequest("'rules' must be a list of fault rules.")
        try:
            rules = [FaultRule.from_wire(raw) for raw in raw_rules]
        except ValueError as error:
            raise BadRequest(f"Bad fault rule: {error}.") from None
        control.set_faults(rules, seed)
    elif request.method == "DELETE":
        control.clear_faults()
        return no_content()
    return JSONResponse(control.faults.snapshot())


async def requests(request: Request) -> Response:
    """Read (GET) or restart (DELETE) the request counts."""
    control = _control(request)
    if request.method == "DELETE":
        control.requests.clear()
        return no_content()
    return JSONResponse({"requests": control.request_counts()})


async def polls(request: Request) -> Response:
    """Status reads per task."""
    counts = await anyio.to_thread.run_sync(_control(request).poll_counts)
    return JSONResponse({"polls": counts})


async def task_times(request: Request) -> Response:
    """When every bulk task was created, started and finished (ms since the epoch)."""
    times = await anyio.to_thread.run_sync(_control(request).task_times)
    return JSONResponse(
        {
            "tasks": [
                {
                    "taskId": task.task_id,
                    "modelId": task.model_id,
                    "actionId": task.action_id,
                    "taskState": task.state,
                    "createdMs": task.created_ms,
                    "startedMs": task.started_ms,
                    "finishedMs": task.finished_ms,
                }
                for task in times
            ]
        }
    )


async def token_lifetime(request: Request) -> Response:
    """Read (GET) or change (PUT) the lifetime of tokens issued or refreshed from now."""
    control = _control(request)
    if request.method == "PUT":
        seconds = (await read_json_object(request)).get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
            raise BadRequest("'seconds' must be a number above 0.")
        control.token_lifetime = float(seconds)
    return JSONResponse({"seconds": control.token_lifetime})


async def expire_tokens(request: Request) -> Response:
    """Make every token invalid now."""
    _control(request).expire_tokens()
    return no_content()


async def rate_limit(request: Request) -> Response:
    """Read (GET), set (PUT) or remove (DELETE) the requests-per-minute limit."""
    control = _control(request)
    if request.method == "PUT":
        try:
            limit = RateLimit.from_wire(await read_json_object(request))
        except ValueError as error:
            raise BadRequest(f"Bad rate limit: {error}.") from None
        control.set_rate_limit(limit)
    elif request.method == "DELETE":
        control.set_rate_limit(None)
        return no_content()
    return JSONResponse(control.rate_limiter.snapshot())


async def health(request: Request) -> Response:
    """Liveness: 200 once the emulator serves."""
    return JSONResponse({"status": "ok"})


def control_routes() -> list[Route]:
    """The `/_emulator/…` routes (the OpenAPI route is added by the app)."""
    return [
        Route("/_emulator/reset", reset, methods=["POST"], name="control_reset"),
        Route(
            "/_emulator/definitions",
            load_definition,
            methods=["POST"],
            name="control_load_definition",
        ),
        Route(
            "/_emulator/progression",
            progression,
            methods=["GET", "PUT"],
            name="control_progression",
        ),
        Route("/_emulator/advance", advance, methods=["POST"], name="control_advance"),
        Route(
            "/_emulator/read-requests",
            read_requests,
            methods=["GET", "PUT"],
            name="control_read_requests",
        ),
        Route("/_emulator/faults", faults, methods=["GET", "PUT", "DELETE"], name="control_faults"),
        Route("/_emulator/requests", requests, methods=["GET", "DELETE"], name="control_requests"),
        Route("/_emulator/polls", polls, methods=["GET"], name="control_polls"),
        Route("/_emulator/tasks", task_times, methods=["GET"], name="control_task_times"),
        Route(
            "/_emulator/token-lifetime",
            token_lifetime,
            methods=["GET", "PUT"],
            name="control_token_lifetime",
        ),
        Route(
            "/_emulator/tokens/expire",
            expire_tokens,
            methods=["POST"],
            name="control_expire_tokens",
        ),
        Route(
            "/_emulator/rate-limit",
            rate_limit,
            methods=["GET", "PUT", "DELETE"],
            name="control_rate_limit",
        ),
        Route("/_emulator/health", health, methods=["GET"], name="control_health"),
    ]
