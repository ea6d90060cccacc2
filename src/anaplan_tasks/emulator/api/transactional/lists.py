"""`…/lists`, `…/lists/{listId}`, `…/lists/{listId}/items` (read, add, update, delete) and
`…/lists/{listId}/resetIndex`."""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ...engine.base import EngineBase
from ...engine.contract import Engine, Principal
from ...engine.lists import MAX_ITEMS_PER_WRITE, Lists, ModelHost
from ...errors import BadRequest
from ...jsontext import load_json
from ..context import in_model, model_id_of, model_scoped
from ..wire import envelope, flag, listing, page_locally, parse_page, read_body, schema_url

MAX_WRITE_BODY = 256 * 1024 * 1024
"""Largest list-write body (bytes): 100,000 items with a few properties each fit easily."""


def lists_of(engine: Engine, model_id: str) -> Lists:
    """The lists of a model, over the engine's store."""
    return Lists(cast("ModelHost", engine), model_id)


def wants_csv(request: Request) -> bool:
    """True when the `Accept` header asks for CSV rather than JSON."""
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


async def get_lists(request: Request) -> Response:
    """The model's lists, paged (`sort=+name|-name|+id|-id`)."""
    page = parse_page(request)
    found = await in_model(request, lambda e, who, m: lists_of(e, m).lists())
    order = request.query_params.get("sort", "").strip()
    if order:
        key = order.lstrip("+- ")
        if key in ("name", "id"):
            found.sort(key=lambda item: getattr(item, key), reverse=order.startswith("-"))
    model_id = model_id_of(request)
    return listing(request, "lists", "list", page_locally(found, page), model_id=model_id)


async def get_list(request: Request) -> Response:
    """A list's metadata."""
    list_id = request.path_params["listId"]
    metadata = await in_model(request, lambda e, who, m: lists_of(e, m).metadata(list_id))
    return envelope(request, "list", model_id=model_id_of(request), metadata=metadata.to_wire())


async def get_items(request: Request) -> Response:
    """Every item as JSON (`listItems`) or CSV (`Accept: text/csv`); `includeAll=true` adds
    subsets and properties. Under selective access a user who is not a workspace administrator
    sees the items that name them."""
    list_id = request.path_params["listId"]
    include_all = flag(request, "includeAll")
    as_csv = wants_csv(request)

    def work(engine: Engine, who: Principal, model_id: str) -> bytes:
        lists = lists_of(engine, model_id)
        viewer = None if cast("EngineBase", engine).is_model_admin(who, model_id) else who.email
        if as_csv:
            return b"".join(lists.items_csv(list_id, include_all=include_all, viewer=viewer))
        return b"".join(lists.items_json(list_id, include_all=include_all, viewer=viewer))

    if as_csv:
        body = await in_model(request, work)
        return Response(body, media_type="text/csv; charset=utf-8")
    items = await in_model(request, work)
    head = {
        "meta": {"schema": schema_url(request, "list")},
        "status": {"code": 200, "message": "Success"},
    }
    text = json.dumps(head).encode()
    if items:
        text = text[:-1] + b', "listItems": [' + items + b"]}"
    return Response(text, media_type="application/json")


async def get_preview(request: Request) -> Response:
    """The first 1,000 items as CSV, to check a list before a large read."""
    list_id = request.path_params["listId"]
    body = await in_model(request, lambda e, who, m: lists_of(e, m).preview_csv(list_id))
    return Response(body, media_type="text/csv; charset=utf-8")


async def _items_of_body(request: Request) -> list[Any]:
    raw = await read_body(request, MAX_WRITE_BODY)
    try:
        data = load_json(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Error parsing request body as JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise BadRequest("Expected mandatory field 'items' to be present and a list.")
    items: list[Any] = data["items"]
    if len(items) > MAX_ITEMS_PER_WRITE:
        raise BadRequest(
            f"The request has {len(items)} items; send at most {MAX_ITEMS_PER_WRITE} per call."
        )
    return items


def _write_answer(request: Request, result: Any) -> Response:
    body = {
        "meta": {"schema": schema_url(request, "list")},
        "status": {"code": 200, "message": "Success"},
        **result.to_wire(),
    }
    return JSONResponse(body)


async def post_items(request: Request) -> Response:
    """`?action=add` adds items, `?action=delete` deletes them."""
    list_id = request.path_params["listId"]
    action = request.query_params.get("action", "")
    if action not in ("add", "delete"):
        raise BadRequest("The 'action' query parameter must be 'add' or 'delete'.")
    items = await _items_of_body(request)

    def work(engine: Engine, who: Principal, model_id: str) -> Any:
        lists = lists_of(engine, model_id)
        return lists.add(list_id, items) if action == "add" else lists.delete(list_id, items)

    return _write_answer(request, await in_model(request, work))


async def put_items(request: Request) -> Response:
    """Update items (`?action=update` optional, as Anaplan's clients disagree on it)."""
    list_id = request.path_params["listId"]
    action = request.query_params.get("action", "update")
    if action != "update":
        raise BadRequest("The 'action' query parameter of an update must be 'update'.")
    items = await _items_of_body(request)
    result = await in_model(request, lambda e, who, m: lists_of(e, m).update(list_id, items))
    return _write_answer(request, result)


async def reset_index(request: Request) -> Response:
    """Number the list's next item 1 again: 200 with an empty body."""
    list_id = request.path_params["listId"]
    await in_model(request, lambda e, who, m: lists_of(e, m).reset_index(list_id))
    return Response(status_code=200)


def list_routes() -> list[BaseRoute]:
    """Routes of lists and list items, in both path forms."""
    routes: list[BaseRoute] = []
    routes += model_scoped("/lists", get_lists, ["GET"], "get_lists")
    routes += model_scoped("/lists/{listId}", get_list, ["GET"], "get_list")
    routes += model_scoped("/lists/{listId}/items", get_items, ["GET"], "get_list_items")
    routes += model_scoped("/lists/{listId}/items", post_items, ["POST"], "post_list_items")
    routes += model_scoped("/lists/{listId}/items", put_items, ["PUT"], "put_list_items")
    routes += model_scoped("/lists/{listId}/resetIndex", reset_index, ["POST"], "reset_index")
    routes += model_scoped("/lists/{listId}/preview", get_preview, ["GET"], "list_preview")
    return routes
