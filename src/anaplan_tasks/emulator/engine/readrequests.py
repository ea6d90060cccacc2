"""Large-volume reads (Anaplan's `readRequests`): a view or a list exported in pages of CSV.

A read request is a background job: `start` answers at once (`NOT_STARTED`), a thread of its own
renders the view's cells or the list's items from a snapshot of the model's data taken when it
begins (so a write during the read changes nothing in it), and cuts the CSV into pages of at most
`page_size` bytes (Anaplan's "about 10 MB"), each ending at a record's end. A page is written to
the engine's page directory and counted in `availablePages` as soon as it is complete, so pages
are readable while the request is `IN_PROGRESS`. Only page 0 carries the header line(s): the
pages concatenated are the whole CSV.

States (reference §9.3): `NOT_STARTED` → `IN_PROGRESS` → `COMPLETE` (`successful` true, or false
when the read failed: there is no FAILED state) or `CANCELLED` (a DELETE while it ran). A DELETE
answers the request as it stands (`CANCELLED` if it was running) and removes it with its pages;
later reads of it are 404. Retention: a request is reclaimed `retention` seconds (30 minutes)
after its last activity, which is its start, its end, or the fetch of a page whose number is
divisible by 100 (Anaplan's rule: pages 1 to 99 do not restart the timer). At most
`max_per_model` requests may exist per model (the quota Anaplan implies but does not document).

Requests live in memory and their pages in a temporary directory: like Anaplan's, they are
short-lived, and an emulator restart forgets them (a later read is 404). A request belongs to
the user who started it; for anyone else it does not exist (404).

View layouts (`exportType`):

- `GRID_ALL_PAGES`: the grid as the view shows it, every page: one line per column level (the
  last one naming the page and row dimensions), then one line per page item and row:
  the page items' names, the row items' names, then the cells.
- `TABULAR_MULTI_COLUMN`: one column per dimension (pages, rows, columns, in the view's order;
  `Line Items` aside) and one per line item; a line per combination of items.
- `TABULAR_SINGLE_COLUMN`: one column per dimension, then `Line Items`, then `Value`; a line per
  cell.

List pages (reference §9.4): the item's name under an unnamed column, `Parent` (the parent's
name), `Write` and `Read` (empty: the emulator has no selective access), `Code`, then one column
per property. The top-level item is not a line.
"""

from __future__ import annotations

import bisect
import csv
import io
import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Literal, cast

from .. import errors
from ..definitions import TIME, VERSIONS, ModuleDef
from ..storage import DataReader, Store
from .clock import Clock
from .lists import READ_KEY, WRITE_KEY, Lists, ModelHost, subset_key
from .modules import LINE_ITEMS_ID, Modules
from .values import format_value

log = logging.getLogger(__name__)

ReadKind = Literal["view", "list"]
ReadState = Literal["NOT_STARTED", "IN_PROGRESS", "COMPLETE", "CANCELLING", "CANCELLED"]

EXPORT_TYPES = ("GRID_ALL_PAGES", "TABULAR_SINGLE_COLUMN", "TABULAR_MULTI_COLUMN")
"""The view layouts Anaplan documents (reference §9.2)."""

PAGE_SIZE = 10 * 1024 * 1024
RETENTION_SECONDS = 30 * 60.0
MAX_PER_MODEL = 10
ROWS_PER_BATCH = 2000
"""Lines rendered between cancel checks (and looked up in one go)."""


@dataclass(frozen=True)
class ReadRequestSettings:
    """Knobs of large-volume reads.

    Attributes:
        page_size: Most bytes of CSV in one page (Anaplan: about 10 MB).
        page_seconds: A pause after each page, so tests and demos see pages arrive one by one
            (0: as fast as the work goes).
        max_per_model: Read requests that may exist at once in one model (a start past it is
            400).
        retention: Seconds after the last activity until a request is reclaimed.
        fail_after_pages: Fault injection: a request ends `COMPLETE` with `successful: false`
            once it made this many pages (None: never).
    """

    page_size: int = PAGE_SIZE
    page_seconds: float = 0.0
    max_per_model: int = MAX_PER_MODEL
    retention: float = RETENTION_SECONDS
    fail_after_pages: int | None = None

    def __post_init__(self) -> None:
        if self.page_size < 1 or self.max_per_model < 1:
            raise ValueError("page_size and max_per_model must be at least 1")
        if self.page_seconds < 0 or self.retention <= 0:
            raise ValueError("page_seconds must be >= 0 and retention > 0")


