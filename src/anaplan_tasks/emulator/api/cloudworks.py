"""CloudWorks API v2 routes: `/2/0/integrations…` and `/2/0/integrationflows…`.

Anaplan serves CloudWorks on its own host (`https://api.cloudworks.anaplan.com/2/0`) and again
under `https://api.anaplan.com/cloudworks/2/0`; the emulator serves both paths on its one
origin, so only the host differs from Anaplan's (reference §1.1, §11.1).

CloudWorks has its own wire, kept here rather than bent out of the Integration API's helpers
(reference §11.2):

- success: `{"status": {code, message}, <key>: …, "meta": {…}}` (`meta` last, with `paging` on
  lists: default page 25, `limit` capped at 250, `currentPageSize` the size really returned);
  a mutation answers the bare `{"status": …}`;
- errors: `{"status": {code, message}, "path", "timestamp"}` in CloudWorks' words (`Resource not
  found`, `Integration is already running`, …); a path CloudWorks does not route is an HTML 404
  from the web server (see `app.py`), so a client can tell a wrong path from a wrong id;
- a caller without a token is refused with 403 `Not Authorized` (see `auth.py`); one without a
  CloudWorks role with 403 `Not Permitted`, or 452 `Tenant not entitled` on the schedule routes
  and the import-dump route.

Routes only: parse, call `engine.cloudworks.CloudWorks` in a worker thread under the engine's
lease, serialise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..engine.cloudworks import BAD_BODY, TENANT_MAX, CloudWorks
from ..engine.cloudworks_host import EngineCloudWorksHost
from ..engine.contract import Page, Paged, Principal
from ..errors import BadRequest
from ..jsontext import JsonTooDeep, is_number, load_json
from .auth import principal_of
from .context import engine_of, leased
from .streams import ChunkedContent
from .wire import MAX_JSON_BODY, read_body

T = TypeVar("T")

BASES = ("/2/0", "/cloudworks/2/0")
"""CloudWorks' two base paths (its own host's, and the one under api.anaplan.com)."""

DEFAULT_PAGE = 25
MAX_PAGE = 250
SCHEDULER_INTERVAL = 1.0
"""Seconds between two looks at the schedules (on the emulator's clock)."""


def is_cloudworks_path(path: str) -> bool:
    """True for a path under CloudWorks' resources (routed or not)."""
    if path.startswith("/cloudworks/"):
        return True
    return path.startswith(("/2/0/integrations", "/2/0/integrationflows"))


_SERVICES_LOCK = threading.Lock()
_ENGINE_ATTRIBUTE = "_anaplan_tasks_cloudworks"


def service_of(engine: Any) -> CloudWorks | None:
    """The engine's CloudWorks service, None before CloudWorks' first use."""
    service: CloudWorks | None = getattr(engine, _ENGINE_ATTRIBUTE, None)
    return service


def cloudworks_of(request: Request) -> CloudWorks:
    """The engine's CloudWorks service, made on first use (and told of this app's resets).

    One per engine, however many apps serve it (a second would take the first's runs in flight
    for runs a stop cut short); it lives on the engine, and closes once the engine has closed
    (its scheduler notices within a second).
    """
    state = request.app.state
    service: CloudWorks | None = getattr(state, "cloudworks", None)
    if service is not None:
        return service
    engine = engine_of(request)
    with _SERVICES_LOCK:
        service = getattr(engine, _ENGINE_ATTRIBUTE, None)
        if service is None:
            emulator = getattr(state, "emulator", None)
            clock = getattr(emulator, "clock", None)
            host = EngineCloudWorksHost(engine)
            service = CloudWorks(host, **({"clock": clock} if clock else {}))
            service.start_scheduler(SCHEDULER_INTERVAL)
            setattr(engine, _ENGINE_ATTRIBUTE, service)
        control = getattr(state, "control", None)
        if control is not None and service.reset not in control.on_reset:
            control.on_reset.append(service.reset)
        state.cloudworks = service
    return service


async def _call(request: Request, work: Callable[[CloudWorks, Principal], T]) -> T:
    service = cloudworks_of(request)
    principal = principal_of(request)
    return await anyio.to_thread.run_sync(
        leased, engine_of(request), lambda: work(service, principal)
    )


def _schema(request: Request, name: str) -> str:
    base = str(request.base_url).rstrip("/")
    prefix = "/cloudworks/2/0" if request.url.path.startswith("/cloudworks/") else "/2/0"
    return f"{base}{prefix}/integrations/objects/{name}"


def _success(request: Request, key: str | None, payload: Any, schema: str, **meta: Any) -> Response:
    body: dict[str, Any] = {"status": {"code": 200, "message": "Success"}}
    if key is not None:
        body[key] = payload
        body["meta"] = {**meta, "schema": _schema(request, schema)}
    return JSONResponse(body)


def _done() -> Response:
    """CloudWorks' bare SuccessStatus."""
    return JSONResponse({"status": {"code": 200, "message": "Success"}})


def _paging(paged: Paged[Any]) -> dict[str, Any]:
    return {
        "currentPageSize": len(paged.items),
        "totalSize": paged.total_size,
        "offset": paged.offset,
    }


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not is_number(raw):
        raise BadRequest(name)  # CloudWorks names the offending parameter
    return int(raw)


def _page(request: Request) -> Page:
    limit = _int(request, "limit", DEFAULT_PAGE)
    offset = _int(request, "offset", 0)
    if limit < 1:
        raise BadRequest("limit")
    return Page(limit=min(limit, MAX_PAGE), offset=offset)


def _mine(request: Request) -> bool:
    value = request.query_params.get("myIntegrations", "0")
    if value not in ("0", "1", "true", "false"):
        raise BadRequest("myIntegrations")
    return value in ("1", "true")


async def _body(request: Request, *, required: bool = True) -> dict[str, Any]:
    raw = await read_body(request, MAX_JSON_BODY)
    if not raw.strip():
        if required:
            raise BadRequest(BAD_BODY)
        return {}
    try:
        data = load_json(raw)
    except (JsonTooDeep, ValueError, UnicodeDecodeError):
        raise BadRequest(BAD_BODY) from None
    if not isinstance(data, dict):
        raise BadRequest(BAD_BODY)
    return data


def _param(request: Request, name: str) -> str:
    value: str = request.path_params[name]
    return value


# == connections ============================================================================
async def list_connections(request: Request) -> Response:
    """The connections the caller sees, paged."""
    page = _page(request)
    paged = await _call(request, lambda cw, who: cw.connections(who, page))
    return _success(request, "connections", paged.items, "connections", paging=_paging(paged))


async def create_connection(request: Request) -> Response:
    """Create a connection `{type, body}`, validated against its bucket."""
    body = await _body(request)
    connection_id = await _call(request, lambda cw, who: cw.create_connection(who, body))
    return _success(request, "connections", {"connectionId": connection_id}, "connections")


async def replace_connection(request: Request) -> Response:
    """Replace a connection with a complete bare body (secrets included)."""
    body = await _body(request)
    connection_id = _param(request, "connectionId")
    await _call(
        request, lambda cw, who: cw.update_connection(who, connection_id, body, partial=False)
    )
    return _done()


async def patch_connection(request: Request) -> Response:
    """Change some fields of a connection."""
    body = await _body(request)
    connection_id = _param(request, "connectionId")
    await _call(
        request, lambda cw, who: cw.update_connection(who, connection_id, body, partial=True)
    )
    return _done()


async def delete_connection(request: Request) -> Response:
    """Delete a connection no integration uses."""
    connection_id = _param(request, "connectionId")
    await _call(request, lambda cw, who: cw.delete_connection(who, connection_id))
    return _done()


# == integrations ===========================================================================
async def list_integrations(request: Request) -> Response:
    """The integrations the caller sees, paged (`sortBy=name|-name`, `myIntegrations=1`)."""
    page = _page(request)
    sort_by = request.query_params.get("sortBy")
    mine = _mine(request)
    paged, count = await _call(
        request, lambda cw, who: cw.integrations(who, page, sort_by=sort_by, mine=mine)
    )
    return _success(
        request,
        "integrations",
        paged.items,
        "integrations",
        paging=_paging(paged),
        tenantCurrentCount=count,
        tenantMaxAllowed=TENANT_MAX,
    )


async def create_integration(request: Request) -> Response:
    """Create an import, export or process integration."""
    body = await _body(request)
    integration_id = await _call(request, lambda cw, who: cw.create_integration(who, body))
    return _success(request, "integration", {"integrationId": integration_id}, "integration")


async def get_integration(request: Request) -> Response:
    """One integration with its jobs and schedule."""
    integration_id = _param(request, "integrationId")
    found = await _call(request, lambda cw, who: cw.integration(who, integration_id))
    return _success(request, "integration", found, "integration")


async def replace_integration(request: Request) -> Response:
    """Replace an integration with a full create body."""
    body = await _body(request)
    integration_id = _param(request, "integrationId")
    await _call(request, lambda cw, who: cw.replace_integration(who, integration_id, body))
    return _done()


async def delete_integration(request: Request) -> Response:
    """Delete an integration that is not running."""
    integration_id = _param(request, "integrationId")
    await _call(request, lambda cw, who: cw.delete_integration(who, integration_id))
    return _done()


async def run_integration(request: Request) -> Response:
    """Run an integration now; the run's id."""
    await read_body(request, MAX_JSON_BODY)  # the SDK posts an empty body; nothing is read
    integration_id = _param(request, "integrationId")
    run_id = await _call(request, lambda cw, who: cw.run_integration(who, integration_id))
    return _success(request, "run", {"id": run_id}, "run")


async def cancel_integration(request: Request) -> Response:
    """Cancel the integration's run in flight (409 when none is)."""
    integration_id = _param(request, "integrationId")
    await _call(request, lambda cw, who: cw.cancel(who, integration_id))
    return JSONResponse(
        {
            "status": {"code": 200, "message": "Success"},
            "success": True,
            "message": {"integration_id": integration_id, "state": "cancelled"},
        }
    )


_NOT_FOUND_PAGE = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n"
)


