"""Reading an uploaded file as CSV records, chunk by chunk, counting the bytes consumed."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator

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


def csv_records(stream: ChunkStream, source: FileDef) -> Iterator[list[str]]:
    """The file's records (lists of fields) decoded per the data source's settings."""
    text = io.TextIOWrapper(
        io.BufferedReader(stream, 1 << 16),
        encoding=_CODECS.get(source.encoding, "utf-8"),
        errors="replace",
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