@dataclass(frozen=True)
class ReadRequestView:
    """What a status read sees of a request."""

    request_id: str
    kind: ReadKind
    object_id: str
    state: ReadState
    available_pages: int
    successful: bool


class _Cancelled(Exception):
    pass


class _InjectedFailure(Exception):
    pass


class _Request:
    def __init__(
        self, request_id: str, kind: ReadKind, model_id: str, object_id: str, user_id: str
    ):
        self.id = request_id
        self.kind: ReadKind = kind
        self.model_id = model_id
        self.object_id = object_id
        self.user_id = user_id
        self.state: ReadState = "NOT_STARTED"
        self.successful = False
        self.pages: list[Path] = []
        self.last_activity = 0.0
        self.cancel = threading.Event()
        self.thread: threading.Thread | None = None

    def view(self) -> ReadRequestView:
        return ReadRequestView(
            self.id, self.kind, self.object_id, self.state, len(self.pages), self.successful
        )


class ReadRequests:
    """Every read request of one engine, and the threads that render them."""

    def __init__(
        self,
        host: ModelHost,
        clock: Clock,
        admit: Callable[[], AbstractContextManager[bool]],
        settings: ReadRequestSettings | None = None,
    ):
        self._host = host
        self._clock = clock
        self._admit = admit
        self.settings = settings or ReadRequestSettings()
        self._lock = threading.Condition()
        self._requests: dict[str, _Request] = {}
        self._directory = Path(tempfile.mkdtemp(prefix="anaplan-emulator-pages-"))

    @property
    def _store(self) -> Store:
        return self._host.store

    # -- the API -------------------------------------------------------------------------------
    def start(
        self, model_id: str, user_id: str, kind: ReadKind, object_ref: str, export_type: str | None
    ) -> ReadRequestView:
        """Start reading a view (`export_type` one of EXPORT_TYPES) or a list."""
        if kind == "view":
            if export_type not in EXPORT_TYPES:
                raise errors.BadRequest(
                    "Expected mandatory field 'exportType'."
                    if export_type is None
                    else f"Invalid exportType '{export_type}'. Expected one of: "
                    + ", ".join(EXPORT_TYPES)
                )
            Modules(self._host, model_id).view(object_ref)  # 404 for an unknown view
            layout = export_type

            def render(reader: DataReader) -> Iterator[tuple[str, list[int]]]:
                return _view_lines(self._host, model_id, object_ref, layout, reader)

        else:
            Lists(self._host, model_id).list_def(object_ref)  # 404 for an unknown list

            def render(reader: DataReader) -> Iterator[tuple[str, list[int]]]:
                return _list_lines(self._host, model_id, object_ref, reader)

        now = self._clock.now()
        with self._lock:
            self._expire(now)
            live = sum(1 for r in self._requests.values() if r.model_id == model_id)
            if live >= self.settings.max_per_model:
                raise errors.BadRequest(
                    f"The model already has {live} read requests; delete one whose pages you "
                    "have read before starting another."
                )
            request = _Request(secrets.token_hex(16).upper(), kind, model_id, object_ref, user_id)
            request.last_activity = now
            self._requests[request.id] = request
            request.thread = threading.Thread(
                target=self._run,
                args=(request, render, self.settings),
                name=f"emulator-read-{request.id[:8]}",
                daemon=True,
            )
            request.thread.start()
            return request.view()

    def status(
        self, model_id: str, user_id: str, kind: ReadKind, object_ref: str, request_id: str
    ) -> ReadRequestView:
        """A request as it stands."""
        with self._lock:
            return self._find(model_id, user_id, kind, object_ref, request_id).view()

    def page(
        self,
        model_id: str,
        user_id: str,
        kind: ReadKind,
        object_ref: str,
        request_id: str,
        page: str,
    ) -> bytes:
        """One page's CSV; 404 for a page that is not (yet) available."""
        if not (page.isascii() and page.isdigit()) or len(page) > 9:
            raise errors.BadRequest(f"Invalid page number '{page}'")
        number = int(page)
        with self._lock:
            request = self._find(model_id, user_id, kind, object_ref, request_id)
            if number >= len(request.pages):
                raise errors.NotFound(
                    f"Page {number} of read request {request_id} is not available "
                    f"({len(request.pages)} pages available)"
                )
            path = request.pages[number]
            if number % 100 == 0:
                request.last_activity = max(request.last_activity, self._clock.now())
        try:
            return path.read_bytes()
        except FileNotFoundError:  # deleted (or reclaimed) since it was found
            raise errors.NotFound(f"Read request {request_id} not found") from None

    def delete(
        self, model_id: str, user_id: str, kind: ReadKind, object_ref: str, request_id: str
    ) -> ReadRequestView:
        """Cancel a running request, or drop a finished one; its pages are removed."""
        with self._lock:
            request = self._find(model_id, user_id, kind, object_ref, request_id)
            if request.state in ("NOT_STARTED", "IN_PROGRESS", "CANCELLING"):
                request.state = "CANCELLED"
                request.successful = False
            answer = request.view()
            self._drop(request)
        return answer

    def existing(self, model_id: str | None = None) -> list[str]:
        """Ids of the requests that exist (of one model, or all), for tests."""
        with self._lock:
            self._expire(self._clock.now())
            return [r.id for r in self._requests.values() if model_id in (None, r.model_id)]

    # -- for the engine --------------------------------------------------------------------------
    def cancel_all(self) -> None:
        """Ask every running request to stop (a reset or close is waiting for them)."""
        with self._lock:
            for request in self._requests.values():
                request.cancel.set()
            self._lock.notify_all()

    def clear(self) -> None:
        """Forget every request and its pages (after `cancel_all`, once they stopped)."""
        with self._lock:
            for request in list(self._requests.values()):
                self._drop(request)

    def close(self) -> None:
        """Forget everything and remove the page directory."""
        self.clear()
        shutil.rmtree(self._directory, ignore_errors=True)

    # -- inside ----------------------------------------------------------------------------------
    def _find(
        self, model_id: str, user_id: str, kind: ReadKind, object_ref: str, request_id: str
    ) -> _Request:
        self._expire(self._clock.now())
        request = self._requests.get(request_id)
        if (
            request is None
            or request.model_id != model_id
            or request.user_id != user_id
            or request.kind != kind
            or request.object_id != object_ref
        ):
            raise errors.NotFound(f"Read request {request_id} not found")
        return request

    def _expire(self, now: float) -> None:
        for request in list(self._requests.values()):
            if now - request.last_activity > self.settings.retention:
                log.info("read request %s reclaimed (idle)", request.id)
                self._drop(request)

    def _drop(self, request: _Request) -> None:
        request.cancel.set()
        self._requests.pop(request.id, None)
        for path in request.pages:
            path.unlink(missing_ok=True)
        request.pages = []
        self._lock.notify_all()

    def _run(
        self,
        request: _Request,
        render: Callable[[DataReader], Iterator[tuple[str, list[int]]]],
        settings: ReadRequestSettings,
    ) -> None:
        try:
            with self._admit() as admitted:
                if not admitted:
                    raise _Cancelled
                with self._lock:
                    if request.cancel.is_set():
                        raise _Cancelled
                    request.state = "IN_PROGRESS"
                with self._store.model_data(request.model_id).snapshot() as reader:
                    pager = _Pager(
                        settings.page_size, lambda data: self._add_page(request, data, settings)
                    )
                    for text, ends in render(reader):
                        if request.cancel.is_set():
                            raise _Cancelled
                        pager.add(text, ends)
                    pager.finish()
            with self._lock:
                if request.state == "IN_PROGRESS":
                    request.state = "COMPLETE"
                    request.successful = True
                    request.last_activity = max(request.last_activity, self._clock.now())
        except _Cancelled:
            with self._lock:
                if request.state in ("NOT_STARTED", "IN_PROGRESS"):
                    request.state = "CANCELLED"
        except Exception as error:
            if not isinstance(error, _InjectedFailure):
                log.exception("read request %s failed", request.id)
            with self._lock:
                if request.state == "IN_PROGRESS":
                    request.state = "COMPLETE"
                    request.successful = False
                    request.last_activity = max(request.last_activity, self._clock.now())

    def _add_page(self, request: _Request, data: bytes, settings: ReadRequestSettings) -> None:
        if request.cancel.is_set():
            raise _Cancelled
        path = self._directory / f"{request.id}-{len(request.pages)}.csv"
        path.write_bytes(data)
        with self._lock:
            if request.cancel.is_set() or request.id not in self._requests:
                path.unlink(missing_ok=True)
                raise _Cancelled
            request.pages.append(path)
            made = len(request.pages)
        if settings.fail_after_pages is not None and made >= settings.fail_after_pages:
            raise _InjectedFailure
        if settings.page_seconds > 0 and request.cancel.wait(settings.page_seconds):
            raise _Cancelled


