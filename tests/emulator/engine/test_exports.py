"""Export output is cut into 10 MB chunks as it is written."""

from __future__ import annotations

from anaplan_tasks.emulator.engine.context import CHUNK_SIZE
from anaplan_tasks.emulator.engine.exports import ChunkWriter


def test_output_is_cut_into_ten_megabyte_chunks() -> None:
    out = ChunkWriter()
    line = "x" * 99 + "\n"
    written = 0
    for _ in range(25):
        for _ in range(10_000):
            out.buffer.write(line)
        written += 10_000 * len(line)
        out.flush()
    out.flush(final=True)
    assert [len(c) for c in out.chunks] == [CHUNK_SIZE, CHUNK_SIZE, written - 2 * CHUNK_SIZE]
    assert out.size == written
    assert b"".join(out.chunks) == (line * 250_000).encode()


def test_empty_output_is_one_empty_chunk() -> None:
    out = ChunkWriter()
    out.flush(final=True)
    assert out.chunks == [b""]