def html_not_found() -> Response:
    """The web server's own 404 page: what CloudWorks answers for a path it does not route."""
    return HTMLResponse(_NOT_FOUND_PAGE, status_code=404)


async def removed_route(request: Request) -> Response:
    """`GET /integrations/anaplanModels/{modelId}`: removed, answers the web server's 404."""
    return html_not_found()


# == runs ===================================================================================
async def run_history(request: Request) -> Response:
    """An integration's runs, newest first (`offset`/`limit` optional)."""
    integration_id = _param(request, "integrationId")
    page = _page(request)
    history = await _call(request, lambda cw, who: cw.run_history(who, integration_id, page))
    return _success(request, "history_of_runs", history, "runs")


async def run_status(request: Request) -> Response:
    """One run's status (its task's status is read too)."""
    run_id = _param(request, "runId")
    run = await _call(request, lambda cw, who: cw.run_status(who, run_id))
    return _success(request, "run", run, "run")


async def run_errors(request: Request) -> Response:
    """A run's errors: one object, `{}` for a clean run."""
    run_id = _param(request, "runId")
    found = await _call(request, lambda cw, who: cw.run_errors(who, run_id))
    return _success(request, "runs", found, "runerror")


async def import_dump(request: Request) -> Response:
    """An import run's failure dump (CSV)."""
    run_id = _param(request, "runId")
    chunks = await _call(request, lambda cw, who: cw.run_dump(who, run_id, None))
    return ChunkedContent(iter(chunks), media_type="text/csv; charset=utf-8")


