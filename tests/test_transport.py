"""The HTTP boundary: httpx2 exceptions become TransportError, recording whether anything left.

Connection failures cannot be provoked reliably by the emulator, so these use httpx2's
MockTransport; the read size is seen from a raw socket server; everything else is tested
against the emulator in tests/client.
"""

from __future__ import annotations

import socket
import threading

import httpx2
import pytest

from anaplan_tasks._core.flow import Request
from anaplan_tasks._transport import AsyncTransport, SyncTransport
from anaplan_tasks._widereads import READ_BYTES
from anaplan_tasks.errors import TransportError

URL = "https://api.test/2/0/workspaces"


def _raising(error: Exception) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise error

    return httpx2.MockTransport(handler)


@pytest.mark.parametrize(
    ("error", "sent"),
    [
        (httpx2.ConnectError("refused"), False),
        (httpx2.ConnectTimeout("slow handshake"), False),
        (httpx2.PoolTimeout("no connection free"), False),
        (httpx2.ReadTimeout("no answer"), True),
        (httpx2.WriteTimeout("stalled upload"), True),
        (httpx2.ReadError("reset by peer"), True),
        (httpx2.RemoteProtocolError("server hung up"), True),
    ],
)
def test_exceptions_say_whether_the_request_may_have_arrived(error: Exception, sent: bool) -> None:
    transport = SyncTransport(timeout=1, connect_timeout=1, transport=_raising(error))
    with pytest.raises(TransportError) as caught:
        transport.send(Request("POST", URL, retry="start", headers={"Authorization": "secret"}))
    assert caught.value.request_sent is sent
    assert caught.value.method == "POST"
    assert URL in str(caught.value)
    assert "secret" not in str(caught.value)
    transport.close()


async def test_the_async_boundary_maps_the_same_way() -> None:
    transport = AsyncTransport(
        timeout=1, connect_timeout=1, transport=_raising(httpx2.ConnectError("refused"))
    )
    with pytest.raises(TransportError) as caught:
        await transport.send(Request("GET", URL))
    assert caught.value.request_sent is False
    await transport.aclose()


def test_requests_are_sent_as_described() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, headers={"Retry-After": "3"}, json={"ok": True})

    transport = SyncTransport(timeout=1, connect_timeout=1, transport=httpx2.MockTransport(handler))
    answer = transport.send(
        Request("PUT", URL, params={"limit": "5"}, headers={"X-A": "1"}, content=b"raw")
    )
    assert answer.status_code == 200
    assert answer.headers["retry-after"] == "3"
    assert answer.json() == {"ok": True}
    assert seen[0].url.params["limit"] == "5"
    assert seen[0].headers["X-A"] == "1"
    assert seen[0].content == b"raw"


def test_a_callers_own_client_is_left_open() -> None:
    own = httpx2.Client(transport=httpx2.MockTransport(lambda r: httpx2.Response(204)))
    transport = SyncTransport(timeout=1, connect_timeout=1, http_client=own)
    assert transport.send(Request("DELETE", URL)).status_code == 204
    transport.close()
    assert not own.is_closed
    own.close()


def _serve_bodies(bodies: list[bytes], connections: int = 1) -> tuple[str, threading.Thread]:
    """A raw HTTP/1.1 server answering `bodies`, one per request, on each of `connections`
    keep-alive connections (served at once), each in a single send (so reads can be as wide
    as the client asks)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer(connection: socket.socket) -> None:
        with connection:
            pending = b""
            for body in bodies:
                while b"\r\n\r\n" not in pending:
                    pending += connection.recv(65536)
                _, pending = pending.split(b"\r\n\r\n", 1)
                head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n".encode()
                connection.sendall(head + body)

    def serve() -> None:
        with listener:
            workers = [
                threading.Thread(target=answer, args=(listener.accept()[0],), daemon=True)
                for _ in range(connections)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}/chunks", thread


BODIES = [bytes([n]) * (4 << 20) + b"end %d" % n for n in range(2)]


def test_our_connections_read_wider_than_httpx2s_64_kb_and_stay_in_step() -> None:
    url, server = _serve_bodies(BODIES)
    transport = SyncTransport(timeout=10, connect_timeout=5)
    for body in BODIES:  # two answers on one connection: no byte read past its answer is lost
        response = transport.send(Request("GET", url, stream=True))
        pieces = []
        while piece := transport.read(response.stream):
            pieces.append(piece)
        assert b"".join(pieces) == body
        assert 64 * 1024 < max(map(len, pieces)) <= READ_BYTES
    transport.close()
    server.join(5)


async def test_async_connections_read_as_wide() -> None:
    url, server = _serve_bodies(BODIES)
    transport = AsyncTransport(timeout=10, connect_timeout=5)
    for body in BODIES:
        response = await transport.send(Request("GET", url, stream=True))
        pieces = []
        while piece := await transport.read(response.stream):
            pieces.append(piece)
        assert b"".join(pieces) == body
        assert 64 * 1024 < max(map(len, pieces)) <= READ_BYTES
    await transport.aclose()
    server.join(5)


def test_two_threads_on_one_transport_each_read_their_own_answers_whole() -> None:
    url, server = _serve_bodies(BODIES, connections=2)
    transport = SyncTransport(timeout=10, connect_timeout=5)
    received: list[list[bytes]] = [[], []]
    started = threading.Barrier(2)

    def download(slot: int) -> None:
        started.wait()
        for _ in BODIES:
            response = transport.send(Request("GET", url, stream=True))
            pieces = []
            while piece := transport.read(response.stream):
                pieces.append(piece)
            received[slot].append(b"".join(pieces))

    threads = [threading.Thread(target=download, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert received == [BODIES, BODIES]
    transport.close()
    server.join(5)
