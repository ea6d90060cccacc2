"""ALM routes: `/2/0/models/{modelId}/alm/…`, `PUT …/onlineStatus`, and the structure control.

Routes only: parse the request, call `AlmService` in a worker thread, serialise the shared
models. ALM paths are Anaplan's `/2/0/models/{modelId}/…`; the
`/2/0/workspaces/{workspaceId}/models/{modelId}/…` form (used in one of Anaplan's examples) works
too, and answers 404 when the model is not in that workspace.

Control (no token, like every `/_emulator/…` path):

- `GET /_emulator/models/{modelId}/structure` → the model's structure (definition format).
- `POST /_emulator/models/{modelId}/structure` with one structural edit or a list of them
  (`anaplan_tasks.emulator.alm.edits`: addList, removeList, renameList, addModule, removeModule,
  renameModule, addLineItem, removeLineItem, renameLineItem, replace) → 200 and the new
  structure; a 400 names what could not apply, and nothing changes.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..alm.engine_host import EngineAlmHost
from ..alm.service import AlmService
from ..alm.store import AlmStore, TaskKind
from ..engine.contract import Principal
from ..errors import BadRequest, NotAcceptable
from ..jsontext import load_json
from .auth import principal_of
from .context import engine_of, leased, model_scoped
from .wire import MAX_JSON_BODY, envelope, listing, no_content, parse_page, read_body, wire

T = TypeVar("T")

REPORT_MEDIA_TYPE = "application/octet-stream"
_ACCEPTABLE = frozenset({REPORT_MEDIA_TYPE, "application/*", "*/*"})
_TASK_KINDS: tuple[TaskKind, ...] = ("syncTasks", "comparisonReportTasks", "summaryReportTasks")


def alm_service_of(request: Request) -> AlmService:
    """The app's ALM service, made on first use over the app's engine."""
    state = request.app.state
    service: AlmService | None = getattr(state, "alm", None)
    if service is None:
        engine = engine_of(request)
        host = EngineAlmHost(engine)
        control = getattr(state, "control", None)

        def polls_to_complete() -> int:
            # ALM tasks follow the `polls` progression (a test knob); otherwise done at start.
            progression = getattr(control, "progression", None)
            if progression is not None and progression.mode == "polls":
                return int(progression.polls)
            return 0

        store = AlmStore(host.alm_database_path())
        service = AlmService(host, store, polls_to_complete=polls_to_complete)
        weakref.finalize(engine, store.close)  # closes (and removes a temporary) with the engine
        state.alm = service
    return service


async def _in_thread(request: Request, work: Callable[[AlmService, Principal], T]) -> T:
    service = alm_service_of(request)
    principal = principal_of(request)
    workspace_id = request.path_params.get("workspaceId")

    def checked(service: AlmService, principal: Principal) -> T:
        if workspace_id is not None:  # the workspace form: the model must live there
            engine_of(request).resolve_model(principal, workspace_id, _model(request))
        return work(service, principal)

    return await anyio.to_thread.run_sync(
        leased, engine_of(request), partial(checked, service, principal)
    )


async def _json_body(request: Request) -> dict[str, Any] | None:
    # ALM's own messages for bad bodies (the service words the rest).
    body = await read_body(request, MAX_JSON_BODY)
    if not body.strip():
        return None
    try:
        data = load_json(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Check if the content is compatible with JSON format.") from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise BadRequest("The data provided is not in the expected format. Change the data format.")
    return data


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _model(request: Request) -> str:
    model_id: str = request.path_params["modelId"]
    return model_id


# -- revisions -----------------------------------------------------------------------------------


async def revisions(request: Request) -> Response:
    """`GET|POST /models/{modelId}/alm/revisions`."""
    model_id = _model(request)
    if request.method == "POST":
        body = await _json_body(request)
        revision = await _in_thread(
            request, lambda alm, who: alm.create_revision(who, model_id, body)
        )
        return envelope(request, "revision", status_code=201, revision=wire(revision))
    page = parse_page(request)
    query = request.query_params
    paged = await _in_thread(
        request,
        lambda alm, who: alm.revisions(
            who,
            model_id,
            page,
            applied_after=query.get("appliedAfter"),
            applied_before=query.get("appliedBefore"),
            sort=query.get("sort"),
        ),
    )
    return listing(request, "revisions", "revision", paged, page=page)


async def latest_revision(request: Request) -> Response:
    """`GET /models/{modelId}/alm/latestRevision` (no `revisions` key when there is none)."""
    model_id = _model(request)
    revision = await _in_thread(request, lambda alm, who: alm.latest_revision(who, model_id))
    if revision is None:
        return envelope(request, "revision")
    return envelope(request, "revision", revisions=[wire(revision)])


async def syncable_revisions(request: Request) -> Response:
    """`GET /models/{modelId}/alm/syncableRevisions?sourceModelId=`."""
    model_id = _model(request)
    source = request.query_params.get("sourceModelId")
    found = await _in_thread(
        request, lambda alm, who: alm.syncable_revisions(who, model_id, source)
    )
    if not found:
        return envelope(request, "revision")
    return envelope(request, "revision", revisions=[wire(item) for item in found])


async def applied_to_models(request: Request) -> Response:
    """`GET /models/{modelId}/alm/revisions/{revisionId}/appliedToModels`."""
    model_id = _model(request)
    revision_id: str = request.path_params["revisionId"]
    found = await _in_thread(
        request, lambda alm, who: alm.applied_to_models(who, model_id, revision_id)
    )
    return envelope(request, "revision", appliedToModels=[wire(item) for item in found])


async def online_status(request: Request) -> Response:
    """`PUT /models/{modelId}/onlineStatus` → 204."""
    model_id = _model(request)
    try:
        body = await _json_body(request)
    except BadRequest:
        raise BadRequest("Error parsing request body as JSON") from None
    await _in_thread(request, lambda alm, who: alm.set_online_status(who, model_id, body))
    return no_content()


# -- tasks ---------------------------------------------------------------------------------------


def _task_routes(kind: TaskKind) -> list[BaseRoute]:
    async def tasks(request: Request) -> Response:
        model_id = _model(request)
        if request.method == "POST":
            body = await _json_body(request)
            base = _base_url(request)
            started = await _in_thread(
                request, lambda alm, who: alm.start_task(who, kind, model_id, body, base_url=base)
            )
            response = envelope(request, "taskWithUrl", status_code=201, task=wire(started))
            response.headers["Location"] = started.task_url or ""
            return response
        listed = await _in_thread(request, lambda alm, who: alm.tasks(who, kind, model_id))
        if not listed:
            return envelope(request, "task")
        return envelope(request, "task", tasks=[wire(item) for item in listed])

    async def task(request: Request) -> Response:
        model_id = _model(request)
        task_id: str = request.path_params["taskId"]
        base = _base_url(request)
        status = await _in_thread(
            request, lambda alm, who: alm.task(who, kind, model_id, task_id, base_url=base)
        )
        schema = "task" if kind == "syncTasks" else "syncTask"
        return envelope(request, schema, task=wire(status))

    name = f"alm_{kind}"
    return [
        *model_scoped(f"/alm/{kind}", tasks, ["GET", "POST"], name),
        *model_scoped(f"/alm/{kind}/{{taskId}}", task, ["GET"], f"{name}_one"),
    ]


# -- reports -------------------------------------------------------------------------------------


def accepts_octet_stream(accept: str | None) -> bool:
    """True when an `Accept` header allows `application/octet-stream` (no header: anything)."""
    if accept is None or not accept.strip():
        return True
    for part in accept.split(","):
        media, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media.strip().lower() in _ACCEPTABLE and quality > 0:
            return True
    return False


async def comparison_report(request: Request) -> Response:
    """`GET …/alm/comparisonReports/{targetRevisionId}/{sourceRevisionId}` (octet-stream)."""
    if not accepts_octet_stream(request.headers.get("accept")):
        raise NotAcceptable("Not Acceptable")
    model_id = _model(request)
    target: str = request.path_params["targetRevisionId"]
    source: str = request.path_params["sourceRevisionId"]
    content = await _in_thread(
        request, lambda alm, who: alm.comparison_report(who, model_id, target, source)
    )
    return Response(content, media_type=REPORT_MEDIA_TYPE)


async def summary_report(request: Request) -> Response:
    """`GET …/alm/summaryReports/{targetRevisionId}/{sourceRevisionId}` (JSON)."""
    model_id = _model(request)
    target: str = request.path_params["targetRevisionId"]
    source: str = request.path_params["sourceRevisionId"]
    summary = await _in_thread(
        request, lambda alm, who: alm.summary_report(who, model_id, target, source)
    )
    return envelope(request, "summaryReport", summaryReport=wire(summary))


# -- control -------------------------------------------------------------------------------------


async def structure_control(request: Request) -> Response:
    """`GET|POST /_emulator/models/{modelId}/structure`: read or edit a model's structure."""
    service = alm_service_of(request)
    model_id = _model(request)
    if request.method == "GET":
        structure = await anyio.to_thread.run_sync(
            leased, engine_of(request), lambda: service.structure(model_id)
        )
    else:
        raw = await read_body(request, MAX_JSON_BODY)
        try:
            data = load_json(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The body must be a JSON structural edit or a list of them.") from None
        structure = await anyio.to_thread.run_sync(
            leased, engine_of(request), lambda: service.edit_structure(model_id, data)
        )
    return JSONResponse(structure.model_dump(mode="json"))


def alm_routes() -> list[BaseRoute]:
    """Every ALM route, for the app's route list."""
    endpoints: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str], str]] = [
        ("/onlineStatus", online_status, ["PUT"], "alm_online_status"),
        ("/alm/revisions", revisions, ["GET", "POST"], "alm_revisions"),
        ("/alm/latestRevision", latest_revision, ["GET"], "alm_latest_revision"),
        ("/alm/syncableRevisions", syncable_revisions, ["GET"], "alm_syncable_revisions"),
        (
            "/alm/revisions/{revisionId}/appliedToModels",
            applied_to_models,
            ["GET"],
            "alm_applied_to_models",
        ),
        (
            "/alm/comparisonReports/{targetRevisionId}/{sourceRevisionId}",
            comparison_report,
            ["GET"],
            "alm_comparison_report",
        ),
        (
            "/alm/summaryReports/{targetRevisionId}/{sourceRevisionId}",
            summary_report,
            ["GET"],
            "alm_summary_report",
        ),
    ]
    routes: list[BaseRoute] = []
    for suffix, endpoint, methods, name in endpoints:
        routes += model_scoped(suffix, endpoint, methods, name)
    for kind in _TASK_KINDS:
        routes += _task_routes(kind)
    routes.append(
        Route(
            "/_emulator/models/{modelId}/structure",
            structure_control,
            methods=["GET", "POST"],
            name="control_structure",
        )
    )
    return routes
