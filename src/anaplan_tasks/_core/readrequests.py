"""Large-volume reads (`readRequests`): a view or a list too big for the transactional reads,
exported by Anaplan into pages of CSV that can be downloaded while the export still runs.

The protocol (reference §9): `POST {ws-base}/views/{v}/readRequests` with `{"exportType": …}`
(a list's start has no body) answers the request in `NOT_STARTED` or `IN_PROGRESS`; its status
(`GET …/readRequests/{id}`) counts `availablePages`, pages `0 … availablePages - 1` are
readable at once (`GET …/pages/{n}`, CSV, the header on page 0 only, so the pages concatenated
are the whole CSV); `COMPLETE` ends it (`successful: false` is a failure: there is no FAILED
state); `DELETE` cancels a running request or drops a finished one with its pages. Anaplan
reclaims a request 30 minutes after its last activity, so a reader deletes it as soon as it is
done, and also when it fails or is interrupted (the namespaces do).

`read_pages` emits the pages in order as they become available: it fetches up to `workers`
pages at once (so at most `workers` pages are in memory), polls the status only when it has
read every page known, with a backoff from the poll policy's first interval up to
`MAX_READ_POLL_INTERVAL`, and re-fetches a page whose connection broke (an idempotent GET).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal
from urllib.parse import quote

from ..errors import (
    ServerError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownTaskStateError,
)
from ..models.transactional import ReadRequest
from . import endpoints
from .calls import call
from .flow import Context, Emit, Flow, Parallel, Request, Sleep
from .responses import json_object

ReadKind = Literal["view", "list"]

EXPORT_TYPES = ("GRID_ALL_PAGES", "TABULAR_SINGLE_COLUMN", "TABULAR_MULTI_COLUMN")
"""A view's layouts: the grid as the view shows it (every page), one value per line, or one
column per line item."""

MAX_READ_POLL_INTERVAL = 5.0
"""Longest wait between status reads of a read request that has no new page yet (seconds)."""

ReadProgressCallback = Callable[[int, "int | None"], None]
"""Called after each page written: pages read so far, and the page count once the request is
COMPLETE (None while it still works); the last call always carries the count."""


def _segment(value: str) -> str:
    return quote(value, safe="")


def requests_url(ctx: Context, kind: ReadKind, object_id: str) -> str:
    """`{ws-base}/views/{v}/readRequests` or `{ws-base}/lists/{l}/readRequests`."""
    family = "views" if kind == "view" else "lists"
    return f"{endpoints.model_base(ctx)}/{family}/{_segment(object_id)}/readRequests"


def request_url(ctx: Context, kind: ReadKind, object_id: str, request_id: str) -> str:
    """One read request."""
    return f"{requests_url(ctx, kind, object_id)}/{_segment(request_id)}"


def _request_of(body: Mapping[str, Any], kind: ReadKind, status_code: int) -> ReadRequest:
    record = body.get(f"{kind}ReadRequest")
    if not isinstance(record, Mapping) or "requestId" not in record:
        raise ServerError(
            f"expected a {kind}ReadRequest in the response", status_code=status_code, body=body
        )
    return ReadRequest.model_validate(record)


def start(
    ctx: Context, kind: ReadKind, object_id: str, export_type: str | None = None
) -> Flow[ReadRequest]:
    """Start a read request (a view's needs `export_type`)."""
    if kind == "view" and export_type not in EXPORT_TYPES:
        raise ValueError(f"export_type must be one of {', '.join(EXPORT_TYPES)}")
    # A lost answer leaves a request we cannot name; Anaplan reclaims it after 30 minutes.
    # So a start is repeated only when it provably never reached the server.
    request = Request(
        "POST",
        requests_url(ctx, kind, object_id),
        json={"exportType": export_type} if kind == "view" else None,
        retry="start",
    )
    response = yield from call(ctx, request)
    return _request_of(json_object(response), kind, response.status_code)


def status(ctx: Context, kind: ReadKind, object_id: str, request_id: str) -> Flow[ReadRequest]:
    """A read request's state and available pages."""
    response = yield from call(ctx, Request("GET", request_url(ctx, kind, object_id, request_id)))
    return _request_of(json_object(response), kind, response.status_code)


def page(ctx: Context, kind: ReadKind, object_id: str, request_id: str, number: int) -> Flow[bytes]:
    """One page's CSV, whole (a broken connection fetches it again)."""
    response = yield from call(
        ctx,
        Request(
            "GET",
            f"{request_url(ctx, kind, object_id, request_id)}/pages/{number}",
            headers={"Accept": "text/csv"},
        ),
    )
    return response.content


def delete(ctx: Context, kind: ReadKind, object_id: str, request_id: str) -> Flow[ReadRequest]:
    """Cancel a running read request, or drop a finished one and its pages."""
    response = yield from call(
        ctx, Request("DELETE", request_url(ctx, kind, object_id, request_id))
    )
    return _request_of(json_object(response), kind, response.status_code)


def read_pages(
    ctx: Context,
    kind: ReadKind,
    object_id: str,
    started: ReadRequest,
    *,
    workers: int = 4,
    on_progress: ReadProgressCallback | None = None,
    timeout: float | None = None,
) -> Flow[int]:
    """Emit every page of a started request, in order, as pages become available; returns the
    byte count. Raises TaskFailedError (COMPLETE, not successful), TaskCancelledError
    (CANCELLED by someone) or TaskTimeoutError (past `timeout` seconds)."""
    request_id = started.request_id
    began = ctx.clock()
    current = started
    known = started.available_pages
    read = 0
    total = 0
    first = ctx.poll.initial_interval
    interval: float | None = None  # the next wait between status reads
    polled = False
    last_total: int | None = None
    while True:
        if read < known:
            numbers = range(read, min(known, read + max(1, workers)))
            flows: Iterator[Flow[bytes]] = (
                page(ctx, kind, object_id, request_id, number) for number in numbers
            )
            pages: list[bytes] = yield Parallel(flows, limit=max(1, workers))
            for data in pages:
                yield Emit(data)
                total += len(data)
                read += 1
                if on_progress is not None:
                    last_total = known if current.request_state == "COMPLETE" else None
                    on_progress(read, last_total)
            continue
        if polled and current.request_state == "COMPLETE":
            if on_progress is not None and (read == 0 or last_total is None):
                on_progress(read, read)
            return total
        if interval is not None:
            if timeout is not None and ctx.clock() - began + interval > timeout:
                raise TaskTimeoutError(
                    f"read request {request_id}: {read} pages read, not complete after "
                    f"{timeout:g}s",
                    task=current,
                )
            yield Sleep(interval)
        current = yield from status(ctx, kind, object_id, request_id)
        polled = True
        state = current.request_state
        if state == "COMPLETE" and not current.successful:
            raise TaskFailedError(
                f"read request {request_id} failed (COMPLETE, successful false) after "
                f"{current.available_pages} pages",
                task=current,
            )
        if state == "CANCELLED":
            raise TaskCancelledError(f"read request {request_id} was cancelled", task=current)
        if state not in ("NOT_STARTED", "IN_PROGRESS", "CANCELLING", "COMPLETE"):
            raise UnknownTaskStateError(state, task_id=request_id)
        if current.available_pages > known:
            known = current.available_pages
            interval = first if interval is None else max(first, interval / 2)
        elif state != "COMPLETE":
            interval = first if interval is None else min(interval * 2, MAX_READ_POLL_INTERVAL)
