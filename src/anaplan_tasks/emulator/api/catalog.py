"""Users, workspaces, models and the action catalogue (imports, exports, actions, processes)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..engine.contract import Engine, Page, Paged, Principal
from ..errors import NotFound
from .context import in_model, model_id_of, model_scoped, run
from .wire import envelope, flag, listing, parse_page, wire

# Model fields Anaplan only sends with `modelDetails=true` (and on the single-model GET).
_MODEL_DETAIL_KEYS = (
    "lastSavedSerialNumber",
    "lastModifiedByUserGuid",
    "memoryUsage",
    "isoCreationDate",
    "lastModified",
)
_WORKSPACE_TENANT_KEYS = ("sizeAllowance", "currentSize")


def _without(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in keys}


def _replaced(paged: Paged[Any], items: list[dict[str, Any]]) -> Paged[dict[str, Any]]:
    return Paged(items=items, total_size=paged.total_size, offset=paged.offset)


async def users_me(request: Request) -> Response:
    """The signed-in user."""
    user = await run(request, lambda engine, principal: engine.user(principal), inline=True)
    return envelope(request, "user", user=wire(user))


async def list_workspaces(request: Request) -> Response:
    """Workspaces granted to the caller (`tenantDetails=true` adds sizes)."""
    page = parse_page(request)
    paged = await run(request, lambda engine, principal: engine.workspaces(principal, page))
    keep_sizes = flag(request, "tenantDetails")
    items = [
        wire(item) if keep_sizes else _without(wire(item), _WORKSPACE_TENANT_KEYS)
        for item in paged.items
    ]
    return listing(request, "workspaces", "workspace", _replaced(paged, items), page=page)


async def get_workspace(request: Request) -> Response:
    """One workspace granted to the caller."""
    workspace_id = request.path_params["workspaceId"]
    paged = await run(
        request,
        lambda engine, principal: engine.workspaces(principal, Page(limit=1_000_000)),
    )
    for workspace in paged.items:
        if workspace.id == workspace_id:
            data = wire(workspace)
            if not flag(request, "tenantDetails"):
                data = _without(data, _WORKSPACE_TENANT_KEYS)
            return envelope(request, "workspace", workspace=data)
    raise NotFound(f"Workspace {workspace_id} not found.")


async def list_models(request: Request) -> Response:
    """Models the caller can see, in all workspaces or in one (`modelDetails=true` adds more)."""
    page = parse_page(request)
    workspace_id = request.path_params.get("workspaceId")
    paged = await run(
        request, lambda engine, principal: engine.models(principal, workspace_id, page)
    )
    details = flag(request, "modelDetails")
    items = []
    for model in paged.items:
        data = _without(wire(model), ("modelTransactionRunning",))
        items.append(data if details else _without(data, _MODEL_DETAIL_KEYS))
    return listing(request, "models", "model", _replaced(paged, items), page=page)


async def get_model(request: Request) -> Response:
    """One model, with its details."""
    model_id = model_id_of(request)
    model = await run(request, lambda engine, principal: engine.model(principal, model_id))
    return envelope(request, "model", model=wire(model))


def _request_status(running: bool) -> dict[str, Any]:
    # The engine does not expose which task holds the model, so `taskId` stays null.
    return {
        "peakMemoryUsageEstimate": None,
        "peakMemoryUsageTime": None,
        "progress": 0.0 if running else -1.0,
        "currentStep": "Processing ..." if running else "Open",
        "tooltip": None,
        "exportTaskType": None,
        "creationTime": int(time.time() * 1000),
        "taskId": None,
    }


async def model_status(request: Request) -> Response:
    """The model's runtime status: the bare `requestStatus` on GET, an envelope on POST."""
    model = await in_model(
        request, lambda engine, principal, model_id: engine.model(principal, model_id), inline=True
    )
    status = _request_status(bool(model.model_transaction_running))
    if await run(request, lambda engine, principal: _closed(engine, model.id)):
        status["currentStep"] = "Closed"
    if request.method == "GET":
        return JSONResponse({"requestStatus": status})
    return envelope(request, "modelStatus", model_id=model.id, requestStatus=status)


def _closed(engine: Engine, model_id: str) -> bool:
    is_closed = getattr(engine, "is_closed", None)
    return bool(is_closed(model_id)) if is_closed is not None else False


ListFetch = Callable[[Engine, Principal, str, Page], Paged[Any]]


