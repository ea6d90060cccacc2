"""Modules, line items, views, view data, dimension items and cell writes over the
transactional API, on the same cells imports load and exports write.

What the emulator models: a module is dimensioned by lists, `Time` (the model calendar's months)
and `Versions` (its `dimensions`); a view places those and the `Line Items` pseudo-dimension on
rows, columns and pages. The default view (id = the module's id) has the first dimension on rows,
`Line Items` on columns and the other dimensions on pages; saved views come from the definition.
Rows, columns and pages show each dimension as `dimensions.py` lays it out: a list with its
parent lists' items and its top-level item, Time with its quarter, year and all-periods totals.
Those are aggregates: a number line item's aggregate cell is the sum of the cells under it
(Anaplan's default summary, `Sum`); other formats leave aggregate cells blank (`None`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import product
from typing import Any

from .. import errors
from ..definitions import LINE_ITEMS, TIME, VERSIONS, LineItemDef, ModuleDef, ViewDef
from ..storage import KEY_SEPARATOR
from .catalog import member_key
from .dimensions import (
    VERSIONS_ID,
    Dimension,
    Member,
    list_dimension,
    time_dimension,
    versions_dimension,
    writable_list_dimension,
)
from .lists import ItemTable, Lists, ModelHost, subset_key
from .timescale import TIME_ID, months_before
from .values import converter, format_value, storage_kind

LINE_ITEMS_ID = "20000000012"
"""The `Line Items` pseudo-dimension on view axes."""
ALL_VERSIONS = {"name": "All", "id": "16000000000"}

MAX_VIEW_CELLS = 1_000_000
"""Cells one view-data read may return; a bigger grid answers 400."""

MAX_CELLS_PER_WRITE = 100_000
"""Cells one write may carry."""

_FORMATS = {
    "number": "NUMBER",
    "text": "TEXT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "list": "LIST",
}


@dataclass(frozen=True)
class Axis:
    """One dimension of a view: a list (with its hierarchy), Time, Versions or `Line Items`."""

    id: str
    name: str
    labels: list[str]  # the member names shown, in order
    keys: list[str]  # what each leaf stands for: a stored key, or a line item name ("": aggregate)
    leaves: list[frozenset[str]] = field(default_factory=list)  # per member: the keys it sums

    @property
    def has_aggregates(self) -> bool:
        """Whether some member of the axis is computed."""
        return "" in self.keys


@dataclass
class Grid:
    """A view's data: page labels, column coordinates, then rows of (coordinates, cells)."""

    pages: list[str]
    row_names: int
    column_coordinates: list[list[str]]
    rows: list[tuple[list[str], list[str]]]

    def csv_bytes(self) -> bytes:
        """Anaplan's grid CSV: the page line, one header line per column dimension, data lines."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        width = self.row_names + len(self.column_coordinates)
        if self.pages:
            writer.writerow([*self.pages, *[""] * max(width - len(self.pages), 0)])
        depth = len(self.column_coordinates[0]) if self.column_coordinates else 0
        for level in range(depth):
            writer.writerow(
                [*[""] * self.row_names, *[coords[level] for coords in self.column_coordinates]]
            )
        for coordinates, cells in self.rows:
            writer.writerow([*coordinates, *cells])
        return buffer.getvalue().encode()

    def json_bytes(self) -> bytes:
        """The `format=v1` JSON: `pages`, `columnCoordinates`, `rows` (no envelope)."""
        body: dict[str, Any] = {}
        if self.pages:
            body["pages"] = self.pages
        body["columnCoordinates"] = self.column_coordinates
        body["rows"] = [{"rowCoordinates": c, "cells": cells} for c, cells in self.rows]
        return json.dumps(body).encode()


EXPORT_TYPES = (
    "GRID_CURRENT_PAGE",
    "GRID_ALL_PAGES",
    "TABULAR_SINGLE_COLUMN",
    "TABULAR_MULTI_COLUMN",
)
"""The `exportType` layouts of view data."""


@dataclass
class Tabular:
    """A view's cells laid out as a table: a column per dimension, then the data.

    Multi-column: one column per line item. Single-column: one line per cell, the line item's
    name in a `Line Items` column and the value in a last `Value` column.
    """

    dimensions: list[str]
    line_items: list[str]
    grid: Grid
    single: bool

    def lines(self) -> Iterator[list[str]]:
        """The header, then the data lines."""
        if self.single:
            yield [*self.dimensions, LINE_ITEMS, "Value"]
            for coordinates, cells in self.grid.rows:
                for name, value in zip(self.line_items, cells, strict=True):
                    yield [*coordinates, name, value]
        else:
            yield [*self.dimensions, *self.line_items]
            for coordinates, cells in self.grid.rows:
                yield [*coordinates, *cells]

    def csv_bytes(self, max_rows: int | None = None) -> bytes:
        """The table as CSV (`max_rows` caps the data lines)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for count, line in enumerate(self.lines()):
            if max_rows is not None and count > max_rows:
                break
            writer.writerow(line)
        return buffer.getvalue().encode()


