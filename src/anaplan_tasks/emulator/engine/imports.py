"""Imports: parse the caller's uploaded CSV and write list items or module cells.

Every row is validated; a rejected row goes to the failure dump (§7.4) and counts in the
details, the others are written. Imports of millions of rows are a normal day for Anaplan users,
so the per-row path is kept short (the csv module, one converter call per mapped value, items
looked up by code before name), and a thread of its own parses, converts and encodes the rows
(`readahead.py`) while this one runs the store's bulk statements, which release the GIL.

`successful` (open question §13.5 q7): true when the import ran and loaded at least one row (or
the file had no data rows); rejected rows are reported by the `…WithFailures` details, the
data-error details and the dump (`failureDumpAvailable: true`). An import in which every data row
was rejected is `successful: false`. An import that could not run at all (no uploaded content, a
mapped column missing from the header) is `successful: false` with `currentStep` "Failed.".
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ...models import TaskResult
from ..definitions import (
    TIME,
    VERSIONS,
    FileDef,
    Format,
    ImportDef,
    LineItemDef,
    ListDef,
    ModuleDef,
    PropertyDef,
)
from ..jsontext import is_number
from ..storage import KEY_SEPARATOR, EncodedRows, ItemLookup
from . import results
from .context import ActionContext, ActionOutcome, split_chunks
from .csvsource import ChunkStream, codec_of, csv_records, undecodable_lines
from .files import content_of
from .readahead import read_ahead
from .timescale import periods
from .values import Converter, converter, problem_text, storage_kind

_TICK_MASK = 1023  # report progress (and check for a cancel) every 1024 rows


@dataclass(frozen=True)
class RowProblem:
    """Why a row was rejected: the detail type, the summary text and the dump text."""

    type: str
    summary: str
    text: str


@dataclass
class _Rejections:
    rows: list[tuple[int, list[str], list[RowProblem]]] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, line: int, record: list[str], problems: list[RowProblem]) -> None:
        self.rows.append((line, record, problems))
        for problem in problems:
            self.counts[(problem.type, problem.summary)] += 1


class ImportAborted(Exception):
    """The import cannot run; carries the failure detail."""

    def __init__(self, type_: str, text: str):
        super().__init__(text)
        self.type = type_
        self.text = text


@dataclass
class _Source:
    header: list[str]
    records: Iterator[list[str]]
    first_line: int
    stream: ChunkStream


def _open_source(ctx: ActionContext, file_id: str, source: FileDef) -> _Source:
    files = ctx.sources
    content = content_of(files, ctx.model_id, file_id, ctx.user_id)
    owner, state = content if content is not None else (ctx.user_id, None)
    if state is None or state.chunk_count == 0:
        raise ImportAborted(
            "uploadedFileNoLongerAvailable",
            "The uploaded file is no longer available. Please upload the file again.",
        )
    if state.declared < 0 and not state.completed:
        raise ImportAborted(
            "importFailedGeneralError",
            f"The upload of {source.name} is still open: call /complete after the last chunk.",
        )
    if not state.readable:
        missing = sorted(set(range(state.chunk_count)) - set(state.chunk_indices))
        raise ImportAborted(
            "importFailedGeneralError",
            f"The upload of {source.name} is incomplete: chunks {missing} are missing.",
        )

    def read_chunk(index: int) -> bytes:
        data = files.read_chunk(ctx.model_id, file_id, owner, index)
        if data is None:
            raise ImportAborted(
                "uploadedFileNoLongerAvailable",
                "The uploaded file is no longer available. Please upload the file again.",
            )
        return data

    stream = ChunkStream(read_chunk, state.chunk_count, state.total_bytes)
    records = csv_records(stream, source)
    line = 1
    header: list[str] = []
    try:
        if source.header_row > 0:
            while line < source.header_row:
                next(records)
                line += 1
            header = next(records)
            line += 1
        while line < source.first_data_row:
            next(records)
            line += 1
    except StopIteration:
        pass
    return _Source(header=header, records=records, first_line=line, stream=stream)


def _column_index(source: _Source, column: str, target: str) -> int:
    if column in source.header:
        return source.header.index(column)
    if column.startswith("Column ") and is_number(column[7:]):
        return int(column[7:]) - 1
    raise ImportAborted(
        "missingFields",
        f"Column '{column}' (mapped to '{target}') is not in the file's header row.",
    )


def _dump(source: _Source, rejected: _Rejections) -> list[bytes]:
    width = max([len(source.header)] + [len(record) for _, record, _ in rejected.rows], default=0)
    columns = list(source.header) + [
        f"Column {index + 1}" for index in range(len(source.header), width)
    ]
    errors = max((len(problems) for _, _, problems in rejected.rows), default=1)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["_Status_", *columns, "_Line_", *[f"_Error_{n + 1}_" for n in range(errors)]])
    for line, record, problems in rejected.rows:
        padded = record + [""] * (width - len(record))
        texts = [problem.text for problem in problems]
        writer.writerow(["E", *padded, str(line), *texts, *[""] * (errors - len(texts))])
    return split_chunks(buffer.getvalue().encode("utf-8"))


def _value_problem(fmt: Format, text: str, list_name: str | None, type_: str) -> RowProblem:
    summary = {
        "number": "Invalid number",
        "date": "Invalid date",
        "boolean": "Invalid boolean",
        "list": f"Item not located in {list_name} list",
    }.get(fmt, "Invalid value")
    return RowProblem(type_, summary, problem_text(fmt, text, list_name))


def _wrong_width(width: int, record: list[str]) -> RowProblem:
    return RowProblem(
        "columnSeparatorExpected",
        "Wrong number of columns",
        f"Expected {width} columns, found {len(record)}",
    )


def run_import(ctx: ActionContext, import_id: str, definition: ImportDef) -> ActionOutcome:
    """Run one import inside the task's transaction."""
    catalog = ctx.catalog
    source_def = catalog.file_named(definition.file)
    try:
        if source_def is None:
            raise ImportAborted("modelObjectNotLocated", f"File {definition.file} not found.")
        file_id = catalog.id_of("file", source_def.name)
        source = _open_source(ctx, file_id, source_def)
        if definition.target_list is not None:
            target = catalog.list_def(definition.target_list)
            if target is None:
                raise ImportAborted(
                    "failedToLocateHierarchy", f"List {definition.target_list} not found."
                )
            return _ListImport(ctx, import_id, definition, target, source).run()
        module = catalog.module_def(definition.target_module or "")
        if module is None:
            raise ImportAborted(
                "failedToLocateModule", f"Module {definition.target_module} not found."
            )
        return _ModuleImport(ctx, import_id, definition, module, source).run()
    except ImportAborted as aborted:
        return ActionOutcome(
            result=results.failed_to_run(import_id, aborted.type, aborted.text), ran=False
        )
    except csv.Error as error:
        return ActionOutcome(
            result=results.failed_to_run(
                import_id, "unmatchedTextDelimiter", f"The file could not be parsed: {error}"
            ),
            ran=False,
        )
    except UnicodeDecodeError:
        assert source_def is not None
        return ActionOutcome(
            result=results.failed_to_run(
                import_id, "importFailedGeneralError", _undecodable_text(ctx, source_def)
            ),
            ran=False,
        )


