"""Modules, line items, views, view data, dimension items, cell writes, and time settings
(current period, model calendar, fiscal year, versions, switchover)."""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ...engine.base import EngineBase
from ...engine.contract import Engine, Principal
from ...engine.lists import ModelHost
from ...engine.modules import MAX_CELLS_PER_WRITE, Grid, Modules, Tabular
from ...engine.timesettings import TimeSettings
from ...errors import BadRequest
from ...jsontext import load_json
from ..context import in_model, model_scoped
from ..wire import (
    envelope,
    flag,
    listing,
    page_locally,
    parse_page,
    read_body,
    read_json_object,
    schema_url,
)

MAX_CELL_BODY = 15 * 1024 * 1024
"""A cell write's body may not exceed 15 MB (Anaplan's limit)."""


def modules_of(engine: Engine, model_id: str, who: Principal | None = None) -> Modules:
    """The modules of a model (as `who` sees them under selective access; None: everything)."""
    viewer = None
    if who is not None and not cast("EngineBase", engine).is_model_admin(who, model_id):
        viewer = who.email
    return Modules(cast("ModelHost", engine), model_id, viewer)


def times_of(engine: Engine, model_id: str) -> TimeSettings:
    """The time settings of a model."""
    return TimeSettings(cast("ModelHost", engine), model_id)


def _items_answer(request: Request, key: str, schema: str, items: list[Any]) -> Response:
    body: dict[str, Any] = {
        "meta": {"schema": schema_url(request, schema)},
        "status": {"code": 200, "message": "Success"},
    }
    if items:
        body[key] = items
    return JSONResponse(body)


async def get_modules(request: Request) -> Response:
    """The model's modules, paged."""
    page = parse_page(request)
    found = await in_model(request, lambda e, who, m: modules_of(e, m).modules())
    if request.query_params.get("sort", "").lstrip("+- ") == "name":
        found.sort(key=lambda m: m["name"], reverse=request.query_params["sort"].startswith("-"))
    return listing(request, "modules", "module", page_locally(found, page))


async def get_line_items(request: Request) -> Response:
    """Line items of every module, or of one (`includeAll=true` adds every field)."""
    module_ref = request.path_params.get("moduleId")
    include_all = flag(request, "includeAll")
    items = await in_model(
        request, lambda e, who, m: modules_of(e, m).line_items(module_ref, include_all=include_all)
    )
    return _items_answer(request, "items", "lineItem", items)


async def get_line_item_dimensions(request: Request) -> Response:
    """The dimensions of a line item."""
    line_item_id = request.path_params["lineItemId"]
    found = await in_model(
        request, lambda e, who, m: modules_of(e, m).line_item_dimensions(line_item_id)
    )
    return _items_answer(request, "dimensions", "dimension", found)


async def get_line_item_dimension_items(request: Request) -> Response:
    """Items of one dimension of a line item."""
    line_item_id = request.path_params["lineItemId"]
    dimension_id = request.path_params["dimensionId"]
    found = await in_model(
        request,
        lambda e, who, m: modules_of(e, m).line_item_dimension_items(line_item_id, dimension_id),
    )
    return _items_answer(request, "items", "dimension", found)


async def get_views(request: Request) -> Response:
    """Default and saved views of every module or of one, paged."""
    page = parse_page(request)
    module_ref = request.path_params.get("moduleId")
    found = await in_model(request, lambda e, who, m: modules_of(e, m).views(module_ref))
    return listing(request, "views", "view", page_locally(found, page))


async def get_view(request: Request) -> Response:
    """A view's axes: top-level `viewId`, `viewName`, `rows`, `columns`, `pages`."""
    view_id = request.path_params["viewId"]
    info = await in_model(request, lambda e, who, m: modules_of(e, m).view_info(view_id))
    body = {
        "meta": {"schema": schema_url(request, "view")},
        "status": {"code": 200, "message": "Success"},
        **info,
    }
    return JSONResponse(body)


def _page_selectors(request: Request) -> list[tuple[str, str]]:
    selectors: list[tuple[str, str]] = []
    for value in request.query_params.getlist("pages"):
        for part in value.split(","):
            if not part.strip():
                continue
            dimension_id, colon, item_id = part.partition(":")
            if not colon:
                raise BadRequest(f"Invalid page selector [{part}]")
            selectors.append((dimension_id.strip(), item_id.strip()))
    return selectors


