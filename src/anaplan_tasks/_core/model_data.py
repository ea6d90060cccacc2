"""Modules, views, cells, time settings, versions and users of the transactional API.

- Modules and views are named by id or name (a name costs one listing). A view's name is the
  one Anaplan lists: the module's name for its default view, `Module.View` for a saved one.
- A view's data is read as JSON (`ViewData`, the whole grid) or streamed as CSV: `ViewRows`
  parses the grid CSV piece by piece, knowing from the view's axes how many header lines come
  first.
- Cell writes go in chunks of at most 100,000 cells, summed; failure indexes count from the
  first cell given. Writing the same cells again writes the same values, so a lost answer is
  retried like any idempotent call.
"""

from __future__ import annotations

import codecs
import csv
import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ..errors import NotFoundError
from ..models import User
from ..models.transactional import (
    CellFailure,
    CellWriteResult,
    CurrentPeriod,
    DimensionItem,
    FiscalYear,
    LineItemInfo,
    ModelCalendar,
    ModuleInfo,
    ObjectRef,
    Switchover,
    Version,
    ViewAxes,
    ViewData,
    ViewInfo,
    ViewLayout,
    ViewRow,
)
from . import endpoints
from .calls import call, get_json, list_all, stream_get
from .flow import Context, Flow, Request
from .lists import chunks_of

MAX_CELLS_PER_WRITE = 100_000
"""Cells Anaplan takes in one write."""


def _segment(value: str) -> str:
    return quote(value, safe="")


def _base(ctx: Context) -> str:
    return endpoints.model_base(ctx)


def _closest(kind: str, wanted: str, names: Sequence[str]) -> NotFoundError:
    closest = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(repr(name) for name in closest)}?" if closest else ""
    return NotFoundError(f"no {kind} named or numbered {wanted!r}{hint}", status_code=404)


# -- modules and line items ------------------------------------------------------------------
def list_modules(ctx: Context) -> Flow[list[ModuleInfo]]:
    """Every module."""
    items = yield from list_all(ctx, f"{_base(ctx)}/modules", "modules")
    return [ModuleInfo.model_validate(item) for item in items]


def module_id_of(ctx: Context, wanted: str) -> Flow[str]:
    """A module's id from its id or name."""
    if wanted.isdigit():
        return wanted
    found = yield from list_modules(ctx)
    for module in found:
        if module.name == wanted:
            return module.id
    raise _closest("module", wanted, [m.name for m in found])


def line_items(
    ctx: Context, module_id: str | None, *, include_all: bool
) -> Flow[list[LineItemInfo]]:
    """Line items of one module (in order) or of every module."""
    path = f"/modules/{_segment(module_id)}/lineItems" if module_id else "/lineItems"
    params = {"includeAll": "true"} if include_all else {}
    body = yield from get_json(ctx, f"{_base(ctx)}{path}", params)
    return [LineItemInfo.model_validate(item) for item in body.get("items", [])]


def line_item_dimensions(ctx: Context, line_item_id: str) -> Flow[list[ObjectRef]]:
    """The dimensions of a line item."""
    body = yield from get_json(ctx, f"{_base(ctx)}/lineItems/{_segment(line_item_id)}/dimensions")
    return [ObjectRef.model_validate(item) for item in body.get("dimensions", [])]


def dimension_items(ctx: Context, dimension_id: str) -> Flow[list[DimensionItem]]:
    """Every item of a dimension (a list's top-level item included)."""
    body = yield from get_json(ctx, f"{_base(ctx)}/dimensions/{_segment(dimension_id)}/items")
    return [DimensionItem.model_validate(item) for item in body.get("items", [])]


def lookup_items(
    ctx: Context, dimension_id: str, names: Sequence[str], codes: Sequence[str]
) -> Flow[list[DimensionItem]]:
    """Items of a dimension by name or code (case-insensitive; unmatched ones are left out)."""
    request = Request(
        "POST",
        f"{_base(ctx)}/dimensions/{_segment(dimension_id)}/items",
        json={"names": list(names), "codes": list(codes)},
    )
    response = yield from call(ctx, request)
    return [DimensionItem.model_validate(item) for item in response.json().get("items", [])]


# -- views -----------------------------------------------------------------------------------
def list_views(ctx: Context, module_id: str | None = None) -> Flow[list[ViewInfo]]:
    """Views of one module or of every module (default and saved)."""
    path = f"/modules/{_segment(module_id)}/views" if module_id else "/views"
    items = yield from list_all(ctx, f"{_base(ctx)}{path}", "views")
    return [ViewInfo.model_validate(item) for item in items]