async def process_dump(request: Request) -> Response:
    """The failure dump of one import of a process run (CSV)."""
    run_id = _param(request, "runId")
    action_id = _param(request, "actionId")
    chunks = await _call(request, lambda cw, who: cw.run_dump(who, run_id, action_id))
    return ChunkedContent(iter(chunks), media_type="text/csv; charset=utf-8")


# == schedules ==============================================================================
async def create_schedule(request: Request) -> Response:
    """Schedule an integration `{integrationId, schedule}` (one schedule each)."""
    body = await _body(request)
    integration_id = _param(request, "integrationId")
    await _call(request, lambda cw, who: cw.set_schedule(who, integration_id, body, replace=False))
    return _done()


async def replace_schedule(request: Request) -> Response:
    """Replace an integration's schedule (`integrationId` in the body too)."""
    body = await _body(request)
    integration_id = _param(request, "integrationId")
    await _call(request, lambda cw, who: cw.set_schedule(who, integration_id, body, replace=True))
    return _done()


async def delete_schedule(request: Request) -> Response:
    """Remove an integration's schedule."""
    integration_id = _param(request, "integrationId")
    await _call(request, lambda cw, who: cw.delete_schedule(who, integration_id))
    return _done()


async def schedule_status(request: Request) -> Response:
    """Enable or disable an integration's schedule."""
    integration_id = _param(request, "integrationId")
    status = _param(request, "status")
    await _call(request, lambda cw, who: cw.schedule_status(who, integration_id, status))
    return _done()