def _catalogue_listing(
    plural: str, singular: str, fetch: ListFetch, doc: str
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint listing one kind of action of the model, paged, in Anaplan's envelope."""

    async def endpoint(request: Request) -> Response:
        page = parse_page(request)
        paged = await in_model(
            request, lambda engine, principal, model_id: fetch(engine, principal, model_id, page)
        )
        return listing(request, plural, singular, paged, model_id=model_id_of(request), page=page)

    endpoint.__doc__ = doc
    endpoint.__name__ = f"list_{plural}"
    return endpoint


list_imports = _catalogue_listing(
    "imports", "import", lambda e, who, m, page: e.imports(who, m, page), "Import definitions."
)
list_exports = _catalogue_listing(
    "exports", "export", lambda e, who, m, page: e.exports(who, m, page), "Export definitions."
)
list_actions = _catalogue_listing(
    "actions", "action", lambda e, who, m, page: e.actions(who, m, page), "Other (`117…`) actions."
)
list_processes = _catalogue_listing(
    "processes", "process", lambda e, who, m, page: e.processes(who, m, page), "Processes."
)


async def get_import(request: Request) -> Response:
    """One import's metadata."""
    import_id = request.path_params["importId"]
    metadata = await in_model(
        request,
        lambda engine, principal, model_id: engine.import_metadata(principal, model_id, import_id),
    )
    return envelope(
        request, "importMetadata", model_id=model_id_of(request), importMetadata=wire(metadata)
    )


async def get_export(request: Request) -> Response:
    """One export's metadata."""
    export_id = request.path_params["exportId"]
    metadata = await in_model(
        request,
        lambda engine, principal, model_id: engine.export_metadata(principal, model_id, export_id),
    )
    return envelope(
        request, "exportMetadata", model_id=model_id_of(request), exportMetadata=wire(metadata)
    )


async def get_action(request: Request) -> Response:
    """One action."""
    action_id = request.path_params["actionId"]
    action = await in_model(
        request,
        lambda engine, principal, model_id: engine.action(principal, model_id, action_id),
    )
    return envelope(request, "action", model_id=model_id_of(request), action=wire(action))


async def get_process(request: Request) -> Response:
    """One process and its actions in execution order."""
    process_id = request.path_params["processId"]
    metadata = await in_model(
        request,
        lambda engine, principal, model_id: engine.process_metadata(
            principal, model_id, process_id
        ),
    )
    data = wire(metadata)
    if flag(request, "showImportDataSource"):
        for action in data.get("actions", []):
            if action.get("actionType") == "IMPORT" and action.get("importDataSourceId"):
                action["importDataSource"] = {
                    "importDataSourceId": action["importDataSourceId"],
                    "type": "FILE",
                }
    return envelope(request, "process", model_id=model_id_of(request), processMetadata=data)


def catalog_routes() -> list[Route]:
    """Routes for users, workspaces, models and the action catalogue."""
    routes = [
        Route("/2/0/users/me", users_me, methods=["GET"], name="users_me"),
        Route("/2/0/workspaces", list_workspaces, methods=["GET"], name="list_workspaces"),
        Route(
            "/2/0/workspaces/{workspaceId}", get_workspace, methods=["GET"], name="get_workspace"
        ),
        Route("/2/0/models", list_models, methods=["GET"], name="list_models"),
        Route(
            "/2/0/workspaces/{workspaceId}/models",
            list_models,
            methods=["GET"],
            name="list_workspace_models",
        ),
        Route("/2/0/models/{modelId}", get_model, methods=["GET"], name="get_model"),
        Route(
            "/2/0/models/{modelId}/status", model_status, methods=["GET"], name="get_model_status"
        ),
        Route(
            "/2/0/workspaces/{workspaceId}/models/{modelId}/status",
            model_status,
            methods=["POST"],
            name="post_model_status",
        ),
    ]
    routes += model_scoped("/imports", list_imports, ["GET"], "list_imports")
    routes += model_scoped("/imports/{importId}", get_import, ["GET"], "get_import")
    routes += model_scoped("/exports", list_exports, ["GET"], "list_exports")
    routes += model_scoped("/exports/{exportId}", get_export, ["GET"], "get_export")
    routes += model_scoped("/actions", list_actions, ["GET"], "list_actions")
    routes += model_scoped("/actions/{actionId}", get_action, ["GET"], "get_action")
    routes += model_scoped("/processes", list_processes, ["GET"], "list_processes")
    routes += model_scoped("/processes/{processId}", get_process, ["GET"], "get_process")
    return routes
