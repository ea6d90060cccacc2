"""Tasks of imports, exports, actions and processes, and the failure dumps they leave.

`POST …/{kind}/{id}/tasks` needs a JSON body with `localeName` (a 400 without it, as on
Anaplan) and may carry `mappingParameters`. An `Idempotency-Key` header (not an Anaplan feature:
our client sends one so that a retried start never runs an action twice) is passed to the engine,
which answers a repeated key with the task it already created; the answer echoes the key, which
is how a client learns that this server honours it.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...models import BulkTaskStatus
from ..engine.contract import ActionKind, Engine, MappingParameter, Principal, TaskStart
from ..engine.tasks import TasksMixin
from ..errors import BadRequest, NotFound
from .context import WORKSPACE_PREFIX, in_model, model_id_of, model_scoped
from .files import chunk_index
from .streams import ChunkedContent
from .wire import envelope, flag, listing, page_locally, parse_page, read_json_object

KINDS: tuple[ActionKind, ...] = ("imports", "exports", "actions", "processes")

MAX_IDEMPOTENCY_KEY = 255


def _kind(request: Request) -> ActionKind:
    parts = request.scope["path"].split("/")
    segment = parts[parts.index("models") + 2]
    for kind in KINDS:
        if kind == segment:
            return kind
    raise NotFound(f"Unknown action kind '{segment}'.")


def parse_task_start(body: dict[str, Any], idempotency_key: str | None) -> TaskStart:
    """Validate a `POST …/tasks` body: `localeName` required, `mappingParameters` optional."""
    locale = body.get("localeName")
    if not isinstance(locale, str) or not locale.strip():
        raise BadRequest("Expected mandatory field 'localeName' to be present and not empty.")
    raw_parameters = body.get("mappingParameters")
    if raw_parameters is None:
        raw_parameters = []
    if not isinstance(raw_parameters, list):
        raise BadRequest("'mappingParameters' must be a list of {entityType, entityName}.")
    parameters = []
    for position, raw in enumerate(raw_parameters):
        if not isinstance(raw, dict):
            raise BadRequest(f"mappingParameters[{position}] must be an object.")
        entity_type = raw.get("entityType")
        entity_name = raw.get("entityName")
        import_id = raw.get("importId")
        if not isinstance(entity_type, str) or not entity_type:
            raise BadRequest(f"mappingParameters[{position}] needs a non-empty 'entityType'.")
        if not isinstance(entity_name, str):
            raise BadRequest(f"mappingParameters[{position}] needs an 'entityName'.")
        if import_id is not None and not isinstance(import_id, str):
            raise BadRequest(f"mappingParameters[{position}].importId must be a string.")
        parameters.append(MappingParameter(entity_type, entity_name, import_id))
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise BadRequest(
                f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} characters."
            )
    return TaskStart(
        locale_name=locale,
        mapping_parameters=tuple(parameters),
        idempotency_key=idempotency_key,
    )


def _task_response(request: Request, task: BulkTaskStatus) -> Response:
    return envelope(request, "task", model_id=model_id_of(request), task=task.to_wire())


async def start_task(request: Request) -> Response:
    """Start a task of this action; 200 with the new task."""
    kind = _kind(request)
    action_id: str = request.path_params["actionId"]
    body = await read_json_object(request)
    start = parse_task_start(body, request.headers.get("idempotency-key"))
    task = await in_model(
        request,
        lambda engine, principal, model_id: engine.start_task(
            principal, model_id, kind, action_id, start
        ),
    )
    response = _task_response(request, task)
    if start.idempotency_key is not None:
        response.headers["Idempotency-Key"] = start.idempotency_key  # says: keys are honoured
    return response


async def list_tasks(request: Request) -> Response:
    """Tasks of this action, oldest first (`tasks` left out when there are none)."""
    kind = _kind(request)
    action_id: str = request.path_params["actionId"]
    page = parse_page(request)
    paged = await in_model(
        request,
        lambda engine, principal, model_id: engine.tasks(
            principal, model_id, kind, action_id, page
        ),
    )
    return listing(request, "tasks", "task", paged, model_id=model_id_of(request), page=page)


async def get_task(request: Request) -> Response:
    """A task's status (`includeProcessDetails=true` adds durations to process results)."""
    kind = _kind(request)
    action_id: str = request.path_params["actionId"]
    task_id: str = request.path_params["taskId"]
    details = flag(request, "includeProcessDetails")
    # A status read takes microseconds, except under the `polls` progression, where the read
    # that completes a task waits for it to finish: only then does it need a worker thread.
    polls_mode = request.app.state.control.progression.mode == "polls"
    task = await in_model(
        request,
        lambda engine, principal, model_id: engine.task(
            principal, model_id, kind, action_id, task_id, include_process_details=details
        ),
        inline=not polls_mode,
    )
    return _task_response(request, task)


