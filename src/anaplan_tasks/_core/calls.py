"""One API call with authentication and retries, and paged lists built on it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..errors import RateLimitError, TransportError
from .flow import Context, Emit, Flow, GetToken, ReadStream, Request, Response, Send, Sleep
from .responses import (
    decode_body,
    error_for_response,
    is_refusal,
    items_of,
    json_object,
    total_size,
)
from .retry import Action, decide, parse_retry_after

logger = logging.getLogger("anaplan_tasks")

PAGE_SIZE = 5000


def call(ctx: Context, request: Request) -> Flow[Response]:
    """Send a request; retry what the decision table allows; return a 2xx response.

    A 401 on an authenticated request makes the driver refresh the token once (single-flight),
    then the request is sent again. A 429 with a `Retry-After` within the cap pauses the whole
    client (`state.Pacer`: every thread, task and copy waits) and is sent again without
    counting as a failed attempt or spending the retry budget, for up to
    `RetryPolicy.rate_limit_patience` seconds of waiting per call. Every answer's `Date` narrows
    what the client knows of the server's clock (`state.ServerClock`). Errors raise the
    matching `anaplan_tasks.errors` class; for a task start whose fate is unknown, the error is
    raised for the caller to reconcile.
    """
    attempt = 1
    refreshed = False
    spent = 0
    waited = 0.0
    limited: RateLimitError | None = None
    while True:
        pause = ctx.state.pacer.admit(ctx.clock())
        if pause > 0.0:
            if waited + pause > ctx.retry.rate_limit_patience:
                raise limited or RateLimitError(
                    f"the client is paused by the server's rate limit for {pause:.1f}s more, "
                    f"past this call's patience ({ctx.retry.rate_limit_patience:g}s)",
                    retry_after=pause,
                    status_code=429,
                    method=request.method,
                    url=request.url,
                )
            waited += pause
            yield Sleep(pause)
            continue
        token: str | None = None
        sent = request
        if request.auth:
            token = yield GetToken()
            sent = request.with_headers(Authorization=f"AnaplanAuthToken {token}")
        sent_at = ctx.wall_clock()
        try:
            response: Response = yield Send(sent)
        except TransportError as error:
            decision = decide(
                retry_class=request.retry,
                attempt=attempt,
                policy=ctx.retry,
                rng=ctx.rng,
                request_sent=error.request_sent,
            )
            if decision.action is not Action.RETRY or not ctx.budget.try_acquire(
                after_timeout=error.request_sent
            ):
                raise
            spent += ctx.budget.cost(after_timeout=error.request_sent)
            logger.info(
                "%s: %s (%s); retry %d in %.2fs",
                request.describe(),
                error,
                decision.reason,
                attempt,
                decision.delay,
            )
            yield Sleep(decision.delay)
            attempt += 1
            continue
        ctx.state.clock.observe(response.headers, sent_at, ctx.wall_clock())
        if response.is_success:
            ctx.state.pacer.succeeded()
            ctx.budget.on_success(spent)
            return response
        if response.status_code == 401 and token is not None and not refreshed:
            refreshed = True
            logger.info("%s: 401, refreshing the token once", request.describe())
            yield GetToken(stale=token)
            continue
        retry_after = parse_retry_after(response.headers, ctx.wall_clock())
        failure = error_for_response(request, response, retry_after=retry_after)
        if (
            isinstance(failure, RateLimitError)
            and retry_after is not None
            and 0.0 < retry_after <= ctx.retry.retry_after_cap
            and request.retry != "never"
        ):
            limited = failure
            ctx.state.pacer.throttled(ctx.clock(), retry_after)
            logger.info(
                "%s: 429, the client waits %.2fs as the server asked",
                request.describe(),
                retry_after,
            )
            continue
        decision = decide(
            retry_class=request.retry,
            attempt=attempt,
            policy=ctx.retry,
            rng=ctx.rng,
            status=response.status_code,
            retry_after=retry_after,
            refused=is_refusal(response.status_code, decode_body(response)),
            busy_retry=request.busy_retry,
        )
        if decision.action is not Action.RETRY or not ctx.budget.try_acquire():
            raise failure
        spent += ctx.budget.cost()
        logger.info(
            "%s: %d (%s); retry %d in %.2fs",
            request.describe(),
            response.status_code,
            decision.reason,
            attempt,
            decision.delay,
        )
        yield Sleep(decision.delay)
        attempt += 1


def get_json(
    ctx: Context, url: str, params: Mapping[str, str] | None = None
) -> Flow[Mapping[str, Any]]:
    """GET a JSON object."""
    response = yield from call(ctx, Request("GET", url, params=dict(params or {})))
    return json_object(response)


def list_all(
    ctx: Context, url: str, key: str, params: Mapping[str, str] | None = None
) -> Flow[list[Mapping[str, Any]]]:
    """Every item of a paged list, following `totalSize` (not `next`, which Anaplan fakes)."""
    items: list[Mapping[str, Any]] = []
    offset = 0
    while True:
        query = {**(params or {}), "limit": str(PAGE_SIZE), "offset": str(offset)}
        body = yield from get_json(ctx, url, query)
        page = items_of(body, key)
        items.extend(page)
        total = total_size(body)
        offset += len(page)
        if not page or total is None or offset >= total:
            return items


def stream_get(ctx: Context, request: Request) -> Flow[int]:
    """Emit a streamed GET's body as it arrives; returns the byte count.

    A connection that breaks mid-body is retried like any idempotent GET, and the bytes already
    emitted are skipped on the new read.
    """
    delivered = 0
    attempt = 1
    while True:
        response = yield from call(ctx, request)
        skip = delivered
        try:
            while piece := (yield ReadStream(response.stream)):
                if skip:
                    if len(piece) <= skip:
                        skip -= len(piece)
                        continue
                    piece, skip = piece[skip:], 0
                delivered += len(piece)
                yield Emit(piece)
            return delivered
        except TransportError as error:
            decision = decide(
                retry_class="idempotent", attempt=attempt, policy=ctx.retry, rng=ctx.rng
            )
            if decision.action is not Action.RETRY or not ctx.budget.try_acquire(
                after_timeout=True
            ):
                raise
            logger.info("%s broke after %d bytes (%s); resuming", request.url, delivered, error)
            yield Sleep(decision.delay)
            attempt += 1