# == notifications ==========================================================================
async def create_notification(request: Request) -> Response:
    """Create a notification configuration for an integration that has none."""
    body = await _body(request)
    notification_id = await _call(request, lambda cw, who: cw.create_notification(who, body))
    return _success(request, "notification", {"notificationId": notification_id}, "notification")


async def get_notification(request: Request) -> Response:
    """A notification configuration, users with their names."""
    notification_id = _param(request, "notificationId")
    found = await _call(request, lambda cw, who: cw.notification(who, notification_id))
    return _success(request, "notifications", found, "notification")


async def replace_notification(request: Request) -> Response:
    """Replace a notification configuration."""
    body = await _body(request)
    notification_id = _param(request, "notificationId")
    await _call(request, lambda cw, who: cw.replace_notification(who, notification_id, body))
    return _done()


async def delete_notification(request: Request) -> Response:
    """Delete a notification configuration."""
    notification_id = _param(request, "notificationId")
    await _call(request, lambda cw, who: cw.delete_notification(who, notification_id))
    return _done()


# == integration flows ======================================================================
async def list_flows(request: Request) -> Response:
    """The integration flows the caller sees, paged."""
    page = _page(request)
    mine = _mine(request)
    paged = await _call(request, lambda cw, who: cw.flows(who, page, mine=mine))
    return _success(
        request, "integrationFlows", paged.items, "integrationflows", paging=_paging(paged)
    )


async def create_flow(request: Request) -> Response:
    """Create an integration flow (two enabled steps or more)."""
    body = await _body(request)
    flow_id = await _call(request, lambda cw, who: cw.create_flow(who, body))
    return _success(request, "integrationFlow", {"integrationFlowId": flow_id}, "integrationflows")


async def get_flow(request: Request) -> Response:
    """One integration flow with its steps."""
    flow_id = _param(request, "integrationFlowId")
    found = await _call(request, lambda cw, who: cw.flow(who, flow_id))
    return _success(request, "integrationFlow", found, "integrationflows")


async def replace_flow(request: Request) -> Response:
    """Replace an integration flow with a full create body."""
    body = await _body(request)
    flow_id = _param(request, "integrationFlowId")
    await _call(request, lambda cw, who: cw.replace_flow(who, flow_id, body))
    return _done()


async def delete_flow(request: Request) -> Response:
    """Delete an integration flow that is not running."""
    flow_id = _param(request, "integrationFlowId")
    await _call(request, lambda cw, who: cw.delete_flow(who, flow_id))
    return _done()


async def run_flow(request: Request) -> Response:
    """Run an integration flow (`stepsToRun` to run some of its steps)."""
    body = await _body(request, required=False)
    flow_id = _param(request, "integrationFlowId")
    run_id = await _call(request, lambda cw, who: cw.run_flow(who, flow_id, body))
    return _success(request, "run", {"id": run_id}, "run")