async def get_view_data(request: Request) -> Response:
    """The view's cells as CSV (default) or, with `Accept: application/json` and `format=v1`,
    as JSON; `exportType` picks a CSV layout (`GRID_CURRENT_PAGE` by default)."""
    view_id = request.path_params["viewId"]
    pages = _page_selectors(request)
    as_json = (
        "application/json" in request.headers.get("accept", "")
        and request.query_params.get("format") == "v1"
    )

    export_type = request.query_params.get("exportType", "GRID_CURRENT_PAGE")
    module_id = request.query_params.get("moduleId")
    max_rows_text = request.query_params.get("maxRows")
    max_rows = int(max_rows_text) if max_rows_text and max_rows_text.isdigit() else None
    if as_json and export_type != "GRID_CURRENT_PAGE":
        raise BadRequest(f"exportType {export_type} is available as CSV only.")

    def work(engine: Engine, who: Any, model_id: str) -> bytes:
        found = modules_of(engine, model_id, who).view_export(
            view_id, export_type, pages, module_id
        )
        if isinstance(found, Tabular):
            return found.csv_bytes(max_rows)
        if isinstance(found, Grid):
            if max_rows is not None:
                found.rows = found.rows[:max_rows]
            return found.json_bytes() if as_json else found.csv_bytes()
        return b"".join(grid.csv_bytes() for grid in found)

    body = await in_model(request, work)
    return Response(body, media_type="application/json" if as_json else "text/csv; charset=utf-8")


async def get_view_dimension_items(request: Request) -> Response:
    """Items of a view's dimension as the view shows them."""
    view_id = request.path_params["viewId"]
    dimension_id = request.path_params["dimensionId"]
    found = await in_model(
        request,
        lambda e, who, m: modules_of(e, m, who).view_dimension_items(view_id, dimension_id),
    )
    return _items_answer(request, "items", "dimension", found)


async def get_dimension_items(request: Request) -> Response:
    """Every item of a list dimension (the top-level item included)."""
    dimension_id = request.path_params["dimensionId"]
    found = await in_model(
        request, lambda e, who, m: modules_of(e, m).dimension_items(dimension_id)
    )
    return _items_answer(request, "items", "dimension", found)


async def lookup_dimension_items(request: Request) -> Response:
    """Items matching `names` or `codes` (case-insensitive); unmatched ones are dropped."""
    dimension_id = request.path_params["dimensionId"]
    body = await read_json_object(request)
    names = body.get("names") or []
    codes = body.get("codes") or []
    if not isinstance(names, list) or not isinstance(codes, list):
        raise BadRequest("'names' and 'codes' must be lists.")
    found = await in_model(
        request,
        lambda e, who, m: modules_of(e, m).lookup(
            dimension_id, [str(n) for n in names], [str(c) for c in codes]
        ),
    )
    return _items_answer(request, "items", "dimension", found)