class Modules:
    """Modules, line items, views and cells of one model, for one request."""

    def __init__(self, host: ModelHost, model_id: str, viewer: str | None = None):
        """`viewer`: the caller's email when selective access applies to them (None: a
        workspace administrator, who sees and writes every item)."""
        self.viewer = viewer
        self._grouped: dict[
            str, tuple[list[str], dict[tuple[str, ...], list[tuple[tuple[str, ...], Any]]]]
        ] = {}
        self.lists = Lists(host, model_id)
        self.catalog = self.lists.catalog
        self.data = self.lists.data

    # -- lookups -----------------------------------------------------------------------------
    def module_id(self, module: ModuleDef) -> str:
        """A module's `102…` id (also its default view's)."""
        return self.catalog.id_of("module", module.name)

    def line_item_id(self, module: ModuleDef, line_item: LineItemDef) -> str:
        """A line item's `206…` id."""
        return self.catalog.id_of("line_item", member_key(module.name, line_item.name))

    def module(self, module_ref: str) -> ModuleDef:
        """A module by id or name; 404 otherwise."""
        for module in self.catalog.structure.modules:
            if module_ref in (self.module_id(module), module.name):
                return module
        raise errors.NotFound(f"Module {module_ref} not found")

    def line_item(self, line_item_id: str) -> tuple[ModuleDef, LineItemDef]:
        """A line item by id; 400 for a malformed id, 404 for an unknown one."""
        if not line_item_id.isdigit():
            raise errors.BadRequest(f"Invalid line item id '{line_item_id}'")
        for module in self.catalog.structure.modules:
            for line_item in module.line_items:
                if self.line_item_id(module, line_item) == line_item_id:
                    return module, line_item
        raise errors.NotFound(f"Line item {line_item_id} not found")

    def view(self, view_id: str) -> tuple[ModuleDef, ViewDef]:
        """A view by id: a module's id is its default view; a line item's id its module's."""
        for module in self.catalog.structure.modules:
            if view_id == self.module_id(module):
                return module, default_view(module)
            for saved in module.views:
                if self.catalog.ids.get(("view", member_key(module.name, saved.name))) == view_id:
                    return module, saved
        if view_id.isdigit():
            try:
                module, _ = self.line_item(view_id)
            except errors.NotFound:
                pass
            else:
                return module, default_view(module)
        raise errors.NotFound(f"View {view_id} not found")

    def list_dimension(self, dimension_id: str) -> ItemTable:
        """The items of a list dimension; 404 for an unknown one."""
        for definition in self.catalog.structure.lists:
            if self.lists.list_id(definition) == dimension_id:
                return self.lists.table(definition)
        raise errors.NotFound(f"Dimension {dimension_id} not found")

    def dimension(self, name: str, *, for_writes: bool = False) -> Dimension:
        """A module dimension by name (a list, `Time` or `Versions`), as views show it to the
        viewer (`for_writes`: every item, those the viewer may not write read-only)."""
        if name == TIME:
            return time_dimension(self.catalog)
        if name == VERSIONS:
            return versions_dimension(self.catalog)
        definition = self.catalog.list_def(name)
        if definition is None:
            raise errors.NotFound(f"List {name} not found")
        if for_writes:
            return writable_list_dimension(self.lists, definition, self.viewer)
        return list_dimension(self.lists, definition, self.viewer)

    # -- modules and line items --------------------------------------------------------------
    def modules(self) -> list[dict[str, str]]:
        """Every module as `{id, name}`."""
        return [{"id": self.module_id(m), "name": m.name} for m in self.catalog.structure.modules]

    def line_items(self, module_ref: str | None, *, include_all: bool) -> list[dict[str, Any]]:
        """Line items of one module (in order) or of all, with every field when `include_all`."""
        modules = (
            [self.module(module_ref)] if module_ref is not None else self.catalog.structure.modules
        )
        found: list[dict[str, Any]] = []
        for module in modules:
            cell_count = self.data.cell_count(module.name)
            for line_item in module.line_items:
                entry: dict[str, Any] = {
                    "moduleId": self.module_id(module),
                    "moduleName": module.name,
                    "id": self.line_item_id(module, line_item),
                    "name": line_item.name,
                }
                if include_all:
                    entry.update(self._line_item_details(module, line_item, cell_count))
                found.append(entry)
        return found

    def _line_item_details(
        self, module: ModuleDef, line_item: LineItemDef, cell_count: int
    ) -> dict[str, Any]:
        applies = []
        for name in module.dimensions:
            definition = self.catalog.list_def(name)
            if definition is not None:
                applies.append({"id": self.lists.list_id(definition), "name": name})
        return {
            "format": _FORMATS[line_item.format],
            "formatMetadata": self._format_metadata(line_item),
            "isSummary": False,
            "startOfSection": False,
            "broughtForward": False,
            "useSwitchover": VERSIONS in module.dimensions,
            "breakback": False,
            "cellCount": cell_count,
            "version": dict(ALL_VERSIONS),
            "appliesTo": applies,
            "dataTags": [],
            "referencedBy": [],
            "summary": "Sum" if line_item.format == "number" else "None",
            "timeScale": "Month" if TIME in module.dimensions else "Not Applicable",
            "timeRange": "Model Calendar",
            "formulaScope": "All Versions",
            "style": "Normal",
            "notes": "",
        }

    def _format_metadata(self, line_item: LineItemDef) -> dict[str, Any]:
        if line_item.format == "number":
            return {
                "dataType": "NUMBER",
                "minimumSignificantDigits": 4,
                "decimalPlaces": -1,
                "negativeNumberNotation": "MINUS_SIGN",
                "unitsType": "NONE",
                "unitsDisplayType": "NONE",
                "zeroFormat": "ZERO",
                "comparisonIncrease": "GOOD",
                "groupingSeparator": "COMMA",
                "decimalSeparator": "FULL_STOP",
            }
        if line_item.format == "text":
            return {"dataType": "TEXT", "textType": "GENERAL"}
        if line_item.format == "list":
            definition = self.catalog.list_def(line_item.list or "")
            list_id = int(self.lists.list_id(definition)) if definition else 0
            return {
                "dataType": "ENTITY",
                "hierarchyEntityLongId": list_id,
                "selectiveAccessApplied": False,
                "showAll": True,
            }
        return {"dataType": "BOOLEAN" if line_item.format == "boolean" else "DATE"}

    def line_item_dimensions(self, line_item_id: str) -> list[dict[str, str]]:
        """The dimensions a line item applies to: Time and Versions first, then its lists."""
        module, _ = self.line_item(line_item_id)
        ordered = [n for n in (TIME, VERSIONS) if n in module.dimensions]
        ordered += [n for n in module.dimensions if n not in (TIME, VERSIONS)]
        return [self._axis_ref(name) for name in ordered]

    def line_item_dimension_items(
        self, line_item_id: str, dimension_id: str
    ) -> list[dict[str, Any]]:
        """Items of one of a line item's dimensions (Time: every period, its totals included)."""
        module, _ = self.line_item(line_item_id)
        for name in module.dimensions:
            if self._axis_ref(name)["id"] != dimension_id:
                continue
            if name in (TIME, VERSIONS):
                return [{"id": m.id, "name": m.name} for m in self.dimension(name).members]
            return self.dimension_items(dimension_id)
        raise errors.NotFound(f"Dimension {dimension_id} not found on line item {line_item_id}")

    def _list_ref(self, name: str) -> dict[str, str]:
        definition = self.catalog.list_def(name)
        if definition is None:
            raise errors.NotFound(f"List {name} not found")
        return {"id": self.lists.list_id(definition), "name": name}

    # -- dimension items ---------------------------------------------------------------------
    def dimension_items(self, dimension_id: str) -> list[dict[str, Any]]:
        """Every item of a list dimension, the top-level one included (`code` when set); of a
        list subset (`109…`), the items in it; of a line-item subset (`114…`), its line
        items."""
        if dimension_id == TIME_ID:
            raise errors.BadRequest("The Time dimension is not supported at the model level.")
        if dimension_id == VERSIONS_ID:
            raise errors.BadRequest("The Versions dimension is not supported at the model level.")
        for module in self.catalog.structure.modules:
            for line_items in module.line_item_subsets:
                key = member_key(module.name, line_items.name)
                if self.catalog.ids.get(("line_item_subset", key)) == dimension_id:
                    return [
                        {"id": self.line_item_id(module, li), "name": li.name}
                        for li in module.line_items
                        if li.name in line_items.line_items
                    ]
        subset = self.lists.subset_of(dimension_id)
        if subset is not None:
            definition, name = subset
            key = subset_key(name)
            return [
                {"id": table.item_id(item.index), "name": item.name, "code": item.code}
                for table in [self.lists.table(definition)]
                for item in table.items
                if item.props.get(key)
            ]
        table = self.list_dimension(dimension_id)
        items: list[dict[str, Any]] = [
            {"id": table.item_id(item.index), "name": item.name, "code": item.code}
            for item in table.items
        ]
        if table.top_level is not None:
            items.append({"id": table.item_id(0), "name": table.top_level})
        return items

    def lookup(
        self, dimension_id: str, names: Sequence[str], codes: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Items matching any of `names` or `codes`, case-insensitively; unmatched are dropped.

        Time matches period labels (`May 25`, `Q1 FY26`, `FY26`), Versions version names; neither
        has codes (400)."""
        if not names and not codes:
            raise errors.BadRequest("Give at least one of 'names' and 'codes'.")
        wanted_names = {name.lower() for name in names}
        wanted_codes = {code.lower() for code in codes}
        if dimension_id in (TIME_ID, VERSIONS_ID):
            if codes:
                raise errors.BadRequest(f"The dimension {dimension_id} has no codes.")
            members = self.dimension(TIME if dimension_id == TIME_ID else VERSIONS).members
            return [{"name": m.name, "id": m.id} for m in members if m.name.lower() in wanted_names]
        return [
            item
            for item in self.dimension_items(dimension_id)
            if item["name"].lower() in wanted_names
            or str(item.get("code", "")).lower() in wanted_codes
            or (str(item.get("code", "")).lower() in wanted_names and "code" in item)
        ]

    # -- views -------------------------------------------------------------------------------
    def views(self, module_ref: str | None) -> list[dict[str, str]]:
        """The default view and the saved views of one module or of all."""
        modules = (
            [self.module(module_ref)] if module_ref is not None else self.catalog.structure.modules
        )
        found: list[dict[str, str]] = []
        for module in modules:
            module_id = self.module_id(module)
            found.append({"code": "", "id": module_id, "name": module.name, "moduleId": module_id})
            for saved in module.views:
                view_id = self.catalog.id_of("view", member_key(module.name, saved.name))
                found.append(
                    {
                        "code": "",
                        "id": view_id,
                        "name": f"{_quoted(module.name)}.{_quoted(saved.name)}",
                        "moduleId": module_id,
                    }
                )
        return found

    def view_info(self, view_id: str) -> dict[str, Any]:
        """A view's id, name and axes (an axis without dimensions is left out)."""
        module, view = self.view(view_id)
        info: dict[str, Any] = {
            "viewId": view_id,
            "viewName": module.name if view.name == "" else f"{module.name}.{view.name}",
        }
        for axis, names in (("rows", view.rows), ("columns", view.columns), ("pages", view.pages)):
            refs = [self._axis_ref(name) for name in names]
            if refs:
                info[axis] = refs
        return info

    def _axis_ref(self, name: str) -> dict[str, str]:
        if name == LINE_ITEMS:
            return {"id": LINE_ITEMS_ID, "name": LINE_ITEMS}
        if name == TIME:
            return {"id": TIME_ID, "name": TIME}
        if name == VERSIONS:
            return {"id": VERSIONS_ID, "name": VERSIONS}
        return self._list_ref(name)

    def _axis(self, module: ModuleDef, name: str) -> Axis:
        if name == LINE_ITEMS:
            items = [li.name for li in module.line_items]
            return Axis(LINE_ITEMS_ID, name, items, items)
        dimension = self.dimension(name)
        return Axis(
            dimension.id,
            name,
            [m.name for m in dimension.members],
            [m.key or "" for m in dimension.members],
            [m.leaves for m in dimension.members],
        )

    def view_dimension_items(self, view_id: str, dimension_id: str) -> list[dict[str, str]]:
        """Items of one of the view's dimensions as the view shows them (a list: its own items;
        Time: every period, its totals included)."""
        module, view = self.view(view_id)
        for name in (*view.rows, *view.columns, *view.pages):
            if self._axis_ref(name)["id"] != dimension_id:
                continue
            if name == LINE_ITEMS:
                return [
                    {"id": self.line_item_id(module, li), "name": li.name}
                    for li in module.line_items
                ]
            if name in (TIME, VERSIONS):
                return [{"id": m.id, "name": m.name} for m in self.dimension(name).members]
            table = self.list_dimension(dimension_id)
            hidden = self.dimension(name).hidden
            return [
                {"id": table.item_id(item.index), "name": item.name}
                for item in table.items
                if item.code not in hidden
            ]
        raise errors.NotFound(f"Dimension {dimension_id} not found in view {view_id}")

    def grid(self, view_id: str, pages: Sequence[tuple[str, str]] = ()) -> Grid:
        """The view's cells for the chosen pages (default: each page dimension's first leaf),
        aggregates computed."""
        module, view = self.view(view_id)
        page_axes = [self._axis(module, name) for name in view.pages]
        chosen: dict[str, int] = {}
        for dimension_id, item_id in pages:
            axis = next((a for a in page_axes if a.id == dimension_id), None)
            if axis is None:
                raise errors.BadRequest(f"Invalid page selector [{dimension_id}]")
            chosen[dimension_id] = self._position(module, axis, item_id)
        page_choice = {axis.name: chosen.get(axis.id, _first_leaf(axis)) for axis in page_axes}
        return self._grid(module, view, page_axes, page_choice)

    def view_export(
        self,
        view_id: str,
        export_type: str,
        pages: Sequence[tuple[str, str]] = (),
        module_id: str | None = None,
    ) -> Grid | Iterator[Grid] | Tabular:
        """The view's data in one of Anaplan's `exportType` layouts.

        `GRID_CURRENT_PAGE` is `grid()`; `GRID_ALL_PAGES` one grid per page (every member of
        every page dimension, aggregates included); the tabular layouts need the view's module
        (`module_id`) and lay every dimension out as columns: `TABULAR_MULTI_COLUMN` one column
        per line item, `TABULAR_SINGLE_COLUMN` one line per cell with the line item's name and
        its value.
        """
        if export_type not in EXPORT_TYPES:
            raise errors.BadRequest(
                f"Invalid exportType '{export_type}'; use one of {', '.join(EXPORT_TYPES)}."
            )
        if export_type == "GRID_CURRENT_PAGE":
            return self.grid(view_id, pages)
        module, view = self.view(view_id)
        if export_type == "GRID_ALL_PAGES":
            if pages:
                raise errors.BadRequest("Page selectors do not apply to GRID_ALL_PAGES.")
            page_axes = [self._axis(module, name) for name in view.pages]
            per_page = _count(self._axis(module, n) for n in (*view.rows, *view.columns))
            if per_page * _count(page_axes) > MAX_VIEW_CELLS:
                raise errors.BadRequest(
                    f"The view has {per_page * _count(page_axes)} cells; at most "
                    f"{MAX_VIEW_CELLS} can be read (use a read request)."
                )
            return self._all_pages(module, view, page_axes)
        if module_id is None:
            raise errors.BadRequest(f"exportType {export_type} needs the moduleId parameter.")
        if module_id not in (self.module_id(module), module.name):
            raise errors.BadRequest(f"The view {view_id} is not a view of module {module_id}.")
        if pages:
            raise errors.BadRequest(f"Page selectors do not apply to {export_type}.")
        dimensions = [n for n in (*view.pages, *view.rows, *view.columns) if n != LINE_ITEMS]
        flat = ViewDef(name=view.name, rows=dimensions, columns=[LINE_ITEMS])
        grid = self._grid(module, flat, [], {})
        names = [li.name for li in module.line_items]
        return Tabular(dimensions, names, grid, single=export_type == "TABULAR_SINGLE_COLUMN")

    def _all_pages(
        self, module: ModuleDef, view: ViewDef, page_axes: Sequence[Axis]
    ) -> Iterator[Grid]:
        """One grid per page. The stored cells are read once, grouped by their page items, so
        each page looks at its own group rather than at every cell again."""
        names = [name for name in view.pages if name != LINE_ITEMS]
        positions = [module.dimensions.index(name) for name in names]
        width = len(module.dimensions)
        groups: dict[tuple[str, ...], list[tuple[tuple[str, ...], dict[str, Any]]]] = {}
        for key, values in self._stored_cells(module):
            if len(key) == width:
                groups.setdefault(tuple(key[p] for p in positions), []).append((key, values))
        self._grouped[module.name] = (names, groups)
        try:
            for choice in product(*[range(len(axis.keys)) for axis in page_axes]):
                yield self._grid(
                    module, view, page_axes, dict(zip(view.pages, choice, strict=True))
                )
        finally:
            self._grouped.pop(module.name, None)

    def _page_cells(
        self, module: ModuleDef, page_axes: Sequence[Axis], page_choice: Mapping[str, int]
    ) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        """The stored cells a page may hold: every cell, or (while `_all_pages` runs) only the
        groups whose page items the chosen page members hold."""
        grouped = self._grouped.get(module.name)
        if grouped is None:
            yield from self._stored_cells(module)
            return
        names, groups = grouped
        by_name = {axis.name: axis for axis in page_axes}
        allowed = [by_name[name].leaves[page_choice[name]] for name in names]
        for page_key, cells in groups.items():
            if all(key in leaves for key, leaves in zip(page_key, allowed, strict=True)):
                yield from cells

    def _grid(
        self,
        module: ModuleDef,
        view: ViewDef,
        page_axes: Sequence[Axis],
        page_choice: Mapping[str, int],
    ) -> Grid:
        rows = [self._axis(module, name) for name in view.rows]
        columns = [self._axis(module, name) for name in view.columns]
        row_count = _count(rows)
        column_count = _count(columns)
        if row_count * column_count > MAX_VIEW_CELLS:
            raise errors.BadRequest(
                f"The view has {row_count * column_count} cells; at most {MAX_VIEW_CELLS} can be "
                "read (use a read request)."
            )
        labels = [axis.labels[page_choice[axis.name]] if axis.keys else "" for axis in page_axes]
        column_tuples = list(product(*[range(len(axis.keys)) for axis in columns]))
        column_coordinates = [
            [axis.labels[i] for axis, i in zip(columns, column, strict=True)]
            for column in column_tuples
        ]
        row_tuples = product(*[range(len(axis.keys)) for axis in rows])
        summed = {li.name for li in module.line_items if li.format == "number"}
        if any(axis.has_aggregates for axis in (*rows, *columns)) or any(
            axis.keys and axis.keys[page_choice[axis.name]] == "" for axis in page_axes
        ):
            row_of = self._rolled_up(
                module, rows, columns, column_tuples, page_axes, page_choice, summed
            )
        else:
            row_of = self._direct(module, rows, columns, column_tuples, page_axes, page_choice)
        grid_rows: list[tuple[list[str], list[str]]] = []
        for row in row_tuples:
            coordinates = [axis.labels[i] for axis, i in zip(rows, row, strict=True)]
            grid_rows.append((coordinates, row_of(row)))
        return Grid(labels, len(rows), column_coordinates, grid_rows)

    def _direct(
        self,
        module: ModuleDef,
        rows: Sequence[Axis],
        columns: Sequence[Axis],
        column_tuples: Sequence[tuple[int, ...]],
        page_axes: Sequence[Axis],
        page_choice: Mapping[str, int],
    ) -> Callable[[tuple[int, ...]], list[str]]:
        """A row's values when every coordinate is a leaf: stored values, looked up."""
        fixed: dict[str, str] = {}
        fixed_line_item: str | None = None
        for axis in page_axes:
            if axis.keys:
                if axis.name == LINE_ITEMS:
                    fixed_line_item = axis.keys[page_choice[axis.name]]
                else:
                    fixed[axis.name] = axis.keys[page_choice[axis.name]]
        cells = self._cells(module, fixed, self._page_cells(module, page_axes, page_choice))
        # Where each part of a cell's key comes from: a page, a row axis or a column axis.
        row_at = {axis.name: i for i, axis in enumerate(rows)}
        column_at = {axis.name: i for i, axis in enumerate(columns)}
        row_line = row_at.get(LINE_ITEMS)
        column_line = column_at.get(LINE_ITEMS)
        # Per column: its part of the key (by dimension) and its line item.
        column_parts: list[tuple[dict[str, str], str | None]] = []
        for column in column_tuples:
            part = {
                axis.name: axis.keys[i]
                for axis, i in zip(columns, column, strict=True)
                if axis.name != LINE_ITEMS
            }
            line = (
                columns[column_line].keys[column[column_line]] if column_line is not None else None
            )
            column_parts.append((part, line))
        by_row_only = all(not part for part, _ in column_parts)

        def key_of(row_keys: Mapping[str, str], part: Mapping[str, str]) -> tuple[str, ...]:
            return tuple(
                part.get(name) or row_keys.get(name) or fixed.get(name, "")
                for name in module.dimensions
            )

        def row_of(row: tuple[int, ...]) -> list[str]:
            row_keys = {
                axis.name: axis.keys[i]
                for axis, i in zip(rows, row, strict=True)
                if axis.name != LINE_ITEMS
            }
            row_line_item = rows[row_line].keys[row[row_line]] if row_line is not None else None
            if by_row_only:
                stored = cells.get(key_of(row_keys, {}), {})
                found: list[str] = []
                for _, line in column_parts:
                    name = line or row_line_item or fixed_line_item
                    found.append(format_value(stored.get(name)) if name else "")
                return found
            values: list[str] = []
            for part, line in column_parts:
                line_item = line or row_line_item or fixed_line_item
                stored = cells.get(key_of(row_keys, part), {})
                values.append(format_value(stored.get(line_item)) if line_item else "")
            return values

        return row_of

    def _rolled_up(
        self,
        module: ModuleDef,
        rows: Sequence[Axis],
        columns: Sequence[Axis],
        column_tuples: Sequence[tuple[int, ...]],
        page_axes: Sequence[Axis],
        page_choice: Mapping[str, int],
        summed: set[str],
    ) -> Callable[[tuple[int, ...]], list[str]]:
        """A row's values with aggregates: each stored cell adds its number line items to every
        member (of the row and column dimensions) that holds it; other formats show at leaves."""
        positions = {name: i for i, name in enumerate(module.dimensions)}
        page_filters: list[tuple[int, frozenset[str]]] = []
        fixed_line_item: str | None = None
        all_leaf_pages = True
        for axis in page_axes:
            if not axis.keys:
                continue
            choice = page_choice[axis.name]
            if axis.name == LINE_ITEMS:
                fixed_line_item = axis.keys[choice]
                continue
            leaves = axis.leaves[choice]
            all_leaf_pages = all_leaf_pages and axis.keys[choice] != ""
            page_filters.append((positions[axis.name], leaves))
        grid_axes = [axis for axis in (*rows, *columns) if axis.name != LINE_ITEMS]
        # Per grid dimension: stored key -> the axis positions (leaf and aggregates) holding it.
        holders: list[tuple[int, dict[str, list[int]], Axis]] = []
        for axis in grid_axes:
            held: dict[str, list[int]] = {}
            for position, sums in enumerate(axis.leaves):
                for leaf in sums:
                    held.setdefault(leaf, []).append(position)
            holders.append((positions[axis.name], held, axis))
        totals: dict[tuple[int, ...], dict[str, Any]] = {}
        for key, values in self._page_cells(module, page_axes, page_choice):
            if len(key) != len(module.dimensions):
                continue
            if not all(key[position] in leaves for position, leaves in page_filters):
                continue
            held_by: list[list[int]] = []
            for position, held, _ in holders:
                holding = held.get(key[position])
                if holding is None:
                    break
                held_by.append(holding)
            else:
                leaf_at = tuple(  # a leaf selective access hides has no position of its own
                    next((p for p in holding if axis.keys[p] != ""), -1)
                    for holding, (_, _, axis) in zip(held_by, holders, strict=True)
                )
                for combination in product(*held_by):
                    entry = totals.setdefault(combination, {})
                    is_leaf = all_leaf_pages and combination == leaf_at
                    for name, stored in values.items():
                        if stored is None:
                            continue
                        if name in summed:
                            entry[name] = entry.get(name, 0.0) + stored
                        elif is_leaf:
                            entry[name] = stored
        row_grid = [i for i, axis in enumerate(rows) if axis.name != LINE_ITEMS]
        row_line = next((i for i, axis in enumerate(rows) if axis.name == LINE_ITEMS), None)
        column_line = next((i for i, axis in enumerate(columns) if axis.name == LINE_ITEMS), None)
        column_parts = [
            (
                tuple(
                    i for axis, i in zip(columns, column, strict=True) if axis.name != LINE_ITEMS
                ),
                columns[column_line].keys[column[column_line]] if column_line is not None else None,
            )
            for column in column_tuples
        ]
        empty: dict[str, Any] = {}

        def row_of(row: tuple[int, ...]) -> list[str]:
            prefix = tuple(row[i] for i in row_grid)
            row_line_item = rows[row_line].keys[row[row_line]] if row_line is not None else None
            values: list[str] = []
            for part, line in column_parts:
                line_item = line or row_line_item or fixed_line_item
                if line_item is None:
                    values.append("")
                    continue
                values.append(format_value(totals.get(prefix + part, empty).get(line_item)))
            return values

        return row_of

    def _position(self, module: ModuleDef, axis: Axis, item_id: str) -> int:
        if axis.id == LINE_ITEMS_ID:
            for position, line_item in enumerate(module.line_items):
                if self.line_item_id(module, line_item) == item_id:
                    return position
        else:
            dimension = self.dimension(axis.name)
            member = dimension.by_id(item_id)
            if member is not None:
                return dimension.position(member)
        raise errors.BadRequest(f"Invalid page selector [{axis.id}:{item_id}]")

    def _switchover(self, module: ModuleDef) -> tuple[int, int, str, dict[str, frozenset[str]]]:
        """For a module by Time and Versions: where the two sit in a cell's key, the actual
        version, and per forecast version with a switchover the months before it (which show
        the actual version's cells and cannot be written). Empty when nothing switches over."""
        if TIME not in module.dimensions or VERSIONS not in module.dimensions:
            return 0, 0, "", {}
        versions = self.catalog.structure.versions
        actual = next((v.name for v in versions if v.actual), None)
        if actual is None:
            return 0, 0, "", {}
        calendar = self.catalog.structure.calendar
        before = {
            v.name: months_before(calendar, date.fromisoformat(v.switchover))
            for v in versions
            if v.switchover is not None and not v.actual
        }
        return module.dimensions.index(TIME), module.dimensions.index(VERSIONS), actual, before

    def _stored_cells(self, module: ModuleDef) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        """The module's cells as views read them: a forecast version's months before its
        switchover are the actual version's cells (Anaplan's switchover)."""
        time_at, version_at, actual, before = self._switchover(module)
        width = len(module.dimensions)
        for key, values in self.data.cells(module.name):
            if not before or len(key) != width:
                yield key, values
                continue
            version, month = key[version_at], key[time_at]
            if month in before.get(version, ()):
                continue  # shown from the actual version
            yield key, values
            if version == actual:
                for other, months in before.items():
                    if month in months:
                        switched = list(key)
                        switched[version_at] = other
                        yield tuple(switched), values

    def _cells(
        self,
        module: ModuleDef,
        fixed: Mapping[str, str],
        stored: Iterable[tuple[tuple[str, ...], dict[str, Any]]] | None = None,
    ) -> dict[tuple[str, ...], dict[str, Any]]:
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        positions = [(i, fixed[name]) for i, name in enumerate(module.dimensions) if name in fixed]
        for key, values in stored if stored is not None else self._stored_cells(module):
            if all(position < len(key) and key[position] == code for position, code in positions):
                found[key] = values
        return found

    # -- cell writes -------------------------------------------------------------------------
    def write_cells(
        self, module_ref: str, cells: Sequence[Any]
    ) -> tuple[int, list[dict[str, Any]]]:
        """Write cells; each is independent. Returns the count written and the failures."""
        module = self.module(module_ref)
        if len(cells) > MAX_CELLS_PER_WRITE:
            raise errors.BadRequest(
                f"The request has {len(cells)} cells; send at most {MAX_CELLS_PER_WRITE} per call."
            )
        tables = {name: self.dimension(name, for_writes=True) for name in module.dimensions}
        before = self._switchover(module)[3]
        members = {
            li.list: self.lists._members(li.list) for li in module.line_items if li.list is not None
        }
        failures: list[dict[str, Any]] = []
        by_line_item: dict[str, list[tuple[str, Any]]] = {}
        for position, raw in enumerate(cells):
            try:
                line_item, key, value = self._cell(module, tables, members, raw, before)
            except _CellFailure as failure:
                failures.append(
                    {
                        "requestIndex": position,
                        "failureType": failure.failure_type,
                        "failureMessageDetails": failure.details,
                    }
                )
                continue
            by_line_item.setdefault(line_item.name, []).append((key, value))
        written = 0
        if by_line_item:
            with self.data.transaction() as txn:
                for name, rows in by_line_item.items():
                    line_item = next(li for li in module.line_items if li.name == name)
                    txn.write_cells(
                        module.name,
                        line_items=[(name, storage_kind(line_item.format))],
                        rows=rows,
                    )
                    written += len(rows)
        return written, failures

    def _cell(
        self,
        module: ModuleDef,
        tables: Mapping[str, Dimension],
        members: Mapping[str, set[str]],
        raw: Any,
        before: Mapping[str, frozenset[str]],
    ) -> tuple[LineItemDef, str, Any]:
        if not isinstance(raw, Mapping):
            raise _CellFailure("missingRequiredField", "a cell must be a JSON object")
        line_item = self._cell_line_item(module, raw)
        if "value" not in raw or raw["value"] is None:
            raise _CellFailure("missingRequiredField", "value is missing")
        value = raw["value"]
        if not isinstance(value, str | int | float | bool):
            raise _CellFailure("unsupportedValueType", "value must be a string, number or boolean")
        dimensions = raw.get("dimensions", [])
        if not isinstance(dimensions, list):
            raise _CellFailure("missingRequiredField", "dimensions must be a list")
        codes: dict[str, str] = {}
        for coordinate in dimensions:
            name, code = self._coordinate(tables, coordinate)
            codes[name] = code
        missing = [name for name in module.dimensions if name not in codes]
        if missing:
            raise _CellFailure("cellIsInvalid", f"no item given for {', '.join(missing)}")
        if before and codes[TIME] in before.get(codes[VERSIONS], ()):
            raise _CellFailure(
                "cellIsNotWriteable",
                f"{codes[TIME]} is before the switchover of {codes[VERSIONS]}: it shows actuals",
            )
        key = KEY_SEPARATOR.join(codes[name] for name in module.dimensions)
        return line_item, key, self._value(line_item, value, members)

    def _cell_line_item(self, module: ModuleDef, raw: Mapping[str, Any]) -> LineItemDef:
        line_item_id = raw.get("lineItemId")
        line_item_name = raw.get("lineItemName")
        if line_item_id is None and line_item_name is None:
            raise _CellFailure("missingRequiredField", "lineItemId or lineItemName is missing")
        for line_item in module.line_items:
            if str(line_item_id) == self.line_item_id(module, line_item) or (
                line_item_id is None and line_item_name == line_item.name
            ):
                return line_item
        if line_item_id is not None and not str(line_item_id).isdigit():
            raise _CellFailure("invalidId", f"not a line item id: {line_item_id}")
        raise _CellFailure("invalidLineItem", f"not a line item of {module.name}")

    def _coordinate(self, tables: Mapping[str, Dimension], coordinate: Any) -> tuple[str, str]:
        if not isinstance(coordinate, Mapping):
            raise _CellFailure("missingRequiredField", "each dimension must be a JSON object")
        dimension_id = coordinate.get("dimensionId")
        dimension_name = coordinate.get("dimensionName")
        found_dimension = next(
            (
                (name, dimension)
                for name, dimension in tables.items()
                if str(dimension_id) == dimension.id
                or (dimension_id is None and dimension_name == name)
            ),
            None,
        )
        if found_dimension is None:
            if dimension_id is None and dimension_name is None:
                raise _CellFailure("missingRequiredField", "dimensionId or dimensionName missing")
            raise _CellFailure(
                "invalidDimension",
                f"not a dimension of the line item: {dimension_id or dimension_name}",
            )
        name, dimension = found_dimension
        item_id, item_name, item_code = (
            coordinate.get("itemId"),
            coordinate.get("itemName"),
            coordinate.get("itemCode"),
        )
        member: Member | None
        if item_id is not None:
            if not str(item_id).strip().isdigit():
                raise _CellFailure("invalidId", f"not an item id: {item_id}")
            member = dimension.by_id(item_id)
        elif item_code is not None:
            member = dimension.by_code(str(item_code))
        elif item_name is not None:
            member = dimension.by_name(str(item_name))
        else:
            raise _CellFailure("missingRequiredField", "itemId, itemName or itemCode is missing")
        if member is None:
            raise _CellFailure("invalidItem", f"no such item in {name}")
        if member.key is None:
            raise _CellFailure("cellIsCalculated", "the cell is an aggregate and not writeable")
        if member.key in dimension.read_only:
            raise _CellFailure("cellIsNotWriteable", f"no write access to {member.name} in {name}")
        return name, member.key

    def _value(self, line_item: LineItemDef, value: Any, members: Mapping[str, set[str]]) -> Any:
        if line_item.format == "boolean":
            if isinstance(value, bool):
                return "true" if value else "false"
            text = str(value).strip().lower()
            if text not in ("true", "false"):
                raise _CellFailure("valueDataTypeMismatch", f"not a boolean: {value}")
            return text
        if line_item.format == "number":
            if isinstance(value, bool):
                raise _CellFailure("valueDataTypeMismatch", f"not a number: {value}")
            try:
                return float(value)
            except ValueError:
                raise _CellFailure("valueDataTypeMismatch", f"not a number: {value}") from None
        text = format_value(value)
        if line_item.format == "date":
            try:
                return converter("date")(text)
            except ValueError:
                raise _CellFailure("invalidDateValue", f"not a YYYY-MM-DD date: {text}") from None
        if line_item.format == "list" and text not in members.get(line_item.list or "", set()):
            raise _CellFailure("invalidListItemValue", f"no item {text!r} in {line_item.list}")
        return text


class _CellFailure(Exception):
    def __init__(self, failure_type: str, details: str):
        super().__init__(details)
        self.failure_type = failure_type
        self.details = details


def default_view(module: ModuleDef) -> ViewDef:
    """A module's default view: first list on rows, line items on columns, the rest on pages."""
    return ViewDef(
        name="",
        rows=module.dimensions[:1],
        columns=["Line Items"],
        pages=module.dimensions[1:],
    )


def _first_leaf(axis: Axis) -> int:
    """A page dimension's default selection: its first leaf (Anaplan's lists answer
    `useTopLevelAsPageDefault: false`)."""
    return next((i for i, key in enumerate(axis.keys) if key != ""), 0)


def _count(axes: Iterable[Axis]) -> int:
    total = 1
    for axis in axes:
        total *= len(axis.keys)
    return total


def _quoted(name: str) -> str:
    """A part of a saved view's name, quoted when it holds special characters."""
    return name if all(ch.isalnum() or ch in " _-" for ch in name) else f"'{name}'"


def iter_json(items: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """JSON array elements, comma-joined (the caller wraps them)."""
    first = True
    for item in items:
        yield (b"" if first else b",") + json.dumps(item).encode()
        first = False