def view_id_of(ctx: Context, wanted: str) -> Flow[str]:
    """A view's id from its id or its listed name (`Module` or `Module.View`)."""
    if wanted.isdigit():
        return wanted
    found = yield from list_views(ctx)
    for view in found:
        if view.name == wanted:
            return view.id
    raise _closest("view", wanted, [v.name for v in found])


def view_axes(ctx: Context, view_id: str) -> Flow[ViewAxes]:
    """A view's rows, columns and pages."""
    body = yield from get_json(ctx, f"{_base(ctx)}/views/{_segment(view_id)}")
    return ViewAxes.model_validate(body)


def _pages_param(pages: Mapping[str, str] | None) -> dict[str, str]:
    if not pages:
        return {}
    return {"pages": ",".join(f"{dimension}:{item}" for dimension, item in pages.items())}


def view_data(ctx: Context, view_id: str, pages: Mapping[str, str] | None) -> Flow[ViewData]:
    """A view's whole grid as Anaplan's JSON."""
    request = Request(
        "GET",
        f"{_base(ctx)}/views/{_segment(view_id)}/data",
        params={"format": "v1", **_pages_param(pages)},
        headers={"Accept": "application/json"},
    )
    response = yield from call(ctx, request)
    return ViewData.model_validate(response.json())


TABULAR_LAYOUTS = ("TABULAR_MULTI_COLUMN", "TABULAR_SINGLE_COLUMN")
"""The layouts that need the view's module id."""


def view_module_id(ctx: Context, view_id: str) -> Flow[str]:
    """The id of the module a view belongs to (a default view's id is its module's)."""
    found = yield from list_views(ctx)
    for view in found:
        if view.id == view_id:
            return view.module_id
    raise _closest("view", view_id, [v.id for v in found])


def view_csv(
    ctx: Context,
    view_id: str,
    pages: Mapping[str, str] | None,
    layout: ViewLayout = "GRID_CURRENT_PAGE",
    module_id: str | None = None,
) -> Flow[int]:
    """Emit a view's CSV piece by piece (the grid, or another `exportType` layout; the tabular
    ones need `module_id`); returns the byte count."""
    params = _pages_param(pages)
    if layout != "GRID_CURRENT_PAGE":
        params["exportType"] = layout
    if module_id is not None:
        params["moduleId"] = module_id
    request = Request(
        "GET",
        f"{_base(ctx)}/views/{_segment(view_id)}/data",
        params=params,
        headers={"Accept": "text/csv"},
        stream=True,
    )
    return (yield from stream_get(ctx, request))


class ViewRows:
    """Turns a view's grid CSV, fed piece by piece, into `ViewRow`s.

    The grid starts with a page line (when the view has pages) and one header line per column
    dimension; they are kept in `pages` and `column_headers`.
    """

    def __init__(self, axes: ViewAxes):
        self._row_names = len(axes.rows)
        self._skip = (1 if axes.pages else 0) + len(axes.columns)
        self._has_pages = bool(axes.pages)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._pending = ""
        self.pages: list[str] = []
        self.column_headers: list[list[str]] = []

    def feed(self, data: bytes, *, final: bool = False) -> list[ViewRow]:
        """The rows completed by these bytes (all remaining ones when `final`)."""
        text = self._pending + self._decoder.decode(data, final=final)
        records: list[str] = []
        start = position = 0
        while (newline := text.find("\n", position)) >= 0:
            position = newline + 1
            record = text[start:position]
            if record.count('"') % 2 == 0:
                records.append(record)
                start = position
        self._pending = text[start:]
        if final and self._pending.strip():
            records.append(self._pending)
            self._pending = ""
        rows: list[ViewRow] = []
        for fields in csv.reader(records):
            if self._skip:
                self._skip -= 1
                if self._has_pages and not self.pages:
                    self.pages = [field for field in fields if field]
                else:
                    self.column_headers.append(fields[self._row_names :])
                continue
            rows.append(
                # fields are text already: no validation needed
                ViewRow.model_construct(
                    row_coordinates=fields[: self._row_names], cells=fields[self._row_names :]
                )
            )
        return rows


