"""Large-volume reads: `…/views/{viewId}/readRequests…` and `…/lists/{listId}/readRequests…`.

Start (POST, 200 with the request `NOT_STARTED` or `IN_PROGRESS`), status (GET), a page of CSV
(GET `…/pages/{n}`, 0-based, readable up to `availablePages - 1` while the request works) and
delete/cancel (DELETE, 200 with the request as it stood). The request's work is the engine's
(`engine/readrequests.py`). The view start takes `{"exportType": …}`; the list start takes no
body or `{}` (Anaplan Connect sends none, the TypeScript client `{}`).

`viewId`/`listId` inside the request are JSON numbers, as the reference's live-probed examples
show (§1.4, §9.3); the community OpenAPI types `listId` as a string, from the docs only.
"""

from __future__ import annotations

import gzip
from typing import Any, Protocol, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ...engine.contract import Engine, Principal
from ...engine.readrequests import ReadKind, ReadRequests, ReadRequestView
from ...errors import BadRequest
from ..context import in_model, model_scoped
from ..wire import read_json_object, schema_url


class _ReadRequestHost(Protocol):
    @property
    def read_requests(self) -> ReadRequests: ...


def _requests(engine: Engine) -> ReadRequests:
    return cast("_ReadRequestHost", engine).read_requests


def _kind(request: Request) -> tuple[ReadKind, str]:
    if "viewId" in request.path_params:
        return "view", request.path_params["viewId"]
    return "list", request.path_params["listId"]


def _answer(request: Request, found: ReadRequestView, *, started: bool = False) -> Response:
    kind, ref = _kind(request)
    path = request.url.path.rstrip("/")
    base = str(request.base_url).rstrip("/")
    url = f"{base}{path}/{found.request_id}" if started else f"{base}{path}"
    record: dict[str, Any] = {"requestId": found.request_id}
    if not started:
        record[f"{kind}Id"] = int(ref) if ref.isascii() and ref.isdigit() else ref
    record["requestState"] = found.state
    record["url"] = url
    if not started:
        record["availablePages"] = found.available_pages
        record["successful"] = found.successful
    key = f"{kind}ReadRequest"
    body = {
        "meta": {"schema": schema_url(request, key)},
        "status": {"code": 200, "message": "Success"},
        key: record,
    }
    return JSONResponse(body)


async def start_read(request: Request) -> Response:
    """Start a read request: a view's needs `exportType`, a list's takes no body (or `{}`)."""
    kind, ref = _kind(request)
    body = await read_json_object(request, required=kind == "view")
    export_type = body.get("exportType")
    if export_type is not None and not isinstance(export_type, str):
        raise BadRequest("'exportType' must be a string.")

    def work(engine: Engine, who: Principal, model_id: str) -> ReadRequestView:
        return _requests(engine).start(model_id, who.user_id, kind, ref, export_type)

    return _answer(request, await in_model(request, work), started=True)


async def read_status(request: Request) -> Response:
    """A read request's state and `availablePages`."""
    kind, ref = _kind(request)
    request_id = request.path_params["requestId"]
    found = await in_model(
        request,
        lambda e, who, m: _requests(e).status(m, who.user_id, kind, ref, request_id),
        inline=True,
    )
    return _answer(request, found)


async def delete_read(request: Request) -> Response:
    """Cancel a running read request, or drop a finished one, with its pages."""
    kind, ref = _kind(request)
    request_id = request.path_params["requestId"]
    found = await in_model(
        request, lambda e, who, m: _requests(e).delete(m, who.user_id, kind, ref, request_id)
    )
    return _answer(request, found)


async def read_page(request: Request) -> Response:
    """One page of CSV (0-based); a page not yet available is 404. Gzip-compressed when the
    request accepts it (reference §9.4: Anaplan honours `Accept-Encoding: gzip`)."""
    kind, ref = _kind(request)
    request_id = request.path_params["requestId"]
    number = request.path_params["pageNo"]
    gzipped = "gzip" in request.headers.get("accept-encoding", "").lower()

    def work(engine: Engine, who: Principal, model_id: str) -> bytes:
        data = _requests(engine).page(model_id, who.user_id, kind, ref, request_id, number)
        return gzip.compress(data, compresslevel=1, mtime=0) if gzipped else data

    data = await in_model(request, work)
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"} if gzipped else None
    return Response(data, media_type="text/csv; charset=utf-8", headers=headers)


def read_request_routes() -> list[BaseRoute]:
    """Routes of view and list read requests, in both path forms."""
    routes: list[BaseRoute] = []
    for family, param in (("views", "viewId"), ("lists", "listId")):
        base = f"/{family}/{{{param}}}/readRequests"
        name = family[:-1]
        routes += model_scoped(base, start_read, ["POST"], f"start_{name}_read")
        # the docs' view start URL ends in a slash
        routes += model_scoped(base + "/", start_read, ["POST"], f"start_{name}_read_slash")
        routes += model_scoped(base + "/{requestId}", read_status, ["GET"], f"{name}_read_status")
        routes += model_scoped(
            base + "/{requestId}", delete_read, ["DELETE"], f"delete_{name}_read"
        )
        routes += model_scoped(
            base + "/{requestId}/pages/{pageNo}", read_page, ["GET"], f"{name}_read_page"
        )
    return routes
