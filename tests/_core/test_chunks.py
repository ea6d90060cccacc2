"""Chunk planning (sizes, limits, line boundaries) and per-chunk gzip."""

from __future__ import annotations

import gzip

import pytest

from anaplan_tasks._core.chunks import (
    DEFAULT_CHUNK_SIZE,
    MAX_CHUNK_SIZE,
    MB,
    MIN_CHUNK_SIZE,
    compress,
    compress_range,
    line_chunks,
    plan_chunk_size,
    plan_ranges,
)
from anaplan_tasks.errors import ConfigurationError


@pytest.mark.parametrize(
    ("total", "preferred", "expected"),
    [
        (None, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE),
        (None, 10, MIN_CHUNK_SIZE),
        (None, 10**9, MAX_CHUNK_SIZE),
        (200 * MB, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE),
        (30_000 * MB, DEFAULT_CHUNK_SIZE, -(-30_000 * MB // 990)),
    ],
)
def test_chunk_size_is_clamped_and_grown_to_fit_a_thousand_chunks(
    total: int | None, preferred: int, expected: int
) -> None:
    assert plan_chunk_size(total, preferred) == expected


def test_data_too_large_for_anaplan_is_refused_up_front() -> None:
    with pytest.raises(ConfigurationError, match="1000 chunks"):
        plan_chunk_size(51 * 1000 * MB)


def _reader(data: bytes):  # type: ignore[no-untyped-def]
    return lambda offset, length: data[offset : offset + length]


def test_ranges_end_on_line_boundaries_and_cover_everything() -> None:
    lines = [f"row {n},{'x' * (n % 37)}\n".encode() for n in range(20_000)]
    data = b"".join(lines)
    chunk = 50_000
    ranges = plan_ranges(len(data), chunk, _reader(data))
    assert b"".join(data[o : o + n] for o, n in ranges) == data
    for offset, length in ranges[:-1]:
        assert data[offset + length - 1 : offset + length] == b"\n"
        assert length <= chunk
    assert len(ranges) == pytest.approx(len(data) / chunk, abs=2)


def test_a_line_longer_than_a_chunk_extends_the_chunk_to_its_end() -> None:
    data = b"short\n" + b"y" * 3000 + b"\nend\n"
    ranges = plan_ranges(len(data), 1000, _reader(data))
    assert [data[o : o + n] for o, n in ranges] == [b"short\n", b"y" * 3000 + b"\n", b"end\n"]


def test_empty_data_is_one_empty_chunk() -> None:
    assert plan_ranges(0, MB, _reader(b"")) == [(0, 0)]
    assert list(line_chunks([], MB)) == [b""]


def test_stream_chunks_cut_on_lines_whatever_the_block_boundaries() -> None:
    data = b"".join(f"{n},{'z' * (n % 11)}\n".encode() for n in range(5000))
    blocks = [data[i : i + 777] for i in range(0, len(data), 777)]
    chunks = list(line_chunks(blocks, 4096))
    assert b"".join(chunks) == data
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert all(len(chunk) <= 4096 for chunk in chunks)


def test_stream_without_trailing_newline_keeps_the_last_bytes() -> None:
    chunks = list(line_chunks([b"a\nb\nc"], 2))
    assert b"".join(chunks) == b"a\nb\nc"


def test_stream_rejects_text() -> None:
    with pytest.raises(TypeError, match="str"):
        list(line_chunks(["text"], 10))  # type: ignore[list-item]


def test_a_range_is_compressed_piece_by_piece_into_one_member() -> None:
    data = bytes(range(256)) * 20_000
    member = compress_range(lambda offset, length: data[offset : offset + length], 1000, 3_000_000)
    assert gzip.decompress(member) == data[1000:3_001_000]


def test_a_source_that_shrank_is_reported() -> None:
    with pytest.raises(ValueError, match="ended"):
        compress_range(lambda offset, length: b"", 0, 10)


def test_each_chunk_is_its_own_gzip_member() -> None:
    first, second = compress(b"a,b\n1,2\n"), compress(b"3,4\n")
    assert gzip.decompress(first) == b"a,b\n1,2\n"
    assert gzip.decompress(first + second) == b"a,b\n1,2\n3,4\n"