async def write_cells(request: Request) -> Response:
    """Write cells of a module: `numberOfCellsChanged`, and `failures` when some failed."""
    module_ref = request.path_params["moduleId"]
    raw = await read_body(request, MAX_CELL_BODY)
    try:
        cells = load_json(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Error parsing request body as JSON.") from None
    if not isinstance(cells, list):
        raise BadRequest("The request body must be a JSON array of cells.")
    if len(cells) > MAX_CELLS_PER_WRITE:
        raise BadRequest(
            f"The request has {len(cells)} cells; send at most {MAX_CELLS_PER_WRITE} per call."
        )
    written, failures = await in_model(
        request, lambda e, who, m: modules_of(e, m, who).write_cells(module_ref, cells)
    )
    body: dict[str, Any] = {
        "meta": {"schema": schema_url(request, "writeCellDataResponse")},
        "status": {"code": 200, "message": "Success"},
        "numberOfCellsChanged": written,
    }
    if failures:
        body["failures"] = failures
    return JSONResponse(body)


async def current_period(request: Request) -> Response:
    """GET the current period, or PUT a date (in the body or the query, not both)."""
    if request.method == "PUT":
        body = await read_json_object(request, required=False)
        in_query = "date" in request.query_params
        if in_query and "date" in body:
            raise BadRequest("use query parameter or body to set date, not both")
        text = request.query_params["date"] if in_query else body.get("date")
        if not isinstance(text, str):
            raise BadRequest("Expected mandatory field 'date'.")
        period = await in_model(request, lambda e, who, m: times_of(e, m).set_current_period(text))
    else:
        period = await in_model(request, lambda e, who, m: times_of(e, m).current_period())
    return envelope(request, "currentPeriod", currentPeriod=period)


async def model_calendar(request: Request) -> Response:
    """The model calendar."""
    found = await in_model(request, lambda e, who, m: times_of(e, m).model_calendar())
    return envelope(request, "modelCalendar", modelCalendar=found)


async def fiscal_year(request: Request) -> Response:
    """Move the current fiscal year (`{"year": "FY26"}`)."""
    body = await read_json_object(request)
    year = body.get("year")
    if not isinstance(year, str | int):
        raise BadRequest("Expected mandatory field 'year'.")
    found = await in_model(request, lambda e, who, m: times_of(e, m).set_fiscal_year(str(year)))
    return envelope(request, "modelCalendar", modelCalendar=found)


async def versions(request: Request) -> Response:
    """The model's versions (`versionMetadata`)."""
    found = await in_model(request, lambda e, who, m: times_of(e, m).versions())
    return envelope(request, "version", versionMetadata=found)


async def switchover(request: Request) -> Response:
    """Set a version's switchover (`{"date": "2025-06-01"}`, `""` clears it)."""
    version_id = request.path_params["versionId"]
    body = await read_json_object(request)
    text = body.get("date")
    if not isinstance(text, str):
        raise BadRequest("Expected mandatory field 'date'.")
    found = await in_model(
        request, lambda e, who, m: times_of(e, m).set_switchover(version_id, text)
    )
    return envelope(request, "switchover", versionSwitchover=found)


def module_routes() -> list[BaseRoute]:
    """Routes of modules, views, cells and time settings, in both path forms."""
    routes: list[BaseRoute] = []
    routes += model_scoped("/modules", get_modules, ["GET"], "get_modules")
    routes += model_scoped("/lineItems", get_line_items, ["GET"], "get_line_items")
    routes += model_scoped(
        "/modules/{moduleId}/lineItems", get_line_items, ["GET"], "get_module_line_items"
    )
    routes += model_scoped(
        "/lineItems/{lineItemId}/dimensions",
        get_line_item_dimensions,
        ["GET"],
        "get_line_item_dimensions",
    )
    routes += model_scoped(
        "/lineItems/{lineItemId}/dimensions/{dimensionId}/items",
        get_line_item_dimension_items,
        ["GET"],
        "get_line_item_dimension_items",
    )
    routes += model_scoped("/views", get_views, ["GET"], "get_views")
    routes += model_scoped("/modules/{moduleId}/views", get_views, ["GET"], "get_module_views")
    routes += model_scoped("/views/{viewId}", get_view, ["GET"], "get_view")
    routes += model_scoped("/views/{viewId}/data", get_view_data, ["GET"], "get_view_data")
    routes += model_scoped(
        "/views/{viewId}/dimensions/{dimensionId}/items",
        get_view_dimension_items,
        ["GET"],
        "get_view_dimension_items",
    )
    routes += model_scoped(
        "/dimensions/{dimensionId}/items", get_dimension_items, ["GET"], "get_dimension_items"
    )
    routes += model_scoped(
        "/dimensions/{dimensionId}/items",
        lookup_dimension_items,
        ["POST"],
        "lookup_dimension_items",
    )
    routes += model_scoped("/modules/{moduleId}/data", write_cells, ["POST"], "write_cells")
    routes += model_scoped("/currentPeriod", current_period, ["GET", "PUT"], "current_period")
    routes += model_scoped("/modelCalendar", model_calendar, ["GET"], "model_calendar")
    routes += model_scoped("/modelCalendar/fiscalYear", fiscal_year, ["PUT"], "fiscal_year")
    routes += model_scoped("/versions", versions, ["GET"], "versions")
    routes += model_scoped("/versions/{versionId}/switchover", switchover, ["PUT"], "switchover")
    return routes