class _Pager:
    """CSV records in, pages of at most `size` bytes out, each ending at a record's end (a
    record longer than a page makes a page of its own)."""

    def __init__(self, size: int, emit: Callable[[bytes], None]):
        self.size = size
        self.emit = emit
        self.pending = bytearray()
        self.pages = 0

    def add(self, text: str, ends: list[int]) -> None:
        """Add records: `text` holds them all, `ends[i]` is where record i ends in it."""
        data = text.encode("utf-8")
        if len(data) != len(text):  # not ASCII: where each record ends, in bytes
            starts = [0, *ends[:-1]]
            total = 0
            byte_ends = []
            for start, end in zip(starts, ends, strict=True):
                total += len(text[start:end].encode("utf-8"))
                byte_ends.append(total)
            ends = byte_ends
        taken = 0
        while len(self.pending) + len(data) - taken > self.size:
            room = self.size - len(self.pending)
            # the last record that still fits in this page
            position = bisect.bisect_right(ends, taken + room) - 1
            if position < 0 or ends[position] <= taken:
                if self.pending:
                    self._cut()
                    continue
                position = bisect.bisect_right(ends, taken)  # one record larger than a page
            cut = ends[position]
            self.pending += data[taken:cut]
            taken = cut
            self._cut()
        self.pending += data[taken:]

    def finish(self) -> None:
        """The last page (page 0 even when there is nothing to read)."""
        if self.pending or not self.pages:
            self._cut()

    def _cut(self) -> None:
        self.emit(bytes(self.pending))
        self.pending.clear()
        self.pages += 1


