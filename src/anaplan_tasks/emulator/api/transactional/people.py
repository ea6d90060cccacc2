"""`/users`, `/users/{userId}`, model open and close (both path forms) and
`/workspaces/{workspaceId}/bulkDeleteModels`."""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...engine.contract import Engine
from ...engine.people import PeopleMixin
from ...errors import BadRequest
from ...jsontext import load_json
from ..context import in_model, model_scoped, run
from ..wire import (
    MAX_JSON_BODY,
    envelope,
    listing,
    page_locally,
    parse_page,
    read_body,
    schema_url,
)


def people(engine: Engine) -> PeopleMixin:
    """The engine's users and model lifecycle."""
    return cast("PeopleMixin", engine)


async def list_users(request: Request) -> Response:
    """Every user of the caller's tenant, paged (key `users`), sorted by `sort` when given."""
    page = parse_page(request)
    sort = request.query_params.get("sort")
    paged = await run(request, lambda engine, who: people(engine).tenant_users(who, page, sort))
    return listing(request, "users", "user", paged, page=page)


async def get_user(request: Request) -> Response:
    """One user of the tenant (`me`: the caller)."""
    user_id = request.path_params["userId"]
    user = await run(request, lambda engine, who: people(engine).tenant_user(who, user_id))
    return envelope(request, "user", user=user.to_wire())


def _members(plural: str, singular: str, admins: bool) -> Any:
    async def endpoint(request: Request) -> Response:
        workspace_id = request.path_params["workspaceId"]
        page = parse_page(request)
        found = await run(
            request,
            lambda engine, who: people(engine).workspace_members(who, workspace_id, admins=admins),
        )
        return listing(request, plural, singular, page_locally(found, page), page=page)

    endpoint.__name__ = f"list_{plural}"
    endpoint.__doc__ = f"The workspace's {plural}, paged (entries have no id)."
    return endpoint


list_admins = _members("admins", "admin", True)
list_visitors = _members("visitors", "visitor", False)


async def open_model(request: Request) -> Response:
    """Open the model: 202 (empty) when it was closed, 200 (empty) when already open."""
    was_closed = await in_model(request, lambda e, who, m: people(e).open_model(who, m))
    return Response(status_code=202 if was_closed else 200)


async def close_model(request: Request) -> Response:
    """Close the model: 204 with an empty body."""
    await in_model(request, lambda e, who, m: people(e).close_model(who, m))
    return Response(status_code=204)


async def bulk_delete_models(request: Request) -> Response:
    """Delete closed models: `modelsDeleted`, and `bulkDeleteModelsFailures` when some failed."""
    workspace_id = request.path_params["workspaceId"]
    raw = await read_body(request, MAX_JSON_BODY)
    try:
        body: Any = load_json(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Error parsing request body as JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("Error parsing request body as JSON")
    for key in body:
        if key != "modelIdsToDelete":
            raise BadRequest(
                f"Identified an unrecognized '{key}'. Amend the content so it only contains "
                "applicable fields."
            )
    wanted = body.get("modelIdsToDelete")
    if not isinstance(wanted, list) or not wanted:
        raise BadRequest("Expected mandatory field 'modelIdsToDelete' to be present and not empty.")
    model_ids = [str(model_id) for model_id in wanted]
    deleted, failures = await run(
        request, lambda engine, who: people(engine).delete_models(who, workspace_id, model_ids)
    )
    answer: dict[str, Any] = {
        "meta": {"schema": schema_url(request, "bulkDeleteModels")},
        "status": {"code": 200, "message": "Success"},
        "modelsDeleted": deleted,
    }
    if failures:
        answer["bulkDeleteModelsFailures"] = [
            {"modelId": model_id, "message": message} for model_id, message in failures
        ]
    return JSONResponse(answer)


def people_routes() -> list[BaseRoute]:
    """Routes of users and of the model lifecycle."""
    routes: list[BaseRoute] = [
        Route("/2/0/users", list_users, methods=["GET"], name="list_users"),
        Route("/2/0/users/{userId}", get_user, methods=["GET"], name="get_user"),
        Route("/2/0/workspaces/{workspaceId}/admins", list_admins, methods=["GET"], name="admins"),
        Route(
            "/2/0/workspaces/{workspaceId}/visitors",
            list_visitors,
            methods=["GET"],
            name="visitors",
        ),
        Route(
            "/2/0/workspaces/{workspaceId}/bulkDeleteModels",
            bulk_delete_models,
            methods=["POST"],
            name="bulk_delete_models",
        ),
    ]
    routes += model_scoped("/open", open_model, ["POST"], "open_model")
    routes += model_scoped("/close", close_model, ["POST"], "close_model")
    return routes
