"""Reading an uploaded file as CSV records, chunk by chunk, counting the bytes consumed."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator

from ..definitions import FileDef

_CODECS = {"UTF-8": "utf-8-sig", "ISO-8859-1": "latin-1", "UTF-16LE": "utf-16-le"}


class ChunkStream(io.RawIOBase):
    """A read-only byte stream over a file's chunks, loaded one at a time."""

    def __init__(self, read_chunk: Callable[[int], bytes], chunk_count: int, total_bytes: int):
        super().__init__()
        self._read_chunk = read_chunk
        self._count = chunk_count
        self._next = 0
        self._current = memoryview(b"")
        self._position = 0
        self.total_bytes = total_bytes
        self.bytes_read = 0

    def readable(self) -> bool:
        """Always: this is a read stream."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Copy the next bytes into `buffer`; 0 at the end."""
        while self._position >= len(self._current):
            if self._next >= self._count:
                return 0
            self._current = memoryview(self._read_chunk(self._next))
            self._next += 1
            self._position = 0
        size = min(len(buffer), len(self._current) - self._position)
        buffer[:size] = self._current[self._position : self._position + size]
        self._position += size
        self.bytes_read += size
        return size


def codec_of(source: FileDef) -> str:
    """The Python codec that reads the data source's encoding."""
    return _CODECS.get(source.encoding, "utf-8")


def csv_records(stream: ChunkStream, source: FileDef) -> Iterator[list[str]]:
    """The file's records (lists of fields) decoded per the data source's settings.

    Decoding is strict: bytes that are not valid in the source's encoding raise
    `UnicodeDecodeError` (see `undecodable_lines`), they are never replaced.
    """
    text = io.TextIOWrapper(
        io.BufferedReader(stream, 1 << 16),
        encoding=codec_of(source),
        errors="strict",
        newline="",
    )
    if source.delimiter:
        reader = csv.reader(text, delimiter=source.separator or "\x00", quotechar=source.delimiter)
    else:
        reader = csv.reader(text, delimiter=source.separator or "\x00", quoting=csv.QUOTE_NONE)
    first = next(reader, None)
    if first is None:
        return iter(())
    if first and first[0].startswith("\ufeff"):
        first[0] = first[0][1:]
    # chain() keeps the per-record path in C: no Python frame per row.
    return itertools.chain((first,), reader)


def undecodable_lines(chunks: Iterable[bytes], codec: str) -> list[int]:
    """The 1-based lines (split at `\\n`) holding bytes `codec` cannot decode, in order.

    Read only when decoding has failed, to say where; a UTF-16 file is not split into lines
    (its newlines are two bytes), so there the answer is `[]`.
    """
    if codec.startswith("utf-16"):
        return []
    bad: list[int] = []
    number = 0
    pending = b""
    for chunk in chunks:
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            number += 1
            if not _decodes(line, codec):
                bad.append(number)
    if pending:
        number += 1
        if not _decodes(pending, codec):
            bad.append(number)
    return bad


def _decodes(line: bytes, codec: str) -> bool:
    try:
        line.decode(codec)
    except UnicodeDecodeError:
        return False
    return True
