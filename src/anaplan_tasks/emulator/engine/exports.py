"""Exports: write a list's items or a module's cells, as they are now, to the export's file.

Columns: a list export writes `Code`, `Name`, `Parent` and one column per property; a module
export writes one column per dimension (the item's code, headed by the list's name) and one per
line item. The output is the caller's private content of the file whose id is the export's id,
cut into 10 MB chunks; it is written when the task commits.
"""

from __future__ import annotations

import csv
import io

from ...models import TaskResult
from ..definitions import ExportDef
from . import results
from .context import CHUNK_SIZE, ActionContext, ActionOutcome
from .values import format_value


class ChunkWriter:
    """Text in, 10 MB byte chunks out, without holding the whole export twice."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.chunks: list[bytes] = []
        self._pending = bytearray()
        self.size = 0

    def flush(self, final: bool = False) -> None:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        data = text.encode("utf-8")
        self.size += len(data)
        self._pending += data
        while len(self._pending) >= CHUNK_SIZE:
            self.chunks.append(bytes(self._pending[:CHUNK_SIZE]))
            del self._pending[:CHUNK_SIZE]
        if final and (self._pending or not self.chunks):
            self.chunks.append(bytes(self._pending))
            self._pending.clear()


def render_export(ctx: ActionContext, definition: ExportDef) -> tuple[list[bytes], int]:
    """The export's content as it would be written now: 10 MB chunks and the total size."""
    out = ChunkWriter()
    separator = "\t" if definition.format == "tsv" else ","
    writer = csv.writer(out.buffer, delimiter=separator, lineterminator="\n")
    columns = ctx.catalog.export_columns(definition)
    writer.writerow([header for header, _, _ in columns])
    if definition.source_list is not None:
        lst = ctx.catalog.list_def(definition.source_list)
        names = [p.name for p in lst.properties] if lst else []
        for count, (code, name, parent, props) in enumerate(ctx.txn.items(definition.source_list)):
            if not count & 4095:
                ctx.check_cancel()
                out.flush()
            writer.writerow(
                [code, name, parent or "", *[format_value(props.get(n)) for n in names]]
            )
    else:
        module = ctx.catalog.module_def(definition.source_module or "")
        line_items = [li.name for li in module.line_items] if module else []
        dimensions = len(module.dimensions) if module else 0
        for count, (codes, values) in enumerate(ctx.txn.cells(definition.source_module or "")):
            if not count & 4095:
                ctx.check_cancel()
                out.flush()
            if len(codes) != dimensions:
                continue  # written before the module's dimensions changed: not in this shape
            writer.writerow([*codes, *[format_value(values.get(n)) for n in line_items]])
    out.flush(final=True)
    return out.chunks, out.size


def run_export(ctx: ActionContext, export_id: str, definition: ExportDef) -> ActionOutcome:
    """Run one export inside the task's transaction (it sees the task's own earlier writes)."""
    ctx.tick(0.0, "Exporting")
    chunks, size = render_export(ctx, definition)
    ctx.tick(1.0, "Exported")
    detail = results.detail(
        "exportSucceeded",
        f"Export for {definition.name} completed successfully. {size} bytes written.",
        [("exportName", definition.name), ("fileSize", size)],
    )
    return ActionOutcome(
        result=TaskResult.build(
            successful=True, failure_dump_available=False, object_id=export_id, details=[detail]
        ),
        export=(export_id, chunks),
    )
