"""Modules, line items, views, view data, dimension items and cell writes over the
transactional API, on the same cells imports load and exports write.

What the emulator models: a module is dimensioned by lists (its `dimensions`); a view places
those lists and the `Line Items` pseudo-dimension on rows, columns and pages. The default view
(id = the module's id) has the first list on rows, `Line Items` on columns and the other lists on
pages; saved views come from the definition. Rows and columns show the stored items of each list
(top-level and parent items are not aggregated: the emulator computes no summaries). Time and
Versions exist as the model's calendar and versions (`timesettings.py`), not as module
dimensions.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from .. import errors
from ..definitions import LineItemDef, ModuleDef, ViewDef
from ..storage import KEY_SEPARATOR
from .catalog import member_key
from .lists import ItemTable, Lists, ModelHost
from .values import converter, format_value, storage_kind

LINE_ITEMS_ID = "20000000012"
"""The `Line Items` pseudo-dimension on view axes."""
TIME_ID = "20000000003"
VERSIONS_ID = "20000000020"
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
    """One dimension of a view: a list, or `Line Items`."""

    id: str
    name: str
    labels: list[str]  # the item names shown, in order
    keys: list[str]  # what each label stands for: an item code, or a line item name


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


class Modules:
    """Modules, line items, views and cells of one model, for one request."""

    def __init__(self, host: ModelHost, model_id: str):
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
            "useSwitchover": False,
            "breakback": False,
            "cellCount": cell_count,
            "version": dict(ALL_VERSIONS),
            "appliesTo": applies,
            "dataTags": [],
            "referencedBy": [],
            "summary": "Sum" if line_item.format == "number" else "None",
            "timeScale": "Not Applicable",
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
        """The dimensions a line item applies to (its module's lists)."""
        module, _ = self.line_item(line_item_id)
        return [self._list_ref(name) for name in module.dimensions]

    def line_item_dimension_items(
        self, line_item_id: str, dimension_id: str
    ) -> list[dict[str, Any]]:
        """Items of one of a line item's dimensions."""
        module, _ = self.line_item(line_item_id)
        if dimension_id not in {self._list_ref(name)["id"] for name in module.dimensions}:
            raise errors.NotFound(f"Dimension {dimension_id} not found on line item {line_item_id}")
        return self.dimension_items(dimension_id)

    def _list_ref(self, name: str) -> dict[str, str]:
        definition = self.catalog.list_def(name)
        if definition is None:
            raise errors.NotFound(f"List {name} not found")
        return {"id": self.lists.list_id(definition), "name": name}

    # -- dimension items ---------------------------------------------------------------------
    def dimension_items(self, dimension_id: str) -> list[dict[str, Any]]:
        """Every item of a list dimension, the top-level one included (`code` when set)."""
        if dimension_id == TIME_ID:
            raise errors.BadRequest("The Time dimension is not supported at the model level.")
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
        """Items matching any of `names` or `codes`, case-insensitively; unmatched are dropped."""
        if not names and not codes:
            raise errors.BadRequest("Give at least one of 'names' and 'codes'.")
        wanted_names = {name.lower() for name in names}
        wanted_codes = {code.lower() for code in codes}
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
        if name == "Line Items":
            return {"id": LINE_ITEMS_ID, "name": "Line Items"}
        return self._list_ref(name)

    def _axis(self, module: ModuleDef, name: str) -> Axis:
        if name == "Line Items":
            items = [li.name for li in module.line_items]
            return Axis(LINE_ITEMS_ID, name, items, items)
        definition = self.catalog.list_def(name)
        assert definition is not None
        table = self.lists.table(definition)
        return Axis(
            table.list_id,
            name,
            [item.name for item in table.items],
            [item.code for item in table.items],
        )

    def view_dimension_items(self, view_id: str, dimension_id: str) -> list[dict[str, str]]:
        """Items of one of the view's dimensions as the view shows them."""
        module, view = self.view(view_id)
        for name in (*view.rows, *view.columns, *view.pages):
            axis = self._axis(module, name)
            if axis.id != dimension_id:
                continue
            if name == "Line Items":
                return [
                    {"id": self.line_item_id(module, li), "name": li.name}
                    for li in module.line_items
                ]
            table = self.list_dimension(dimension_id)
            return [{"id": table.item_id(item.index), "name": item.name} for item in table.items]
        raise errors.NotFound(f"Dimension {dimension_id} not found in view {view_id}")

    def grid(self, view_id: str, pages: Sequence[tuple[str, str]] = ()) -> Grid:
        """The view's cells for the chosen pages (default: each page dimension's first item)."""
        module, view = self.view(view_id)
        rows = [self._axis(module, name) for name in view.rows]
        columns = [self._axis(module, name) for name in view.columns]
        page_axes = [self._axis(module, name) for name in view.pages]
        chosen: dict[str, int] = {}
        for dimension_id, item_id in pages:
            axis = next((a for a in page_axes if a.id == dimension_id), None)
            if axis is None:
                raise errors.BadRequest(f"Invalid page selector [{dimension_id}]")
            chosen[dimension_id] = self._position(module, axis, item_id)
        page_choice = {axis.name: chosen.get(axis.id, 0) for axis in page_axes}
        row_count = _count(rows)
        column_count = _count(columns)
        if row_count * column_count > MAX_VIEW_CELLS:
            raise errors.BadRequest(
                f"The view has {row_count * column_count} cells; at most {MAX_VIEW_CELLS} can be "
                "read (use a read request)."
            )
        fixed: dict[str, str] = {}
        labels: list[str] = []
        for axis in page_axes:
            position = page_choice[axis.name]
            if axis.keys:
                fixed[axis.name] = axis.keys[position]
                labels.append(axis.labels[position])
            else:
                labels.append("")
        cells = self._cells(module, fixed)
        column_tuples = list(product(*[range(len(axis.keys)) for axis in columns]))
        grid_rows: list[tuple[list[str], list[str]]] = []
        for row in product(*[range(len(axis.keys)) for axis in rows]):
            coordinates = [axis.labels[i] for axis, i in zip(rows, row, strict=True)]
            values: list[str] = []
            for column in column_tuples:
                chosen_keys = dict(fixed)
                for axis, i in zip(rows, row, strict=True):
                    chosen_keys[axis.name] = axis.keys[i]
                for axis, i in zip(columns, column, strict=True):
                    chosen_keys[axis.name] = axis.keys[i]
                line_item = chosen_keys.pop("Line Items", None)
                key = tuple(chosen_keys.get(name, "") for name in module.dimensions)
                stored = cells.get(key, {})
                values.append(format_value(stored.get(line_item)) if line_item else "")
            grid_rows.append((coordinates, values))
        column_coordinates = [
            [axis.labels[i] for axis, i in zip(columns, column, strict=True)]
            for column in column_tuples
        ]
        return Grid(labels, len(rows), column_coordinates, grid_rows)

    def _position(self, module: ModuleDef, axis: Axis, item_id: str) -> int:
        if axis.id == LINE_ITEMS_ID:
            for position, line_item in enumerate(module.line_items):
                if self.line_item_id(module, line_item) == item_id:
                    return position
        else:
            table = self.list_dimension(axis.id)
            index = table.index_of(item_id)
            item = table.by_index.get(index) if index is not None else None
            if item is not None:
                return axis.keys.index(item.code)
        raise errors.BadRequest(f"Invalid page selector [{axis.id}:{item_id}]")

    def _cells(
        self, module: ModuleDef, fixed: Mapping[str, str]
    ) -> dict[tuple[str, ...], dict[str, Any]]:
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        positions = [(i, fixed[name]) for i, name in enumerate(module.dimensions) if name in fixed]
        for key, values in self.data.cells(module.name):
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
        tables = {name: self._table_of(name) for name in module.dimensions}
        members = {
            li.list: self.lists._members(li.list) for li in module.line_items if li.list is not None
        }
        failures: list[dict[str, Any]] = []
        by_line_item: dict[str, list[tuple[str, Any]]] = {}
        for position, raw in enumerate(cells):
            try:
                line_item, key, value = self._cell(module, tables, members, raw)
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

    def _table_of(self, name: str) -> ItemTable:
        definition = self.catalog.list_def(name)
        assert definition is not None
        return self.lists.table(definition)

    def _cell(
        self,
        module: ModuleDef,
        tables: Mapping[str, ItemTable],
        members: Mapping[str, set[str]],
        raw: Any,
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

    def _coordinate(self, tables: Mapping[str, ItemTable], coordinate: Any) -> tuple[str, str]:
        if not isinstance(coordinate, Mapping):
            raise _CellFailure("missingRequiredField", "each dimension must be a JSON object")
        dimension_id = coordinate.get("dimensionId")
        dimension_name = coordinate.get("dimensionName")
        table = next(
            (
                t
                for name, t in tables.items()
                if str(dimension_id) == t.list_id
                or (dimension_id is None and dimension_name == name)
            ),
            None,
        )
        if table is None:
            if dimension_id is None and dimension_name is None:
                raise _CellFailure("missingRequiredField", "dimensionId or dimensionName missing")
            raise _CellFailure(
                "invalidDimension",
                f"not a dimension of the line item: {dimension_id or dimension_name}",
            )
        item_id, item_name, item_code = (
            coordinate.get("itemId"),
            coordinate.get("itemName"),
            coordinate.get("itemCode"),
        )
        found = None
        if item_id is not None:
            index = table.index_of(item_id)
            found = table.by_index.get(index) if index is not None else None
        elif item_code is not None:
            found = table.by_code.get(str(item_code))
        elif item_name is not None:
            found = table.by_name.get(str(item_name))
        else:
            raise _CellFailure("missingRequiredField", "itemId, itemName or itemCode is missing")
        if found is None:
            if item_id is None and table.top_level is not None and item_name == table.top_level:
                raise _CellFailure("cellIsCalculated", "the cell is an aggregate and not writeable")
            if item_id is not None and table.index_of(item_id) == 0:
                raise _CellFailure("cellIsCalculated", "the cell is an aggregate and not writeable")
            raise _CellFailure("invalidItem", f"no such item in {table.definition.name}")
        return table.definition.name, found.code

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
