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


def _lines(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def parse_dump_rows(
    chunks: Iterable[bytes], *, object_id: str | None = None, encoding: str = "utf-8-sig"
) -> Iterator[DumpRow]:
    """Parse a dump's CSV, streamed from its chunks, into rows."""
    reader = csv.reader(_lines(chunks, encoding))
    header = next(reader, None)
    if header is None:
        return
    for record in reader:
        if not record:
            continue
        status = ""
        line: int | None = None
        errors: list[str] = []
        columns: dict[str, str] = {}
        for name, value in zip(header, record, strict=False):
            if name == "_Status_":
                status = value
            elif name == "_Line_":
                line = int(value) if value.strip().isdigit() else None
            elif _ERROR_COLUMN.match(name):
                if value:
                    errors.append(value)
            else:
                columns[name] = value
        yield DumpRow(status=status, line=line, errors=errors, columns=columns, object_id=object_id)