def _undecodable_text(ctx: ActionContext, source: FileDef) -> str:
    """Which lines of the uploaded file are not valid in its declared encoding."""
    file_id = ctx.catalog.id_of("file", source.name)
    content = content_of(ctx.store, ctx.model_id, file_id, ctx.user_id)
    owner, state = content if content is not None else (ctx.user_id, None)
    chunk_count = state.chunk_count if state is not None else 0
    chunks = (
        ctx.store.read_chunk(ctx.model_id, file_id, owner, index) or b""
        for index in range(chunk_count)
    )
    lines = undecodable_lines(chunks, codec_of(source))
    where = ""
    if lines:
        shown = ", ".join(str(line) for line in lines[:10])
        more = f" and {len(lines) - 10} more" if len(lines) > 10 else ""
        where = f" on line{'s' if len(lines) > 1 else ''} {shown}{more}"
    return (
        f"The file {source.name} is not valid {source.encoding}: bytes that cannot be decoded"
        f"{where}; nothing was imported. Save the file as {source.encoding}, or give the data "
        "source the file's encoding."
    )


class _ListImport:
    def __init__(
        self,
        ctx: ActionContext,
        import_id: str,
        definition: ImportDef,
        target: ListDef,
        source: _Source,
    ):
        self.ctx = ctx
        self.import_id = import_id
        self.definition = definition
        self.target = target
        self.source = source
        self.rejected = _Rejections()
        self.created = self.updated = self.renamed = self.ignored = 0
        mapping = definition.mapping
        key_target = "code" if "code" in mapping else "name"
        self.key_index = _column_index(source, mapping[key_target], key_target)
        self.name_index = (
            _column_index(source, mapping["name"], "name") if "name" in mapping else None
        )
        self.parent_index = (
            _column_index(source, mapping["parent"], "parent") if "parent" in mapping else None
        )
        self.properties = [p for p in target.properties if p.name in mapping]
        self.property_columns = _value_columns(ctx, source, mapping, self.properties)
        self.width = len(source.header) if source.header else 0

    def run(self) -> ActionOutcome:
        ctx = self.ctx
        existing = ctx.txn.item_keys(self.target.name)
        parents: set[str] = set()
        if self.parent_index is not None:
            if self.target.parent_list:
                parents = _members(ctx, self.target.parent_list)
            else:
                parents = set(existing) | set(existing.values())
            if self.target.top_level:
                parents.add(self.target.top_level)
        with _encoded_ahead(ctx, self._rows(existing, parents)) as rows:
            ctx.txn.upsert_items(
                self.target.name,
                with_name=self.name_index is not None,
                with_parent=self.parent_index is not None,
                properties=[(p.name, storage_kind(p.format)) for p in self.properties],
                rows=rows,
            )
        ctx.tick(1.0, "Processed.")
        return self._outcome()

    def _rows(self, existing: dict[str, str], parents: set[str]) -> Iterator[tuple[Any, ...]]:
        ctx = self.ctx
        stream = self.source.stream
        total = max(stream.total_bytes, 1)
        key_index = self.key_index
        name_index = self.name_index
        parent_index = self.parent_index
        columns = self.property_columns
        width = self.width
        same_list_parents = self.target.parent_list is None and parent_index is not None
        seen: set[str] = set()
        created = updated = renamed = ignored = 0
        line = self.source.first_line - 1
        for line, record in enumerate(self.source.records, self.source.first_line):
            if not line & _TICK_MASK:
                ctx.tick(stream.bytes_read / total, f"Processing row {line}")
            if (width and len(record) != width) or (not width and len(record) <= key_index):
                if not record or record == [""]:
                    ignored += 1
                else:
                    self.rejected.add(line, record, self._problems(record, seen, parents))
                continue
            code = record[key_index]
            try:
                if not code or code in seen:
                    raise ValueError(code)
                values = [convert(record[index]) for index, convert in columns]
                parent = record[parent_index] if parent_index is not None else None
                if parent and parent not in parents:
                    raise ValueError(parent)
            except (ValueError, KeyError):
                self.rejected.add(line, record, self._problems(record, seen, parents))
                continue
            seen.add(code)
            name = record[name_index] if name_index is not None else None
            if not name:
                name = code
            old_name = existing.get(code)
            if old_name is None:
                created += 1
                existing[code] = name
                if same_list_parents:
                    parents.add(code)
                    parents.add(name)
            else:
                updated += 1
                if name_index is not None and old_name != name:
                    renamed += 1
            if name_index is None:
                if parent_index is None:
                    yield (code, *values)
                else:
                    yield (code, parent or None, *values)
            elif parent_index is None:
                yield (code, name, *values)
            else:
                yield (code, name, parent or None, *values)
        self.created, self.updated, self.renamed, self.ignored = created, updated, renamed, ignored
        ctx.tick(1.0, f"Processed {line} rows")

    def _problems(self, record: list[str], seen: set[str], parents: set[str]) -> list[RowProblem]:
        if (self.width and len(record) != self.width) or len(record) <= self.key_index:
            return [_wrong_width(self.width or self.key_index + 1, record)]
        problems: list[RowProblem] = []
        code = record[self.key_index]
        if not code:
            problems.append(RowProblem("hierarchyImportEmptyKey", "Empty code", "Empty code"))
        elif code in seen:
            problems.append(
                RowProblem(
                    "hierarchyImportDuplicateKeyInSource",
                    "Duplicate code in source",
                    f"Duplicate code in source: {code}",
                )
            )
        if self.parent_index is not None:
            parent = record[self.parent_index]
            if parent and parent not in parents:
                problems.append(
                    RowProblem(
                        "hierarchyImportInvalidParent",
                        "Invalid parent",
                        f"Invalid parent: {parent}",
                    )
                )
        for prop, (index, convert) in zip(self.properties, self.property_columns, strict=True):
            try:
                convert(record[index])
            except (ValueError, KeyError):
                problems.append(
                    _value_problem(
                        prop.format, record[index], prop.list, "hierarchyImportPropertyChangeFailed"
                    )
                )
        return problems

    def _outcome(self) -> ActionOutcome:
        failed = len(self.rejected.rows)
        details = [
            results.hierarchy_summary(
                self.target.name,
                created=self.created,
                updated=self.updated,
                renamed=self.renamed,
                failed=failed,
                ignored=self.ignored,
            )
        ]
        details += results.data_errors(self.rejected.counts, [("hierarchyName", self.target.name)])
        loaded = self.created + self.updated
        return _finish(self.ctx, self.import_id, self.source, self.rejected, details, loaded)


