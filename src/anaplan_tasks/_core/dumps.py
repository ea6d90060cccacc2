"""Failure dumps: which exist for a finished task, how to fetch them, how to read their rows.

An import's dump is at `…/imports/{id}/tasks/{t}/dump/chunks[/{n}]`; a process has one per
nested import with `failureDumpAvailable`, at `…/processes/{id}/tasks/{t}/dumps/{objectId}/…`.
A dump is CSV: `_Status_`, the source columns, `_Line_`, `_Error_1_`, `_Error_2_`, …
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..models import CompletedTask
from . import endpoints
from .files import download_chunks
from .flow import Context, Flow
from .responses import ascii_int
from .types import DumpRow, TaskRef

_ERROR_COLUMN = re.compile(r"^_Error_\d+_$")


@dataclass(frozen=True)
class DumpRef:
    """One failure dump: of the task itself (`object_id` None) or of a nested import."""

    task: TaskRef
    object_id: str | None


def dumps_of(ref: TaskRef, task: CompletedTask) -> list[DumpRef]:
    """The failure dumps a finished task offers."""
    result = task.result
    if ref.kind == "processes":
        return [
            DumpRef(ref, nested.object_id)
            for nested in result.walk()
            if nested is not result and nested.failure_dump_available and nested.object_id
        ]
    if result.failure_dump_available:
        return [DumpRef(ref, None)]
    return []


def download_dump(ctx: Context, dump: DumpRef) -> Flow[int]:
    """Emit a dump's bytes chunk by chunk; returns the byte count."""
    ref = dump.task
    return (
        yield from download_chunks(
            ctx,
            endpoints.dump_chunks(ctx, ref.kind, ref.action_id, ref.task_id, dump.object_id),
            lambda index: endpoints.dump_chunk(
                ctx, ref.kind, ref.action_id, ref.task_id, dump.object_id, index
            ),
        )
    )


class DumpRowParser:
    """Push parser for a dump's CSV: feed chunks as they arrive, get the rows they complete.

    A record ends at a newline outside quotes (an even number of `"` so far), so quoted fields
    may span lines and chunks. Used by both clients, so a dump is never held in full.
    """

    def __init__(self, *, object_id: str | None = None, encoding: str = "utf-8-sig"):
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._object_id = object_id
        self._header: list[str] | None = None
        self._record: list[str] = []
        self._quotes = 0
        self._pending = ""

    def feed(self, chunk: bytes) -> list[DumpRow]:
        """Rows completed by this chunk."""
        return self._consume(self._decoder.decode(chunk), final=False)

    def close(self) -> list[DumpRow]:
        """Rows left at the end (a last line without a newline)."""
        return self._consume(self._decoder.decode(b"", final=True), final=True)

    def _consume(self, text: str, *, final: bool) -> list[DumpRow]:
        rows: list[DumpRow] = []
        *lines, self._pending = (self._pending + text).split("\n")
        if final and self._pending:
            lines.append(self._pending)
            self._pending = ""
        for line in lines:
            self._record.append(line)
            self._quotes += line.count('"')
            if self._quotes % 2:
                continue  # inside a quoted field: the record goes on
            record = "\n".join(self._record)
            self._record, self._quotes = [], 0
            row = self._row(record)
            if row is not None:
                rows.append(row)
        return rows

    def _row(self, record: str) -> DumpRow | None:
        fields = next(csv.reader([record]), [])
        if not fields:
            return None
        if self._header is None:
            self._header = fields
            return None
        status = ""
        line: int | None = None
        errors: list[str] = []
        columns: dict[str, str] = {}
        for name, value in zip(self._header, fields, strict=False):
            if name == "_Status_":
                status = value
            elif name == "_Line_":
                line = ascii_int(value)
            elif _ERROR_COLUMN.match(name):
                if value:
                    errors.append(value)
            else:
                columns[name] = value
        return DumpRow(
            status=status, line=line, errors=errors, columns=columns, object_id=self._object_id
        )


def parse_dump_rows(
    chunks: Iterable[bytes], *, object_id: str | None = None, encoding: str = "utf-8-sig"
) -> Iterator[DumpRow]:
    """Parse a dump's CSV, streamed from its chunks, into rows."""
    parser = DumpRowParser(object_id=object_id, encoding=encoding)
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.close()
