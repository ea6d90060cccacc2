"""Chunk planning and compression for uploads.

Anaplan takes 1-50 MB of uncompressed data per chunk and at most 1,000 chunks per file. Chunks
are cut on line boundaries (so a row is never split across chunks; a line longer than the hard
maximum is cut at the maximum), each compressed as its own gzip member with the fastest codec
installed: isal, then zlib-ng, then zlib, at level 1. A range of a file is read and compressed
1 MB at a time, so only the compressed chunk is ever held in full.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import ConfigurationError

MB = 1_000_000
MIN_CHUNK_SIZE = 1 * MB
MAX_CHUNK_SIZE = 50 * MB
DEFAULT_CHUNK_SIZE = 10 * MB
"""Small enough that compressing one chunk overlaps with sending another, large enough that a
10 GB file still fits in 1,000 chunks (bigger files get bigger chunks, see `plan_chunk_size`)."""
MAX_CHUNKS = 1000
_SCAN_WINDOW = 1 << 16


def plan_chunk_size(total_size: int | None, preferred: int = DEFAULT_CHUNK_SIZE) -> int:
    """The chunk size to use: `preferred` clamped to 1-50 MB, grown so ≤ 1,000 chunks suffice.

    Args:
        total_size: The data's size in bytes, when known.
        preferred: The wanted chunk size.

    Raises:
        ConfigurationError: When the data cannot fit in 1,000 chunks of 50 MB.
    """
    size = min(max(preferred, MIN_CHUNK_SIZE), MAX_CHUNK_SIZE)
    if total_size is not None:
        # Leave room for line-boundary cuts, which make chunks slightly smaller.
        needed = -(-total_size // (MAX_CHUNKS - 10))
        size = max(size, needed)
        if size > MAX_CHUNK_SIZE:
            raise ConfigurationError(
                f"{total_size} bytes do not fit in {MAX_CHUNKS} chunks of at most "
                f"{MAX_CHUNK_SIZE} bytes"
            )
    return size


def plan_ranges(
    total_size: int, chunk_size: int, read_at: Callable[[int, int], bytes]
) -> list[tuple[int, int]]:
    """Cut `total_size` bytes into (offset, length) ranges ending on line boundaries.

    Each range ends just after the last newline at or before `offset + chunk_size`; when a
    line is longer than a chunk, the range extends to the next newline but never beyond
    `MAX_CHUNK_SIZE`. Only small windows are read (`read_at(offset, length)`), so planning a
    large file costs little.
    """
    ranges: list[tuple[int, int]] = []
    offset = 0
    while offset < total_size:
        end = min(offset + chunk_size, total_size)
        if end < total_size:
            end = _cut_before(offset, end, read_at) or _cut_after(end, total_size, offset, read_at)
        ranges.append((offset, end - offset))
        offset = end
    if not ranges:
        ranges.append((0, 0))
    if len(ranges) > MAX_CHUNKS:
        raise ConfigurationError(f"the data needs {len(ranges)} chunks; Anaplan allows 1000")
    return ranges


def _cut_before(start: int, end: int, read_at: Callable[[int, int], bytes]) -> int | None:
    position = end
    while position > start:
        window_start = max(start, position - _SCAN_WINDOW)
        window = read_at(window_start, position - window_start)
        newline = window.rfind(b"\n")
        if newline >= 0:
            return window_start + newline + 1
        position = window_start
    return None


def _cut_after(end: int, total_size: int, start: int, read_at: Callable[[int, int], bytes]) -> int:
    limit = min(total_size, start + MAX_CHUNK_SIZE)
    position = end
    while position < limit:
        window = read_at(position, min(_SCAN_WINDOW, limit - position))
        newline = window.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(window)
        if not window:
            break
    return limit


def line_chunks(blocks: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    """Re-cut a stream of blocks into chunks of about `chunk_size` ending on line boundaries.

    At most one chunk plus one block is held at a time. Always yields at least one chunk (an
    empty one for empty input).
    """
    buffer = bytearray()
    emitted = False
    for block in blocks:
        if not isinstance(block, bytes | bytearray | memoryview):
            raise TypeError(f"upload source yielded {type(block).__name__}, expected bytes")
        buffer += block
        while len(buffer) >= chunk_size:
            cut = buffer.rfind(b"\n", 0, chunk_size)
            if cut < 0:
                cut = buffer.find(b"\n", chunk_size, MAX_CHUNK_SIZE)
                if cut < 0:
                    if len(buffer) < MAX_CHUNK_SIZE:
                        break
                    cut = MAX_CHUNK_SIZE - 1
            chunk = bytes(buffer[: cut + 1])
            del buffer[: cut + 1]
            emitted = True
            yield chunk
    if buffer or not emitted:
        yield bytes(buffer)


_PIECE = 1 << 20


def _pick_codec() -> tuple[str, Any]:
    try:
        from isal import isal_zlib

        return "isal", isal_zlib
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng

        return "zlib-ng", zlib_ng
    except ImportError:
        pass
    return "zlib", zlib


CODEC, _codec = _pick_codec()
"""The codec in use: `isal`, `zlib-ng` or `zlib`."""


def _compressor() -> Any:
    # wbits 31: a gzip member (header and trailer); level 1: speed over the last few percent.
    return _codec.compressobj(1, _codec.DEFLATED, 31)


def compress(data: bytes) -> bytes:
    """Gzip one chunk as its own member with the fastest codec installed."""
    compressor = _compressor()
    return bytes(compressor.compress(data) + compressor.flush())


def compress_range(read_at: Callable[[int, int], bytes], offset: int, length: int) -> bytes:
    """Read and gzip a range piece by piece: only the compressed chunk is held in full."""
    compressor = _compressor()
    parts: list[bytes] = []
    end = offset + length
    while offset < end:
        piece = read_at(offset, min(_PIECE, end - offset))
        if not piece:
            raise ValueError(f"the source ended {end - offset} bytes early (did it change?)")
        parts.append(compressor.compress(piece))
        offset += len(piece)
    parts.append(compressor.flush())
    return b"".join(parts)
