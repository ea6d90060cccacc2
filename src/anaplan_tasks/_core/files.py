"""Upload and download flows.

Upload protocol: `POST /files/{id}` declares the chunk count — the exact count when the size is
known up front (a path or bytes, cut into line-aligned ranges by planning), or `-1` for a stream
of unknown length, finished by `POST /files/{id}/complete`. Chunks are `PUT /chunks/{n}` as
`application/x-gzip`, at most `workers` at a time, each retried on its own (PUT is idempotent);
a chunk that still fails raises `ChunkUploadError(index)` and the upload is never declared
complete. Each chunk is read (or taken from the stream) only when a worker is free for it, so
memory stays about workers x chunk size whatever the file size.

Download: the chunk list, then each chunk in order, emitted as it arrives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..errors import AnaplanError, ChunkUploadError, ServerError
from ..models import ChunkInfo, FileInfo
from . import endpoints
from .calls import call, list_all, stream_get
from .chunks import compress, compress_range
from .flow import Context, Flow, Offload, Parallel, Request
from .responses import ascii_int, decode_body, items_of, json_object

logger = logging.getLogger("anaplan_tasks")


@dataclass(frozen=True)
class RangeSource:
    """Data of known size, read range by range (a file on disk, or bytes in memory)."""

    ranges: list[tuple[int, int]]
    read_at: Callable[[int, int], bytes]


@dataclass(frozen=True)
class StreamSource:
    """Data of unknown size: chunks produced one after another."""

    chunks: Iterator[bytes]


def list_files(ctx: Context) -> Flow[list[FileInfo]]:
    """The model's files."""
    items = yield from list_all(ctx, endpoints.files(ctx), "files")
    return [FileInfo.model_validate(item) for item in items]


def _file_of(response_body: Mapping[str, Any], fallback_id: str) -> FileInfo:
    file_data = response_body.get("file")
    if isinstance(file_data, Mapping):
        return FileInfo.model_validate(file_data)
    return FileInfo(id=fallback_id, name=fallback_id)


UploadProgressCallback = Callable[[int, int | None], None]
"""Called after each chunk is stored: uncompressed bytes uploaded so far, and the total when
known (None for a stream)."""


class _Tally:
    """Bytes uploaded so far; chunks finish on several workers at once."""

    def __init__(self, total: int | None, report: UploadProgressCallback | None):
        self._total = total
        self._report = report
        self._sent = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        if self._report is None:
            return
        with self._lock:
            self._sent += count
            sent = self._sent
        self._report(sent, self._total)


def _put_chunk(
    ctx: Context, file_id: str, index: int, produce: Callable[[], bytes], done: Callable[[], None]
) -> Flow[int]:
    try:
        payload = yield Offload(produce)
        request = Request(
            "PUT",
            endpoints.file_chunk(ctx, file_id, index),
            headers={"Content-Type": "application/x-gzip"},
            content=payload,
        )
        yield from call(ctx, request)
    except AnaplanError as error:
        raise ChunkUploadError(index, file_id, error) from error
    done()
    return index


def upload(
    ctx: Context,
    file_id: str,
    source: RangeSource | StreamSource,
    workers: int,
    on_progress: UploadProgressCallback | None = None,
) -> Flow[FileInfo]:
    """Upload `source` as the content of file `file_id`; returns the file as Anaplan reports it.

    `on_progress` hears after each stored chunk how many uncompressed bytes are up.
    """
    known = isinstance(source, RangeSource)
    declared = len(source.ranges) if isinstance(source, RangeSource) else -1
    response = yield from call(
        ctx,
        Request("POST", endpoints.file(ctx, file_id), json={"chunkCount": declared}),
    )
    info = _file_of(json_object(response), file_id)
    if info.id != file_id:
        raise ServerError(
            f"setting the chunk count of {file_id} answered file {info.id}",
            status_code=response.status_code,
        )

    total = sum(length for _, length in source.ranges) if isinstance(source, RangeSource) else None
    tally = _Tally(total, on_progress)

    def chunk_flows() -> Iterator[Flow[int]]:
        if isinstance(source, RangeSource):
            for index, (offset, length) in enumerate(source.ranges):

                def produce(offset: int = offset, length: int = length) -> bytes:
                    return compress_range(source.read_at, offset, length)

                yield _put_chunk(ctx, file_id, index, produce, partial(tally.add, length))
        else:
            for index, raw in enumerate(source.chunks):

                def produce_raw(raw: bytes = raw) -> bytes:
                    return compress(raw)

                yield _put_chunk(ctx, file_id, index, produce_raw, partial(tally.add, len(raw)))

    sent: list[int] = yield Parallel(chunk_flows(), limit=max(1, workers))
    logger.info("uploaded %d chunks to file %s", len(sent), file_id)
    if known:
        return info.model_copy(update={"chunk_count": len(sent)})
    response = yield from call(
        ctx,
        Request("POST", endpoints.file_complete(ctx, file_id), json={"id": file_id}),
    )
    completed = _file_of(json_object(response), file_id)
    if completed.chunk_count != len(sent):
        raise ServerError(
            f"file {file_id}: sent {len(sent)} chunks but the server reports "
            f"{completed.chunk_count}",
            status_code=response.status_code,
        )
    return completed


def chunk_list(ctx: Context, url: str) -> Flow[list[ChunkInfo]]:
    """A chunk list (files or dumps); an absent `chunks` key means none."""
    response = yield from call(ctx, Request("GET", url))
    body = decode_body(response)
    if not isinstance(body, Mapping):
        return []
    return [ChunkInfo.model_validate(item) for item in items_of(body, "chunks")]


def download_chunks(ctx: Context, list_url: str, chunk_url: Callable[[int], str]) -> Flow[int]:
    """Emit every chunk listed at `list_url`, in order, as its bytes arrive; returns the count.

    Bodies are streamed (a piece of up to 64 KB held at a time). A connection that breaks
    mid-chunk is retried like any idempotent GET, and the bytes already emitted are skipped on
    the new read.
    """
    chunks = yield from chunk_list(ctx, list_url)
    numbers: list[int] = []
    for chunk in chunks:
        number = ascii_int(chunk.id)
        if number is None:
            raise ServerError(
                f"the chunk list at {list_url} names a chunk {chunk.id!r}, not a number",
                status_code=200,
                body=chunk.id,
            )
        numbers.append(number)
    total = 0
    for number in sorted(numbers):
        request = Request(
            "GET",
            chunk_url(number),
            headers={"Accept": "application/octet-stream"},
            stream=True,
        )
        total += yield from stream_get(ctx, request)
    return total


def download(ctx: Context, file_id: str) -> Flow[int]:
    """Emit a file's content chunk by chunk; returns the byte count."""
    return (
        yield from download_chunks(
            ctx,
            endpoints.file_chunks(ctx, file_id),
            lambda index: endpoints.file_chunk(ctx, file_id, index),
        )
    )


def delete(ctx: Context, file_id: str) -> Flow[None]:
    """Remove the caller's private content of a file."""
    yield from call(ctx, Request("DELETE", endpoints.file(ctx, file_id)))