class _ModuleImport:
    def __init__(
        self,
        ctx: ActionContext,
        import_id: str,
        definition: ImportDef,
        module: ModuleDef,
        source: _Source,
    ):
        self.ctx = ctx
        self.import_id = import_id
        self.module = module
        self.source = source
        self.rejected = _Rejections()
        self.loaded = self.ignored = 0
        mapping = definition.mapping
        fixed = {
            p.entity_type: p.entity_name for p in ctx.mapping if p.import_id in (None, import_id)
        }
        # Per dimension: a source column (index) and code lookup, or a fixed code.
        self.dimensions: list[tuple[str, int | None, ItemLookup]] = []
        self.fixed_codes: dict[str, str] = {}
        for dimension in module.dimensions:
            codes = _code_lookup(ctx, dimension)
            if dimension in mapping:
                index = _column_index(source, mapping[dimension], dimension)
                self.dimensions.append((dimension, index, codes))
            elif dimension in fixed:
                if fixed[dimension] not in codes:
                    raise ImportAborted(
                        "failedToLocateEntity",
                        f"Mapping parameter: item {fixed[dimension]!r} not located in "
                        f"{dimension} list.",
                    )
                self.dimensions.append((dimension, None, {"": codes[fixed[dimension]]}))
            else:
                raise ImportAborted(
                    "moduleImportDimensionIdentifiersUnmapped",
                    f"Dimension {dimension} of {module.name} is not mapped: map a column or "
                    "pass a mapping parameter with entityType "
                    f"{dimension!r}.",
                )
        self.line_items = [li for li in module.line_items if li.name in mapping]
        self.columns = _value_columns(ctx, source, mapping, self.line_items)
        self.width = len(source.header) if source.header else 0

    def run(self) -> ActionOutcome:
        with _encoded_ahead(self.ctx, self._rows()) as rows:
            self.ctx.txn.write_cells(
                self.module.name,
                line_items=[(li.name, storage_kind(li.format)) for li in self.line_items],
                rows=rows,
            )
        self.ctx.tick(1.0, "Processed.")
        failed = len(self.rejected.rows)
        details = [
            results.line_item_summary(
                li.name, rows=self.loaded, failed=failed, ignored=self.ignored
            )
            for li in self.line_items
        ]
        details += results.data_errors(self.rejected.counts, [("moduleName", self.module.name)])
        return _finish(self.ctx, self.import_id, self.source, self.rejected, details, self.loaded)

    def _key(self, record: list[str]) -> str:
        codes = []
        for _, index, lookup in self.dimensions:
            codes.append(lookup[record[index] if index is not None else ""])
        return KEY_SEPARATOR.join(codes)

    def _rows(self) -> Iterator[tuple[Any, ...]]:
        ctx = self.ctx
        stream = self.source.stream
        total = max(stream.total_bytes, 1)
        columns = self.columns
        width = self.width
        # One mapped dimension (the usual case): look its code up inline.
        single = len(self.dimensions) == 1 and self.dimensions[0][1] is not None
        key_index = self.dimensions[0][1] or 0
        key_lookup = self.dimensions[0][2]
        needed = 1 + max(
            [index for _, index, _ in self.dimensions if index is not None]
            + [index for index, _ in columns],
            default=0,
        )
        loaded = ignored = 0
        line = self.source.first_line - 1
        for line, record in enumerate(self.source.records, self.source.first_line):
            if not line & _TICK_MASK:
                ctx.tick(stream.bytes_read / total, f"Processing row {line}")
            if (width and len(record) != width) or len(record) < needed:
                if not record or record == [""]:
                    ignored += 1
                else:
                    self.rejected.add(line, record, self._problems(record))
                continue
            try:
                key = key_lookup[record[key_index]] if single else self._key(record)
                values = [convert(record[index]) for index, convert in columns]
            except (ValueError, KeyError):
                self.rejected.add(line, record, self._problems(record))
                continue
            loaded += 1
            yield (key, *values)
        self.loaded, self.ignored = loaded, ignored
        ctx.tick(1.0, f"Processed {line} rows")

    def _problems(self, record: list[str]) -> list[RowProblem]:
        needed = max(
            [index for _, index, _ in self.dimensions if index is not None]
            + [index for index, _ in self.columns],
            default=0,
        )
        if (self.width and len(record) != self.width) or len(record) <= needed:
            return [_wrong_width(self.width or needed + 1, record)]
        problems: list[RowProblem] = []
        for dimension, index, lookup in self.dimensions:
            if index is not None and record[index] not in lookup:
                problems.append(
                    _value_problem(
                        "list", record[index], dimension, "moduleImportInvalidListIdentifier"
                    )
                )
        types = {
            "number": "moduleImportNumberFormat",
            "date": "moduleImportDateFormat",
            "boolean": "moduleImportBooleanFormat",
            "list": "moduleImportInvalidListIdentifier",
        }
        for line_item, (index, convert) in zip(self.line_items, self.columns, strict=True):
            try:
                convert(record[index])
            except (ValueError, KeyError):
                problems.append(
                    _value_problem(
                        line_item.format,
                        record[index],
                        line_item.list,
                        types.get(line_item.format, "moduleImportFailed"),
                    )
                )
        return problems