_TABLE: list[tuple[str, Callable[[Request], Any], list[str], str]] = [
    # literal segments before `{integrationId}`, so `/integrations/connections` is no id
    ("/integrations/connections", list_connections, ["GET"], "cw_list_connections"),
    ("/integrations/connections", create_connection, ["POST"], "cw_create_connection"),
    ("/integrations/connections/{connectionId}", replace_connection, ["PUT"], "cw_edit_connection"),
    (
        "/integrations/connections/{connectionId}",
        patch_connection,
        ["PATCH"],
        "cw_patch_connection",
    ),
    (
        "/integrations/connections/{connectionId}",
        delete_connection,
        ["DELETE"],
        "cw_delete_connection",
    ),
    ("/integrations/notification", create_notification, ["POST"], "cw_create_notification"),
    (
        "/integrations/notification/{notificationId}",
        get_notification,
        ["GET"],
        "cw_get_notification",
    ),
    (
        "/integrations/notification/{notificationId}",
        replace_notification,
        ["PUT"],
        "cw_edit_notification",
    ),
    (
        "/integrations/notification/{notificationId}",
        delete_notification,
        ["DELETE"],
        "cw_delete_notification",
    ),
    ("/integrations/runs/{integrationId}", run_history, ["GET"], "cw_run_history"),
    ("/integrations/runerror/{runId}", run_errors, ["GET"], "cw_run_errors"),
    ("/integrations/run/{runId}", run_status, ["GET"], "cw_run_status"),
    ("/integrations/run/{runId}/dumps", import_dump, ["GET"], "cw_import_dump"),
    (
        "/integrations/run/{runId}/process/import/{actionId}/dumps",
        process_dump,
        ["GET"],
        "cw_process_dump",
    ),
    ("/integrations/anaplanModels/{modelId}", removed_route, ["GET"], "cw_removed_by_model"),
    ("/integrations", list_integrations, ["GET"], "cw_list_integrations"),
    ("/integrations", create_integration, ["POST"], "cw_create_integration"),
    ("/integrations/{integrationId}", get_integration, ["GET"], "cw_get_integration"),
    ("/integrations/{integrationId}", replace_integration, ["PUT"], "cw_edit_integration"),
    ("/integrations/{integrationId}", delete_integration, ["DELETE"], "cw_delete_integration"),
    ("/integrations/{integrationId}/run", run_integration, ["POST"], "cw_run_integration"),
    ("/integrations/{integrationId}/cancel", cancel_integration, ["POST"], "cw_cancel_integration"),
    ("/integrations/{integrationId}/schedule", create_schedule, ["POST"], "cw_create_schedule"),
    ("/integrations/{integrationId}/schedule", replace_schedule, ["PUT"], "cw_edit_schedule"),
    ("/integrations/{integrationId}/schedule", delete_schedule, ["DELETE"], "cw_delete_schedule"),
    (
        "/integrations/{integrationId}/schedule/status/{status}",
        schedule_status,
        ["POST"],
        "cw_schedule_status",
    ),
    ("/integrationflows", list_flows, ["GET"], "cw_list_flows"),
    ("/integrationflows", create_flow, ["POST"], "cw_create_flow"),
    ("/integrationflows/{integrationFlowId}", get_flow, ["GET"], "cw_get_flow"),
    ("/integrationflows/{integrationFlowId}", replace_flow, ["PUT"], "cw_edit_flow"),
    ("/integrationflows/{integrationFlowId}", delete_flow, ["DELETE"], "cw_delete_flow"),
    ("/integrationflows/{integrationFlowId}/run", run_flow, ["POST"], "cw_run_flow"),
]


async def fire_schedules(request: Request) -> Response:
    """Control: start a run of every schedule due on the emulator's clock now; their run ids.

    The emulator also looks at its schedules once a second; this fires them at once (a test
    that moved its clock need not wait)."""
    service = cloudworks_of(request)
    started = await anyio.to_thread.run_sync(leased, engine_of(request), service.fire_due)
    return JSONResponse({"runs": started})


def cloudworks_routes() -> list[Route]:
    """Every CloudWorks route under both bases (`/2/0` and `/cloudworks/2/0`), and the control
    route that fires due schedules."""
    routes: list[Route] = [
        Route(
            "/_emulator/cloudworks/schedules/fire",
            fire_schedules,
            methods=["POST"],
            name="control_cloudworks_fire",
        )
    ]
    for base in BASES:
        suffix = "" if base == "/2/0" else "_cloudworks_base"
        for path, endpoint, methods, name in _TABLE:
            routes.append(Route(base + path, endpoint, methods=methods, name=name + suffix))
    return routes
