"""Reading responses: error mapping to `anaplan_tasks.errors`, envelopes and lists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ModelUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from .flow import Request, Response

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Model archived",
    423: "Model locked",
    424: "Model offline",
    425: "Model deployed",
    429: "Too Many Requests",
    452: "Tenant not entitled",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def decode_body(response: Response) -> Any:
    """The body as JSON when it is JSON, else as text (None when empty)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return response.content.decode("utf-8", errors="replace")


_REFUSAL_STATUSES = frozenset({429, 503})


def is_refusal(status: int, body: Any) -> bool:
    """True for a 429 or 503 carrying Anaplan's own error body for that status.

    `{"status": {"code": 503, "message": …}}` is written by Anaplan's API when it refuses a
    request; a gateway that lost its way to the API answers without it. So such an answer to a
    task start means the task was not started.
    """
    if status not in _REFUSAL_STATUSES or not isinstance(body, Mapping):
        return False
    part = body.get("status")
    return isinstance(part, Mapping) and part.get("code") == status


def ascii_int(text: str) -> int | None:
    """A non-negative whole number written in ASCII digits only, else None.

    `str.isdigit()` and `int()` accept other scripts' digits (Arabic-Indic one, U+0661, reads
    as 1) and superscripts (U+00B2 passes `isdigit()` but not `int()`); ids on the wire are
    ASCII.
    """
    stripped = text.strip()
    if not stripped or not stripped.isascii() or not stripped.isdigit():
        return None
    return int(stripped)


def error_message(body: Any, status: int) -> str:
    """Anaplan's own message from an error body, else the reason phrase."""
    if isinstance(body, Mapping):
        status_part = body.get("status")
        if isinstance(status_part, Mapping) and isinstance(status_part.get("message"), str):
            return str(status_part["message"])
        for key in ("statusMessage", "message", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    if isinstance(body, str) and body.strip() and len(body) < 500:
        return body.strip()
    return _REASONS.get(status, "HTTP error")


def error_for_response(
    request: Request, response: Response, *, retry_after: float | None = None
) -> ApiError:
    """The error for an unsuccessful response, by status family."""
    status = response.status_code
    body = decode_body(response)
    message = error_message(body, status)
    common: dict[str, Any] = {
        "status_code": status,
        "body": body,
        "method": request.method,
        "url": request.url,
    }
    if status == 401:
        return AuthenticationError(message, **common)
    if status in (403, 452):  # 452: CloudWorks' "Tenant not entitled" (no integration role)
        return PermissionDeniedError(message, **common)
    if status == 404:
        return NotFoundError(message, **common)
    if status == 409:
        return ConflictError(message, **common)
    if status in (422, 423, 424, 425):
        return ModelUnavailableError(message, **common)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **common)
    if status >= 500:
        return ServerError(message, **common)
    return BadRequestError(message, **common)


def json_object(response: Response) -> Mapping[str, Any]:
    """The body as a JSON object; a ServerError naming the URL when it is not one."""
    body = decode_body(response)
    if not isinstance(body, Mapping):
        raise ServerError(
            "expected a JSON object in the response", status_code=response.status_code, body=body
        )
    return body


def items_of(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The list under `key` (absent means empty: Anaplan omits empty collections)."""
    items = body.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ServerError(f"expected a list under {key!r}", status_code=200, body=body)
    return [item for item in items if isinstance(item, Mapping)]


def total_size(body: Mapping[str, Any]) -> int | None:
    """`meta.paging.totalSize`, when present."""
    meta = body.get("meta")
    if isinstance(meta, Mapping):
        paging = meta.get("paging")
        if isinstance(paging, Mapping) and isinstance(paging.get("totalSize"), int):
            return int(paging["totalSize"])
    return None
