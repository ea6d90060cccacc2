"""The only module that imports the HTTP library (httpx2; `_widereads` adapts its httpcore2).

It turns our plain `Request` into an httpx2 request, the answer into our `Response`, and every
httpx2 exception into `anaplan_tasks.errors.TransportError`, recording whether the request may
have reached the server: a failed connection (or a pool timeout) provably sent nothing, while a
read timeout, reset or protocol error after sending may have been acted on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TypeAlias

import httpx2

from ._core.flow import Request, Response
from .errors import TransportError

HttpClient: TypeAlias = httpx2.Client
"""A caller's own sync httpx2 client (`Client(http_client=…)`)."""

AsyncHttpClient: TypeAlias = httpx2.AsyncClient
"""A caller's own async httpx2 client (`AsyncClient(http_client=…)`)."""

HttpTransport: TypeAlias = httpx2.BaseTransport
"""A caller's own sync httpx2 transport (`Client(transport=…)`)."""

AsyncHttpTransport: TypeAlias = httpx2.AsyncBaseTransport
"""A caller's own async httpx2 transport (`AsyncClient(transport=…)`)."""

_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.ProxyError)


def _timeout(timeout: float, connect_timeout: float) -> httpx2.Timeout:
    return httpx2.Timeout(timeout, connect=connect_timeout)


def _build(client: httpx2.Client | httpx2.AsyncClient, request: Request) -> httpx2.Request:
    return client.build_request(
        request.method,
        request.url,
        params=dict(request.params) or None,
        headers=dict(request.headers),
        json=request.json if request.content is None else None,
        content=request.content,
    )


def _response(answer: httpx2.Response) -> Response:
    headers = {name.lower(): value for name, value in answer.headers.items()}
    return Response(status_code=answer.status_code, headers=headers, content=answer.content)


def _transport_error(request: Request, error: httpx2.HTTPError) -> TransportError:
    sent = not isinstance(error, _NOT_SENT)
    kind = type(error).__name__
    return TransportError(
        f"{kind} on {request.describe()}: {error}"
        if str(error)
        else f"{kind} on {request.describe()}",
        request_sent=sent,
        method=request.method,
        url=request.url,
    )


# A streamed body is read in the pieces the connection delivers, decoded but not regrouped:
# regrouping into 1 MB pieces copied every byte twice more and took about half the client's time
# of a download (benchmarks/client_download.py).


def _sync_transport() -> httpx2.HTTPTransport:
    """httpx2's default transport, reading its sockets wider (`_widereads`, imported here: it
    needs httpcore2, which httpx2 itself imports only when a transport is made)."""
    from ._widereads import sync_transport

    return sync_transport()


def _async_transport() -> httpx2.AsyncHTTPTransport:
    """httpx2's default async transport, reading its sockets wider (see `_sync_transport`)."""
    from ._widereads import async_transport

    return async_transport()


class _SyncBody:
    def __init__(self, answer: httpx2.Response, request: Request):
        self.answer = answer
        self.request = request
        self.pieces: Iterator[bytes] = answer.iter_bytes()


class _AsyncBody:
    def __init__(self, answer: httpx2.Response, request: Request):
        self.answer = answer
        self.request = request
        self.pieces: AsyncIterator[bytes] = answer.aiter_bytes()


class SyncTransport:
    """Sends requests with an httpx2 `Client` (ours, or one the caller passed)."""

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float,
        http_client: httpx2.Client | None = None,
        transport: httpx2.BaseTransport | None = None,
    ):
        self._owned = http_client is None
        self._client = http_client or httpx2.Client(
            timeout=_timeout(timeout, connect_timeout), transport=transport or _sync_transport()
        )

    def send(self, request: Request) -> Response:
        """Send one request; raise `TransportError` when it does not complete.

        With `request.stream`, a successful answer's body is left to `read()`.
        """
        try:
            answer = self._client.send(_build(self._client, request), stream=request.stream)
            if request.stream:
                if answer.is_success:
                    headers = {name.lower(): value for name, value in answer.headers.items()}
                    body = _SyncBody(answer, request)
                    return Response(answer.status_code, headers, b"", stream=body)
                try:
                    answer.read()
                finally:
                    answer.close()
        except httpx2.HTTPError as error:
            raise _transport_error(request, error) from error
        return _response(answer)

    def read(self, body: _SyncBody) -> bytes:
        """The next piece of a streamed body; `b""` (and the body closed) at its end."""
        try:
            piece = next(body.pieces, b"")
        except httpx2.HTTPError as error:
            body.answer.close()
            raise _transport_error(body.request, error) from error
        if not piece:
            body.answer.close()
        return piece

    def close_body(self, body: _SyncBody) -> None:
        """Close a streamed body (idempotent)."""
        body.answer.close()

    def close(self) -> None:
        """Close the connection pool, unless the caller owns the client."""
        if self._owned:
            self._client.close()


class AsyncTransport:
    """Sends requests with an httpx2 `AsyncClient` (ours, or one the caller passed)."""

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float,
        http_client: httpx2.AsyncClient | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ):
        self._owned = http_client is None
        self._client = http_client or httpx2.AsyncClient(
            timeout=_timeout(timeout, connect_timeout),
            transport=transport or _async_transport(),
        )

    async def send(self, request: Request) -> Response:
        """Send one request; raise `TransportError` when it does not complete.

        With `request.stream`, a successful answer's body is left to `read()`.
        """
        try:
            answer = await self._client.send(_build(self._client, request), stream=request.stream)
            if request.stream:
                if answer.is_success:
                    headers = {name.lower(): value for name, value in answer.headers.items()}
                    body = _AsyncBody(answer, request)
                    return Response(answer.status_code, headers, b"", stream=body)
                try:
                    await answer.aread()
                finally:
                    await answer.aclose()
        except httpx2.HTTPError as error:
            raise _transport_error(request, error) from error
        return _response(answer)

    async def read(self, body: _AsyncBody) -> bytes:
        """The next piece of a streamed body; `b""` (and the body closed) at its end."""
        try:
            piece = await anext(body.pieces, b"")
        except httpx2.HTTPError as error:
            await body.answer.aclose()
            raise _transport_error(body.request, error) from error
        if not piece:
            await body.answer.aclose()
        return piece

    async def close_body(self, body: _AsyncBody) -> None:
        """Close a streamed body (idempotent)."""
        await body.answer.aclose()

    async def aclose(self) -> None:
        """Close the connection pool, unless the caller owns the client."""
        if self._owned:
            await self._client.aclose()