# -- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    name: str
    labels: list[str]
    keys: list[str]


class _Lines:
    """CSV lines collected in batches, with where each ends."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.ends: list[int] = []

    def write(self, row: Sequence[str]) -> None:
        self.writer.writerow(row)
        self.ends.append(self.buffer.tell())

    def take(self) -> tuple[str, list[int]]:
        text, ends = self.buffer.getvalue(), self.ends
        self.buffer.seek(0)
        self.buffer.truncate()
        self.ends = []
        return text, ends


def _axis(modules: Modules, module: ModuleDef, name: str, reader: DataReader) -> _Axis:
    if name == "Line Items":
        names = [li.name for li in module.line_items]
        return _Axis(name, names, names)
    if name in (TIME, VERSIONS):
        # The months and the versions cells are stored by (the transactional read adds the
        # totals; a read request shows the stored periods only).
        leaves = [m for m in modules.dimension(name).members if not m.is_aggregate]
        return _Axis(name, [m.name for m in leaves], [m.key or "" for m in leaves])
    items = reader.item_keys(name)  # code -> name, in list order
    return _Axis(name, list(items.values()), list(items.keys()))


def _view_lines(
    host: ModelHost, model_id: str, view_ref: str, export_type: str, reader: DataReader
) -> Iterator[tuple[str, list[int]]]:
    modules = Modules(host, model_id)
    module, view = modules.view(view_ref)
    pages = [_axis(modules, module, n, reader) for n in view.pages]
    rows = [_axis(modules, module, n, reader) for n in view.rows]
    columns = [_axis(modules, module, n, reader) for n in view.columns]
    lines = _Lines()
    if export_type == "GRID_ALL_PAGES":
        outer, inner = [*pages, *rows], columns
        inner_combos = list(product(*[range(len(a.keys)) for a in inner]))
        depth = len(inner)
        lead = [a.name for a in outer]
        for level in range(depth):
            labels = [inner[level].labels[combo[level]] for combo in inner_combos]
            lines.write([*(lead if level == depth - 1 else [""] * len(lead)), *labels])
        if depth == 0:
            lines.write([*lead, ""])
    else:
        everything = [*pages, *rows, *columns]
        outer = [a for a in everything if a.name != "Line Items"]
        inner = [a for a in everything if a.name == "Line Items"]
        inner_combos = list(product(*[range(len(a.keys)) for a in inner]))
        names = [a.name for a in outer]
        if export_type == "TABULAR_MULTI_COLUMN":
            lines.write(
                [*names, *[inner[0].labels[c[0]] for c in inner_combos]] if inner else names
            )
        else:
            lines.write([*names, "Line Items", "Value"])
    single = export_type == "TABULAR_SINGLE_COLUMN"
    yield lines.take()

    slots = {name: position for position, name in enumerate(module.dimensions)}
    width = len(module.dimensions)

    def placed(axes: Sequence[_Axis], combo: Sequence[int]) -> tuple[list[tuple[int, str]], str]:
        """Where a combination of items goes in a cell key, and the line item it names."""
        assignments: list[tuple[int, str]] = []
        line_item = ""
        for axis, position in zip(axes, combo, strict=True):
            if axis.name == "Line Items":
                line_item = axis.keys[position]
            elif axis.name in slots:
                assignments.append((slots[axis.name], axis.keys[position]))
        return assignments, line_item

    inner_places = [placed(inner, combo) for combo in inner_combos]
    inner_keyed = any(assignments for assignments, _ in inner_places)
    outer_iter = product(*[range(len(a.keys)) for a in outer])
    while True:
        batch = [combo for _, combo in zip(range(ROWS_PER_BATCH), outer_iter, strict=False)]
        if not batch:
            return
        keys: set[tuple[str, ...]] = set()
        if not inner_keyed:
            # one cell row per line: its line items are the inner columns (the common case)
            # (every line names a line item: Line Items is on some axis of every view)
            row_keys: list[tuple[list[str], tuple[str, ...], list[str]]] = []
            inner_names = [line_item for _, line_item in inner_places]
            for combo in batch:
                assignments, outer_line_item = placed(outer, combo)
                base = [""] * width
                for slot, code in assignments:
                    base[slot] = code
                key = tuple(base)
                keys.add(key)
                names = [outer_line_item] * len(inner_names) if outer_line_item else inner_names
                row_labels = [a.labels[i] for a, i in zip(outer, combo, strict=True)]
                row_keys.append((row_labels, key, names))
            cells = reader.cells_at(module.name, list(keys))
            for row_labels, key, names in row_keys:
                stored = cells.get(key)
                values = (
                    list(map(_text, map(stored.get, names)))
                    if stored is not None
                    else [""] * len(names)
                )
                if single:
                    for name, value in zip(names, values, strict=True):
                        lines.write([*row_labels, name, value])
                else:
                    lines.write([*row_labels, *values])
            yield lines.take()
            continue
        wanted: list[tuple[list[str], list[tuple[tuple[str, ...], str]]]] = []
        for combo in batch:
            assignments, outer_line_item = placed(outer, combo)
            base = [""] * width
            for slot, code in assignments:
                base[slot] = code
            places: list[tuple[tuple[str, ...], str]] = []
            for inner_assignments, line_item in inner_places:
                full = list(base)
                for slot, code in inner_assignments:
                    full[slot] = code
                key = tuple(full)
                keys.add(key)
                places.append((key, line_item or outer_line_item))
            row_labels = [a.labels[i] for a, i in zip(outer, combo, strict=True)]
            wanted.append((row_labels, places))
        cells = reader.cells_at(module.name, list(keys))
        for row_labels, places in wanted:
            values = [
                _text(cells[key].get(line_item)) if key in cells and line_item else ""
                for key, line_item in places
            ]
            if single:
                for (_, line_item), value in zip(places, values, strict=True):
                    lines.write([*row_labels, line_item, value])
            else:
                lines.write([*row_labels, *values])
        yield lines.take()


def _text(value: object) -> str:
    """`format_value`, with the common cases first (it runs once per cell)."""
    kind = type(value)
    if kind is float:
        number = cast("float", value)
        if number.is_integer() and -1e15 < number < 1e15:
            return str(int(number))
        return repr(number)
    if kind is str:
        return cast("str", value)
    return format_value(value)


def _list_lines(
    host: ModelHost, model_id: str, list_ref: str, reader: DataReader
) -> Iterator[tuple[str, list[int]]]:
    lists = Lists(host, model_id)
    definition = lists.list_def(list_ref)
    names = [prop.name for prop in definition.properties]
    parent_list = definition.parent_list or definition.name
    parents = reader.item_keys(parent_list)  # code -> name
    subsets = list(definition.subsets)
    lines = _Lines()
    lines.write(["", "Parent", "Write", "Read", "Code", *subsets, *names])
    for count, (code, name, parent, props) in enumerate(reader.items(definition.name), 1):
        parent_name = parents.get(parent, parent) if parent else ""
        lines.write(
            [
                name,
                parent_name or "",
                str(props.get(WRITE_KEY) or ""),
                str(props.get(READ_KEY) or ""),
                code,
                *["true" if props.get(subset_key(n)) else "false" for n in subsets],
                *[format_value(props.get(n)) for n in names],
            ]
        )
        if count % ROWS_PER_BATCH == 0:
            yield lines.take()
    yield lines.take()


__all__ = [
    "EXPORT_TYPES",
    "LINE_ITEMS_ID",
    "ReadRequestSettings",
    "ReadRequestView",
    "ReadRequests",
]
