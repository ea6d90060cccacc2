"""Our own connections read their sockets wider than httpcore2's 64 KB (see `READ_BYTES`).

Imported only when a client makes its transport: httpcore2 costs about 0.1 s to import, and
httpx2 itself imports it only then, so importing the client stays as quick as it was.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2

READ_BYTES = 96 * 1024
"""The most our own connections read from a socket at once. httpcore2 asks for 64 KB, and every
read costs its HTTP/1.1 parsing a fixed amount: 96 KB reads took a 200 MB download from 1.38-1.58
to 1.28-1.49 times a plain socket's time (benchmarks/client_download.py, a fresh process each).
From 128 KB each read's buffer crosses glibc's mmap threshold and the gain is lost (1.66-1.78)."""


class _WideStream(httpcore2.NetworkStream):
    """A connection's socket, read `READ_BYTES` at a time."""

    def __init__(self, stream: httpcore2.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to `max(max_bytes, READ_BYTES)` bytes."""
        return self._stream.read(max(max_bytes, READ_BYTES), timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send every byte of `buffer`."""
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        """Close the socket."""
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        """The same connection over TLS, read as widely."""
        return _WideStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        """What the socket tells (httpcore2 asks whether it is still readable)."""
        return self._stream.get_extra_info(info)


class _WideReads(httpcore2.NetworkBackend):
    """httpcore2's own network backend, with connections read `READ_BYTES` at a time."""

    def __init__(self, backend: httpcore2.NetworkBackend):
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        """Open a TCP connection."""
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _WideStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        """Open a Unix socket connection."""
        return _WideStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        """Wait (between connection retries)."""
        self._backend.sleep(seconds)


class _WideAsyncStream(httpcore2.AsyncNetworkStream):
    """A connection's socket, read `READ_BYTES` at a time (async)."""

    def __init__(self, stream: httpcore2.AsyncNetworkStream):
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to `max(max_bytes, READ_BYTES)` bytes."""
        return await self._stream.read(max(max_bytes, READ_BYTES), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send every byte of `buffer`."""
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        """Close the socket."""
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """The same connection over TLS, read as widely."""
        stream = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _WideAsyncStream(stream)

    def get_extra_info(self, info: str) -> Any:
        """What the socket tells (httpcore2 asks whether it is still readable)."""
        return self._stream.get_extra_info(info)


class _WideAsyncReads(httpcore2.AsyncNetworkBackend):
    """httpcore2's own async network backend, with connections read `READ_BYTES` at a time."""

    def __init__(self, backend: httpcore2.AsyncNetworkBackend):
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Open a TCP connection."""
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _WideAsyncStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Open a Unix socket connection."""
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return _WideAsyncStream(stream)

    async def sleep(self, seconds: float) -> None:
        """Wait (between connection retries)."""
        await self._backend.sleep(seconds)


def sync_transport() -> httpx2.HTTPTransport:
    """httpx2's default transport, its connections read `READ_BYTES` at a time.

    httpcore2 has no public setting for its read size; its pool's network backend (a private
    attribute) is wrapped when it is where this httpx2 keeps it, else the transport is left as
    httpx2 made it (only slower). `tests/test_transport.py` checks that it is wrapped.
    """
    transport = httpx2.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(pool, httpcore2.ConnectionPool) and isinstance(backend, httpcore2.NetworkBackend):
        pool._network_backend = _WideReads(backend)
    return transport


def async_transport() -> httpx2.AsyncHTTPTransport:
    """httpx2's default async transport, its connections read `READ_BYTES` at a time (see
    `sync_transport`)."""
    transport = httpx2.AsyncHTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(pool, httpcore2.AsyncConnectionPool) and isinstance(
        backend, httpcore2.AsyncNetworkBackend
    ):
        pool._network_backend = _WideAsyncReads(backend)
    return transport
