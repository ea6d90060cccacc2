"""Files and chunks: declare an upload, send chunks (raw or gzip), complete, list, download, delete.

The upload protocol, as Anaplan documents it:

1. `POST …/files/{id}` `{"chunkCount": N}` starts a new private upload of N chunks, or of an
   unknown number with `-1`. A path segment that is no file id creates a new file of that name.
2. `PUT …/files/{id}/chunks/{n}` (n from 0, any order) with `application/octet-stream`, or
   `application/x-gzip` for a gzip-compressed chunk (one or more concatenated members) → 204.
3. With `-1`, `POST …/files/{id}/complete` freezes the count at the chunks received.

`PUT …/files/{id}` uploads a whole small file as one chunk. Limits: 50 MB per chunk after
decompression (decompressed as a stream that stops at the cap, so a gzip bomb costs nothing),
at most 1,000 chunks. Corrupt gzip is a 400, an oversized chunk a 413, another content type a 415:
nothing of a refused chunk is stored.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any, cast

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...models import FileInfo
from ..engine.contract import Engine, Principal
from ..errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from ..jsontext import is_number
from .context import in_model, model_id_of, model_scoped
from .streams import ChunkedContent
from .wire import (
    envelope,
    listing,
    no_content,
    page_locally,
    parse_page,
    read_body,
    read_json_object,
)

MAX_CHUNK_BYTES = 50 * 1024 * 1024
"""Largest chunk Anaplan accepts, uncompressed (50 MB)."""

MAX_CHUNKS = 1000
"""Most chunks a file may have."""

MAX_GZIP_BODY = MAX_CHUNK_BYTES + 1024 * 1024
"""Largest compressed chunk body: gzip may grow incompressible data a little."""

RAW_TYPES = frozenset({"application/octet-stream"})
GZIP_TYPES = frozenset({"application/x-gzip", "application/gzip"})


def _inflater() -> tuple[Callable[..., Any], tuple[type[Exception], ...]]:
    """isal's inflate when installed (about 2.5 times zlib's speed, same interface), else zlib's."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib.decompressobj, (zlib.error,)
    isal_error = cast("type[Exception]", isal_zlib.error)  # its stub types it as an instance
    return isal_zlib.decompressobj, (zlib.error, isal_error)


_DECOMPRESSOBJ, _GZIP_ERRORS = _inflater()


def gunzip_capped(data: bytes, limit: int = MAX_CHUNK_BYTES) -> bytes:
    """Decompress gzip data (concatenated members allowed), refusing more than `limit` bytes.

    Decompression stops as soon as the output passes the limit, so the work done is bounded by
    the limit whatever the compression ratio.

    Raises:
        BadRequest: the data is not valid gzip (corrupt, truncated, trailing garbage, empty).
        PayloadTooLarge: the data decompresses to more than `limit` bytes.
    """
    if not data:
        raise BadRequest("The chunk is empty, which is not valid gzip.")
    output = bytearray()
    remaining = data
    try:
        while remaining:
            decompressor = _DECOMPRESSOBJ(wbits=16 + zlib.MAX_WBITS)
            pending = remaining
            while not decompressor.eof:
                piece = decompressor.decompress(pending, limit + 1 - len(output))
                output += piece
                if len(output) > limit:
                    raise PayloadTooLarge(
                        f"The chunk is over {limit // (1024 * 1024)} MB uncompressed."
                    )
                pending = decompressor.unconsumed_tail
                if not decompressor.eof and not piece and not pending:
                    raise BadRequest("The chunk is not valid gzip: the data is truncated.")
            remaining = decompressor.unused_data
    except _GZIP_ERRORS as error:
        raise BadRequest(f"The chunk is not valid gzip: {error}.") from None
    return bytes(output)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_chunk_body(request: Request) -> bytes:
    """The decompressed chunk in the body, checked against the content type and the limits."""
    content_type = _content_type(request)
    if content_type in RAW_TYPES:
        return await read_body(request, MAX_CHUNK_BYTES)
    if content_type in GZIP_TYPES:
        compressed = await read_body(request, MAX_GZIP_BODY)
        return await anyio.to_thread.run_sync(gunzip_capped, compressed)
    shown = content_type or "none"
    raise UnsupportedMediaType(
        f"Content-Type must be application/octet-stream or application/x-gzip, not {shown}."
    )


def chunk_index(request: Request) -> int:
    """The `{chunkId}` of the path: a number from 0 to 999, else a 400."""
    raw: str = request.path_params["chunkId"]
    if not is_number(raw):
        raise BadRequest(f"Chunk id must be a number from 0 to {MAX_CHUNKS - 1}, not '{raw}'.")
    index = int(raw)
    if index >= MAX_CHUNKS:
        raise BadRequest(f"A file has at most {MAX_CHUNKS:,} chunks (0 to {MAX_CHUNKS - 1}).")
    return index


def _file_response(request: Request, file: FileInfo) -> Response:
    return envelope(request, "file", model_id=model_id_of(request), file=file.to_wire())


async def list_files(request: Request) -> Response:
    """Import and export files with the caller's chunk counts."""
    page = parse_page(request)
    paged = await in_model(
        request, lambda engine, principal, model_id: engine.files(principal, model_id, page)
    )
    return listing(request, "files", "file", paged, model_id=model_id_of(request), page=page)


MAX_FILE_NAME = 255