async def cancel_task(request: Request) -> Response:
    """Ask a task to cancel; 200 with its status (a finished task is returned unchanged)."""
    kind = _kind(request)
    action_id: str = request.path_params["actionId"]
    task_id: str = request.path_params["taskId"]
    task = await in_model(
        request,
        lambda engine, principal, model_id: engine.cancel_task(
            principal, model_id, kind, action_id, task_id
        ),
    )
    return _task_response(request, task)


def _dump_target(request: Request) -> tuple[ActionKind, str, str, str | None]:
    return (
        _kind(request),
        request.path_params["actionId"],
        request.path_params["taskId"],
        request.path_params.get("objectId"),
    )


async def list_dump_chunks(request: Request) -> Response:
    """The chunks of a failure dump."""
    kind, action_id, task_id, object_id = _dump_target(request)
    page = parse_page(request)
    chunks = await in_model(
        request,
        lambda engine, principal, model_id: engine.dump_chunks(
            principal, model_id, kind, action_id, task_id, object_id
        ),
    )
    return listing(
        request,
        "chunks",
        "chunk",
        page_locally(chunks, page),
        model_id=model_id_of(request),
        page=page,
    )


async def get_dump_chunk(request: Request) -> Response:
    """One chunk of a failure dump."""
    kind, action_id, task_id, object_id = _dump_target(request)
    index = chunk_index(request)
    data = await in_model(
        request,
        lambda engine, principal, model_id: engine.read_dump_chunk(
            principal, model_id, kind, action_id, task_id, object_id, index
        ),
    )
    return Response(data, media_type="application/octet-stream")


async def get_whole_dump(request: Request) -> Response:
    """A whole failure dump (CSV), streamed chunk after chunk."""
    kind, action_id, task_id, object_id = _dump_target(request)

    def open_dump(engine: Engine, principal: Principal, model_id: str) -> list[bytes]:
        chunks = engine.dump_content(principal, model_id, kind, action_id, task_id, object_id)
        if not chunks:
            raise NotFound(f"Task {task_id} has no failure dump.")
        return chunks

    content = await in_model(request, open_dump)
    return ChunkedContent(iter(content), media_type="text/plain; charset=utf-8")


async def get_solution_log(request: Request) -> Response:
    """An optimizer run's solution log, as text (workspace administrators only)."""
    action_id = request.path_params["actionId"]
    correlation_id = request.path_params["correlationId"]
    text = await in_model(
        request,
        lambda engine, who, model_id: cast("TasksMixin", engine).solution_log(
            who, model_id, action_id, correlation_id
        ),
    )
    return Response(text, media_type="text/plain; charset=utf-8")


def task_routes() -> list[Route]:
    """Routes for tasks of every action kind and for failure dumps, in both path forms."""
    routes: list[Route] = []
    for kind in KINDS:
        base = f"/{kind}/{{actionId}}/tasks"
        routes += model_scoped(base, start_task, ["POST"], f"start_{kind}_task")
        routes += model_scoped(base, list_tasks, ["GET"], f"list_{kind}_tasks")
        routes += model_scoped(base + "/{taskId}", get_task, ["GET"], f"get_{kind}_task")
        routes += model_scoped(base + "/{taskId}", cancel_task, ["DELETE"], f"cancel_{kind}_task")
    dump = "/imports/{actionId}/tasks/{taskId}/dump"
    routes += model_scoped(dump, get_whole_dump, ["GET"], "get_import_dump")
    routes += model_scoped(dump + "/chunks", list_dump_chunks, ["GET"], "list_import_dump_chunks")
    routes += model_scoped(
        dump + "/chunks/{chunkId}", get_dump_chunk, ["GET"], "get_import_dump_chunk"
    )
    # Only the workspace-prefixed form is known (reference §10.2).
    log = "/optimizeActions/{actionId}/tasks/{correlationId}/solutionLogs"
    routes.append(
        Route(WORKSPACE_PREFIX + log, get_solution_log, methods=["GET"], name="get_solution_log")
    )
    dumps = "/processes/{actionId}/tasks/{taskId}/dumps/{objectId}"
    routes += model_scoped(dumps, get_whole_dump, ["GET"], "get_process_dump")
    routes += model_scoped(dumps + "/chunks", list_dump_chunks, ["GET"], "list_process_dump_chunks")
    routes += model_scoped(
        dumps + "/chunks/{chunkId}", get_dump_chunk, ["GET"], "get_process_dump_chunk"
    )
    return routes
