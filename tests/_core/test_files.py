"""Upload and download flows on a scripted server."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

from anaplan_tasks._core import files
from anaplan_tasks._core.chunks import line_chunks, plan_ranges
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks.errors import ChunkUploadError, ServerError, TransportError

from .scripted import Scripted, json_response

FILE_ID = "113000000001"


class FileServer:
    """Stores chunks; can fail chunk PUTs and break chunk downloads mid-body."""

    def __init__(self, fail_put: set[int] | None = None):
        self.chunks: dict[int, bytes] = {}
        self.declared: int | None = None
        self.completed = False
        self.fail_put = fail_put or set()

    def __call__(self, request: Request) -> Response:
        url = request.url
        if request.method == "POST" and url.endswith(f"/files/{FILE_ID}"):
            self.declared = request.json["chunkCount"]
            return json_response(200, {"file": {"id": FILE_ID, "name": "f.csv"}})
        if request.method == "PUT":
            index = int(url.rsplit("/", 1)[1])
            if index in self.fail_put:
                return json_response(400, {"status": {"code": 400, "message": "bad chunk"}})
            assert request.headers["Content-Type"] == "application/x-gzip"
            self.chunks[index] = gzip.decompress(request.content or b"")
            return Response(204)
        if request.method == "POST" and url.endswith("/complete"):
            self.completed = True
            count = len(self.chunks)
            return json_response(200, {"file": {"id": FILE_ID, "name": "f", "chunkCount": count}})
        if url.endswith("/chunks"):
            items = [{"id": str(i), "name": f"Chunk {i}"} for i in sorted(self.chunks)]
            return json_response(200, {"chunks": items})
        if request.method == "GET":
            return Response(200, {}, self.chunks[int(url.rsplit("/", 1)[1])])
        raise AssertionError(request)

    def content(self) -> bytes:
        return b"".join(self.chunks[i] for i in sorted(self.chunks))


DATA = b"".join(f"{n},name {n}\n".encode() for n in range(3000))


def test_known_size_declares_the_count_and_needs_no_complete() -> None:
    server = FileServer()
    env = Scripted(server)
    ranges = plan_ranges(len(DATA), 4000, lambda o, n: DATA[o : o + n])
    source = files.RangeSource(ranges, lambda o, n: DATA[o : o + n])
    info = env.run(files.upload(env.context(), FILE_ID, source, workers=3))
    assert server.declared == len(ranges) == info.chunk_count
    assert server.content() == DATA
    assert not server.completed


def test_progress_counts_every_stored_chunk_up_to_the_total() -> None:
    env = Scripted(FileServer())
    ranges = plan_ranges(len(DATA), 4000, lambda o, n: DATA[o : o + n])
    source = files.RangeSource(ranges, lambda o, n: DATA[o : o + n])
    seen: list[tuple[int, int | None]] = []
    env.run(files.upload(env.context(), FILE_ID, source, 3, lambda s, t: seen.append((s, t))))
    assert len(seen) == len(ranges)
    assert [sent for sent, _ in seen] == sorted(sent for sent, _ in seen)
    assert seen[-1] == (len(DATA), len(DATA))

    streamed: list[tuple[int, int | None]] = []
    stream = files.StreamSource(iter([DATA[:5000], DATA[5000:]]))
    env = Scripted(FileServer())
    env.run(files.upload(env.context(), FILE_ID, stream, 2, lambda s, t: streamed.append((s, t))))
    assert streamed[-1] == (len(DATA), None)


def test_a_stream_declares_minus_one_and_completes() -> None:
    server = FileServer()
    env = Scripted(server)
    source = files.StreamSource(
        iter(line_chunks([DATA[i : i + 999] for i in range(0, len(DATA), 999)], 5000))
    )
    info = env.run(files.upload(env.context(), FILE_ID, source, workers=2))
    assert server.declared == -1
    assert server.completed
    assert info.chunk_count == len(server.chunks)
    assert server.content() == DATA


def test_a_failed_chunk_names_its_index_and_the_upload_is_never_completed() -> None:
    server = FileServer(fail_put={2})
    env = Scripted(server)
    source = files.StreamSource(iter(line_chunks([DATA], 5000)))
    with pytest.raises(ChunkUploadError) as caught:
        env.run(files.upload(env.context(), FILE_ID, source, workers=2))
    assert caught.value.index == 2
    assert caught.value.file_id == FILE_ID
    assert not server.completed


def test_a_download_broken_mid_chunk_resumes_without_repeating_bytes() -> None:
    server = FileServer()
    server.chunks = {0: b"a" * 10 + b"b" * 10, 1: b"c" * 5}
    broken = {"once": True}

    def handler(request: Request) -> Response:
        answer = server(request)
        if request.stream and request.url.endswith("/chunks/0") and broken["once"]:
            broken["once"] = False

            def pieces() -> Iterator[bytes]:
                yield b"a" * 10
                yield b"b" * 3
                raise TransportError("reset mid-body", request_sent=True)

            return Response(200, {}, b"", pieces())
        return answer

    env = Scripted(handler)
    total = env.run(files.download(env.context(), "116000000001"))
    assert b"".join(env.emitted) == b"a" * 10 + b"b" * 10 + b"c" * 5
    assert total == 25
    assert len(env.sleeps) == 1


@pytest.mark.parametrize("chunk_id", ["\u00b2", "\u0661", "1a", ""])
def test_a_chunk_id_that_is_not_ascii_digits_is_a_server_error_not_a_guess(chunk_id: str) -> None:
    def server(request: Request) -> Response:
        if request.url.endswith("/chunks"):
            items = [{"id": "0", "name": "Chunk 0"}, {"id": chunk_id, "name": "odd"}]
            return json_response(200, {"chunks": items})
        raise AssertionError(f"no chunk may be read before the list is checked: {request}")

    env = Scripted(server)
    with pytest.raises(ServerError, match="not a number"):
        env.run(files.download(env.context(), FILE_ID))