# -- cells -----------------------------------------------------------------------------------
def write_cells(
    ctx: Context, module_id: str, cells: Iterable[Mapping[str, Any]]
) -> Flow[CellWriteResult]:
    """Write cells in chunks of 100,000; the answers summed, failures indexed from the first."""
    url = f"{_base(ctx)}/modules/{_segment(module_id)}/data"
    written = 0
    failures: list[CellFailure] = []
    offset = 0
    for chunk in chunks_of(cells, MAX_CELLS_PER_WRITE):
        response = yield from call(ctx, Request("POST", url, json=[dict(c) for c in chunk]))
        result = CellWriteResult.model_validate(response.json())
        written += result.number_of_cells_changed
        for failure in result.failures:
            index = failure.request_index
            failures.append(
                failure.model_copy(
                    update={"request_index": None if index is None else index + offset}
                )
            )
        offset += len(chunk)
    if failures:
        return CellWriteResult(number_of_cells_changed=written, failures=failures)
    return CellWriteResult(number_of_cells_changed=written)


# -- time settings and versions --------------------------------------------------------------
def current_period(ctx: Context) -> Flow[CurrentPeriod]:
    """The model's current period."""
    body = yield from get_json(ctx, f"{_base(ctx)}/currentPeriod")
    return CurrentPeriod.model_validate(body.get("currentPeriod", {}))


def set_current_period(ctx: Context, day: str) -> Flow[CurrentPeriod]:
    """Make the period holding `day` (YYYY-MM-DD; `""` clears) current."""
    request = Request("PUT", f"{_base(ctx)}/currentPeriod", json={"date": day})
    response = yield from call(ctx, request)
    return CurrentPeriod.model_validate(response.json().get("currentPeriod", {}))


def model_calendar(ctx: Context) -> Flow[ModelCalendar]:
    """The model calendar."""
    body = yield from get_json(ctx, f"{_base(ctx)}/modelCalendar")
    return ModelCalendar.model_validate(body.get("modelCalendar", {}))


def set_fiscal_year(ctx: Context, year: str) -> Flow[FiscalYear]:
    """Move the current fiscal year (`FY26`)."""
    request = Request("PUT", f"{_base(ctx)}/modelCalendar/fiscalYear", json={"year": year})
    response = yield from call(ctx, request)
    return FiscalYear.model_validate(response.json()["modelCalendar"]["fiscalYear"])


def list_versions(ctx: Context) -> Flow[list[Version]]:
    """The model's versions."""
    body = yield from get_json(ctx, f"{_base(ctx)}/versions")
    return [Version.model_validate(item) for item in body.get("versionMetadata", [])]


def set_switchover(ctx: Context, version_id: str, day: str) -> Flow[Switchover]:
    """Set a version's switchover to the period holding `day` (`""` clears)."""
    url = f"{_base(ctx)}/versions/{_segment(version_id)}/switchover"
    response = yield from call(ctx, Request("PUT", url, json={"date": day}))
    return Switchover.model_validate(response.json().get("versionSwitchover", {}))


# -- users -----------------------------------------------------------------------------------
def get_user(ctx: Context, user_id: str = "me") -> Flow[User]:
    """One user of the tenant (`me`: the signed-in one)."""
    body = yield from get_json(ctx, endpoints.api_url(ctx, f"/users/{_segment(user_id)}"))
    return User.model_validate(body.get("user", {}))


USER_SORT_FIELDS = ("firstName", "lastName", "email", "active", "lastLoginDate")
"""The fields Anaplan sorts `/users` by."""


def user_sort_param(sort: Sequence[str]) -> dict[str, str]:
    """`sort=+lastName,-email` from `["lastName", "-email"]` (a field without a sign ascends);
    a field Anaplan does not sort by raises ValueError before any request."""
    parts: list[str] = []
    for entry in sort:
        sign = "-" if entry.startswith("-") else "+"
        field = entry.lstrip("+-")
        if field not in USER_SORT_FIELDS:
            raise ValueError(
                f"cannot sort users by {field!r}; sort by {', '.join(USER_SORT_FIELDS)}"
            )
        parts.append(f"{sign}{field}")
    return {"sort": ",".join(parts)} if parts else {}


def list_users(ctx: Context, sort: Sequence[str] = ()) -> Flow[list[User]]:
    """Every user of the tenant (workspace administrators only), in Anaplan's `sort` order."""
    params = user_sort_param(sort)
    items = yield from list_all(ctx, endpoints.api_url(ctx, "/users"), "users", params)
    return [User.model_validate(item) for item in items]
