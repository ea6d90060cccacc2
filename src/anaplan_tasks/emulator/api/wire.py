"""Anaplan's JSON shapes on the wire: envelopes, paging, error bodies, and request parsing.

Every successful JSON answer is `{"meta": {"schema": …[, "paging": …]}, "status": {"code",
"message"}, <key>: <payload>}`; every error is `{"status": {"code", "message"}, "path",
"timestamp"}`. Empty collections omit their key, as Anaplan does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...models import WireModel
from ..engine.contract import Page, Paged
from ..errors import BadRequest, PayloadTooLarge
from ..jsontext import JsonTooDeep, is_number, load_json

MAX_PAGE_SIZE = 5000
"""Anaplan's default and largest page: a larger `limit` is silently cut to it."""

MAX_JSON_BODY = 1024 * 1024
"""Largest JSON request body accepted (bytes): every JSON body Anaplan takes is tiny."""

DRAIN_LIMIT = 256 * 1024 * 1024
"""An oversized body up to this size is read and dropped so the client sees a clean 413."""

_STATUS_MESSAGES = {
    200: "Success",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def status_message(code: int) -> str:
    """Anaplan's `status.message` for a successful code, or the HTTP reason phrase."""
    return _STATUS_MESSAGES.get(code, "Error")


def timestamp() -> str:
    """Now, in the ISO-8601 UTC form of Anaplan's error bodies."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_body(code: int, message: str, path: str) -> dict[str, Any]:
    """Anaplan's error body."""
    return {"status": {"code": code, "message": message}, "path": path, "timestamp": timestamp()}


def error_response(
    code: int, message: str, path: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An error answer with Anaplan's body."""
    return JSONResponse(error_body(code, message, path), status_code=code, headers=headers)


def schema_url(request: Request, object_type: str, model_id: str | None = None) -> str:
    """`meta.schema`: `…/2/0/models/{id}/objects/<type>` or `…/2/0/objects/<type>`."""
    base = str(request.base_url).rstrip("/")
    if model_id is None:
        return f"{base}/2/0/objects/{object_type}"
    return f"{base}/2/0/models/{model_id}/objects/{object_type}"


def wire(value: WireModel | Mapping[str, Any]) -> Any:
    """A model's wire JSON (or a mapping as is)."""
    return value.to_wire() if isinstance(value, WireModel) else dict(value)


def envelope(
    request: Request,
    object_type: str,
    *,
    model_id: str | None = None,
    status_code: int = 200,
    **payload: Any,
) -> JSONResponse:
    """A successful answer: `meta.schema`, `status` and the payload keys given."""
    body: dict[str, Any] = {
        "meta": {"schema": schema_url(request, object_type, model_id)},
        "status": {"code": status_code, "message": status_message(status_code)},
    }
    body.update(payload)
    return JSONResponse(body, status_code=status_code)


def listing(
    request: Request,
    key: str,
    object_type: str,
    paged: Paged[Any],
    *,
    model_id: str | None = None,
    page: Page | None = None,
) -> JSONResponse:
    """A paged list answer; the list key is left out when the page is empty, like Anaplan."""
    items = [wire(item) for item in paged.items]
    limit = page.limit if page is not None else MAX_PAGE_SIZE
    paging: dict[str, Any] = {
        "currentPageSize": len(items),
        "offset": paged.offset,
        "totalSize": paged.total_size,
    }
    if paged.offset + len(items) < paged.total_size:
        paging["next"] = _page_link(request, limit, paged.offset + max(len(items), 1))
    if paged.offset > 0:
        paging["previous"] = _page_link(request, limit, max(paged.offset - limit, 0))
    body: dict[str, Any] = {
        "meta": {"paging": paging, "schema": schema_url(request, object_type, model_id)},
        "status": {"code": 200, "message": "Success"},
    }
    if items:
        body[key] = items
    return JSONResponse(body)


def page_locally(items: Sequence[Any], page: Page) -> Paged[Any]:
    """Cut one page out of a complete list (for lists the engine returns whole)."""
    return Paged(
        items=list(items[page.offset : page.offset + page.limit]),
        total_size=len(items),
        offset=page.offset,
    )


def _page_link(request: Request, limit: int, offset: int) -> str:
    query = dict(request.query_params)
    query["limit"] = str(limit)
    query["offset"] = str(offset)
    return str(request.url.include_query_params(**query))


def parse_page(request: Request) -> Page:
    """`limit`/`offset` from the query string (limit capped at 5000); bad values are a 400."""
    limit = _int_param(request, "limit", MAX_PAGE_SIZE)
    offset = _int_param(request, "offset", 0)
    if limit < 1:
        raise BadRequest("The 'limit' parameter must be a positive number.")
    if offset < 0:
        raise BadRequest("The 'offset' parameter must not be negative.")
    return Page(limit=min(limit, MAX_PAGE_SIZE), offset=offset)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    digits = raw.removeprefix("-")
    if not is_number(digits):  # int() would also take Arabic-Indic digits, " 1", "1_000"
        raise BadRequest(f"The '{name}' parameter must be a number, got '{raw}'.")
    return int(raw)


def flag(request: Request, name: str) -> bool:
    """A boolean query flag such as `modelDetails=true`."""
    return request.query_params.get(name, "").strip().lower() == "true"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes with a 413.

    An oversized body is still read (and dropped) up to `DRAIN_LIMIT`, so that a client that
    writes the whole body before reading the answer sees the 413 instead of a broken pipe.
    """
    declared = request.headers.get("content-length")
    if declared is not None and is_number(declared) and int(declared) > DRAIN_LIMIT:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    pieces: list[bytes] = []
    size = 0
    async for piece in request.stream():
        size += len(piece)
        if size <= limit:
            pieces.append(piece)
        elif size > DRAIN_LIMIT:
            break
    if size > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return b"".join(pieces)


async def read_json_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object; malformed JSON or another JSON type is a 400.

    With `required=False` an empty body reads as `{}`.
    """
    body = await read_body(request, MAX_JSON_BODY)
    if not body.strip():
        if required:
            raise BadRequest("The request body is null. Send a JSON object.")
        return {}
    try:
        data = load_json(body)
    except JsonTooDeep as error:
        raise BadRequest(f"Error parsing request body as JSON: {error}.") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Error parsing request body as JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def no_content() -> Response:
    """A 204 with no body and no `Content-Type`, as Anaplan answers chunk uploads."""
    return Response(status_code=204)