@contextmanager
def _encoded_ahead(ctx: ActionContext, rows: Iterator[tuple[Any, ...]]) -> Iterator[EncodedRows]:
    """`rows` parsed, converted and encoded for the store in a read-ahead thread, for one bulk
    write in this thread (which then only runs the store's statements)."""
    with read_ahead(ctx.txn.encode_rows(rows), batch=1) as batches:
        yield EncodedRows(batches)


def _value_columns(
    ctx: ActionContext,
    source: _Source,
    mapping: Mapping[str, str],
    targets: Sequence[PropertyDef | LineItemDef],
) -> list[tuple[int, Converter]]:
    """For each mapped property or line item: its source column and the converter of its format
    (list formats check values against the list's members)."""
    columns: list[tuple[int, Converter]] = []
    for target in targets:
        known = _members(ctx, target.list) if target.format == "list" and target.list else set()
        columns.append(
            (
                _column_index(source, mapping[target.name], target.name),
                converter(target.format, known),
            )
        )
    return columns


def _members(ctx: ActionContext, list_name: str) -> set[str]:
    """The codes and names of a list's items (and its top level)."""
    items = ctx.txn.item_keys(list_name)
    members = set(items)
    members.update(items.values())
    lst = ctx.catalog.list_def(list_name)
    if lst is not None and lst.top_level:
        members.add(lst.top_level)
    return members


def _code_lookup(ctx: ActionContext, list_name: str) -> ItemLookup:
    """Source text → stored key of a dimension: a list item's code (by code or name), a month's
    label (as written or in any case: `Jan 25`, `JAN 25`), a version's name."""
    if list_name == TIME:
        labels = [p.label for p in periods(ctx.catalog.structure.calendar) if not p.is_total]
        found = {label.lower(): label for label in labels}
        found.update({label.upper(): label for label in labels})
        found.update({label: label for label in labels})
        return found
    if list_name == VERSIONS:
        return {v.name: v.name for v in ctx.catalog.structure.versions}
    return ctx.txn.item_lookup(list_name)


def _finish(
    ctx: ActionContext,
    import_id: str,
    source: _Source,
    rejected: _Rejections,
    details: Sequence[Any],
    loaded: int,
) -> ActionOutcome:
    failed = len(rejected.rows)
    dump = _dump(source, rejected) if failed else None
    successful = loaded > 0 or failed == 0
    return ActionOutcome(
        result=TaskResult.build(
            successful=successful,
            failure_dump_available=dump is not None,
            object_id=import_id,
            details=list(details),
        ),
        dump=dump,
    )