def check_new_file_name(name: str) -> None:
    """A name that creates a file must be printable, not `.`/`..`, and at most 255 characters."""
    if name in (".", "..") or len(name) > MAX_FILE_NAME or not name.strip():
        raise BadRequest(f"'{name[:40]}' is not a valid file name.")
    if any(not character.isprintable() for character in name):
        raise BadRequest("A file name must not contain control characters.")


async def set_chunk_count(request: Request) -> Response:
    """Start a private upload of `chunkCount` chunks (`-1`: unknown, finish with /complete)."""
    file_ref: str = request.path_params["fileId"]
    if not is_number(file_ref):
        check_new_file_name(file_ref)
    body = await read_json_object(request)
    chunk_count = body.get("chunkCount")
    if chunk_count is None:
        raise BadRequest("Expected mandatory field 'chunkCount' to be present.")
    if not isinstance(chunk_count, int) or isinstance(chunk_count, bool):
        raise BadRequest("'chunkCount' must be a whole number (-1 when unknown).")
    if chunk_count < -1:
        raise BadRequest("'chunkCount' must be -1 (unknown) or a count of chunks.")
    if chunk_count > MAX_CHUNKS:
        raise BadRequest(f"A file has at most {MAX_CHUNKS:,} chunks, not {chunk_count:,}.")
    file = await in_model(
        request,
        lambda engine, principal, model_id: engine.set_chunk_count(
            principal, model_id, file_ref, chunk_count
        ),
    )
    return _file_response(request, file)


async def put_chunk(request: Request) -> Response:
    """Store one chunk; 204 once it is durable."""
    file_id: str = request.path_params["fileId"]
    index = chunk_index(request)
    data = await read_chunk_body(request)
    await in_model(
        request,
        lambda engine, principal, model_id: engine.put_chunk(
            principal, model_id, file_id, index, data
        ),
    )
    return no_content()


async def put_whole_file(request: Request) -> Response:
    """Upload a whole (small) file as a single chunk; 204."""
    file_ref: str = request.path_params["fileId"]
    data = await read_chunk_body(request)

    def upload(engine: Engine, principal: Principal, model_id: str) -> None:
        file = engine.set_chunk_count(principal, model_id, file_ref, 1)
        engine.put_chunk(principal, model_id, file.id, 0, data)

    await in_model(request, upload)
    return no_content()


async def complete_upload(request: Request) -> Response:
    """Freeze the chunk count of a `-1` upload at the chunks received."""
    file_id: str = request.path_params["fileId"]
    await read_json_object(request, required=False)  # a file object or a subset; only checked
    file = await in_model(
        request,
        lambda engine, principal, model_id: engine.complete_upload(principal, model_id, file_id),
    )
    return _file_response(request, file)


async def list_chunks(request: Request) -> Response:
    """The caller's chunks of a file (`chunks` left out when there are none)."""
    file_id: str = request.path_params["fileId"]
    page = parse_page(request)
    chunks = await in_model(
        request,
        lambda engine, principal, model_id: engine.file_chunks(principal, model_id, file_id),
    )
    return listing(
        request,
        "chunks",
        "chunk",
        page_locally(chunks, page),
        model_id=model_id_of(request),
        page=page,
    )


async def get_chunk(request: Request) -> Response:
    """One chunk's bytes."""
    file_id: str = request.path_params["fileId"]
    index = chunk_index(request)
    data = await in_model(
        request,
        lambda engine, principal, model_id: engine.read_chunk(principal, model_id, file_id, index),
    )
    return Response(data, media_type="application/octet-stream")


async def get_whole_file(request: Request) -> Response:
    """The whole content, streamed chunk after chunk (404 when there is none)."""
    file_id: str = request.path_params["fileId"]

    def open_file(engine: Engine, principal: Principal, model_id: str) -> Iterator[bytes]:
        pieces = iter(engine.read_file(principal, model_id, file_id))
        first = next(pieces, b"")  # errors (404) surface here, before the answer starts
        return chain([first], pieces)

    content = await in_model(request, open_file)
    return ChunkedContent(content, media_type="application/octet-stream")


async def delete_file(request: Request) -> Response:
    """Remove the caller's private content; 204."""
    file_id: str = request.path_params["fileId"]
    await in_model(
        request,
        lambda engine, principal, model_id: engine.delete_file(principal, model_id, file_id),
    )
    return no_content()


def file_routes() -> list[Route]:
    """Routes for files and chunks, in both path forms."""
    return [
        *model_scoped("/files", list_files, ["GET"], "list_files"),
        *model_scoped("/files/{fileId}", set_chunk_count, ["POST"], "set_chunk_count"),
        *model_scoped("/files/{fileId}", put_whole_file, ["PUT"], "put_whole_file"),
        *model_scoped("/files/{fileId}", get_whole_file, ["GET"], "get_whole_file"),
        *model_scoped("/files/{fileId}", delete_file, ["DELETE"], "delete_file"),
        *model_scoped("/files/{fileId}/complete", complete_upload, ["POST"], "complete_upload"),
        *model_scoped("/files/{fileId}/chunks", list_chunks, ["GET"], "list_chunks"),
        *model_scoped("/files/{fileId}/chunks/{chunkId}", get_chunk, ["GET"], "get_chunk"),
        *model_scoped("/files/{fileId}/chunks/{chunkId}", put_chunk, ["PUT"], "put_chunk"),
    ]
