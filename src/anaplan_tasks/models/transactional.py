"""Wire models of Anaplan's transactional API (Integration API v2.0): lists and list items.

Lenient on input like every wire model (ids may arrive as numbers; unknown fields are ignored),
exact on output (`to_wire()` writes Anaplan's camelCase names and only the fields set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from ._base import WireModel


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Id = Annotated[str, BeforeValidator(_as_text)]
"""An Anaplan id: a JSON string, though some answers (and requests) carry numbers."""


ViewLayout = Literal[
    "GRID_CURRENT_PAGE", "GRID_ALL_PAGES", "TABULAR_MULTI_COLUMN", "TABULAR_SINGLE_COLUMN"
]
"""The CSV layouts of a view's data (Anaplan's `exportType`)."""


class ObjectRef(WireModel):
    """A reference to a model object: its id and name."""

    id: Id
    name: str


class ListInfo(WireModel):
    """A list of the model (`GET …/lists`)."""

    id: Id = Field(description="`101…`.")
    name: str
    code: str | None = None


class ListProperty(WireModel):
    """A property of a list, as list metadata describes it."""

    name: str
    format: str | None = Field(default=None, description="TEXT, NUMBER, BOOLEAN, DATE, ENTITY…")
    formula: str | None = None
    notes: str | None = None
    referenced_by: str | None = None
    data_tags: list[Any] | None = None


class ListMetadata(WireModel):
    """A list's metadata (`GET …/lists/{listId}`); entries Anaplan has no value for are absent."""

    id: Id
    name: str
    properties: list[ListProperty] = Field(default_factory=list)
    has_selective_access: bool | None = None
    parent: ObjectRef | None = Field(default=None, description="The parent list.")
    top_level_item: ObjectRef | None = None
    subsets: list[ObjectRef] | None = None
    managed_by: str | None = None
    numbered_list: bool | None = None
    use_top_level_as_page_default: bool | None = None
    item_count: int | None = Field(default=None, description="Counts the top-level item.")
    workflow_enabled: bool | None = None
    production_data: bool | None = None
    permitted_items: int | None = Field(default=None, description="How many more items fit.")
    next_item_index: int | None = Field(default=None, description="Numbered lists only.")
    category: str | None = None
    display_name_property: str | None = None


class ListItem(WireModel):
    """One item of a list (`GET …/lists/{listId}/items`).

    `properties` and `subsets` come with `includeAll=true` (and `read`/`write` for a list under
    selective access); property values are text, numbers included (`"12.0"`). `listId`/
    `listName` name the parent's list when the list has a parent.
    """

    id: Id
    name: str
    code: str | None = None
    parent: str | None = Field(default=None, description="The parent item's name.")
    parent_id: Id | None = None
    list_id: Id | None = None
    list_name: str | None = None
    subsets: dict[str, bool] | None = None
    properties: dict[str, str] | None = None
    read: Id | None = Field(
        default=None, description="Selective access: who may read it (comma-separated emails)."
    )
    write: Id | None = Field(
        default=None, description="Selective access: who may write it (comma-separated emails)."
    )


class ListItemFailure(WireModel):
    """Why one item of a list write was not applied."""

    request_index: int | None = Field(default=None, description="Zero-based index in `items`.")
    failure_type: str | None = Field(default=None, description="e.g. INCORRECT_FORMAT.")
    failure_message_details: str | None = None


class ListWriteResult(WireModel):
    """The answer to adding, updating or deleting list items.

    One of `added`, `updated` or `deleted` is set (by the call that was made); `ignored` items
    are the ones in `failures`. `failures` is absent when nothing failed.
    """

    total: int | None = None
    added: int | None = None
    updated: int | None = None
    deleted: int | None = None
    ignored: int | None = None
    failures: list[ListItemFailure] = Field(default_factory=list)

    @property
    def applied(self) -> int:
        """Items added, updated or deleted."""
        return self.added or self.updated or self.deleted or 0


def parse_list_write(body: Mapping[str, Any]) -> ListWriteResult:
    """A list write's answer, from either shape Anaplan documents for deletes.

    Deletes answer `{deleted, failures}` at the top level or, per one documented example,
    `{"result": {"numberOfItemsDeleted", "failures"}}`; both read the same.
    """
    data = dict(body)
    inner = data.get("result")
    if isinstance(inner, Mapping):
        if "numberOfItemsDeleted" in inner:
            data.setdefault("deleted", inner["numberOfItemsDeleted"])
        if "failures" in inner:
            data.setdefault("failures", inner["failures"])
    return ListWriteResult.model_validate(data)


# -- modules, line items, views --------------------------------------------------------------
class ModuleInfo(WireModel):
    """A module of the model (`GET …/modules`)."""

    id: Id = Field(description="`102…`; also its default view's id.")
    name: str
    code: str | None = None


class LineItemInfo(WireModel):
    """A line item (`GET …/lineItems`); the other fields come with `includeAll=true`."""

    id: Id
    name: str
    module_id: Id
    module_name: str
    format: str | None = Field(default=None, description="NUMBER, TEXT, BOOLEAN, DATE, LIST, …")
    format_metadata: dict[str, Any] | None = None
    applies_to: list[ObjectRef] | None = None
    summary: str | None = None
    time_scale: str | None = None
    formula: str | None = None
    cell_count: int | None = None
    code: str | None = None


class DimensionItem(WireModel):
    """An item of a dimension (a list's item, a version, …); `code` only when it has one."""

    id: Id
    name: str
    code: str | None = None


class ViewInfo(WireModel):
    """A view of a module (`GET …/views`)."""

    id: Id
    name: str
    module_id: Id
    code: str | None = None


class ViewAxes(WireModel):
    """A view's axes (`GET …/views/{viewId}`); an axis without dimensions is empty."""

    view_id: Id
    view_name: str
    rows: list[ObjectRef] = Field(default_factory=list)
    columns: list[ObjectRef] = Field(default_factory=list)
    pages: list[ObjectRef] = Field(default_factory=list)


class ViewRow(WireModel):
    """One row of a view's data: its coordinates (item names) and its cells (text)."""

    row_coordinates: list[str]
    cells: list[str]


class ViewData(WireModel):
    """A view's data as Anaplan's JSON (`format=v1`): page labels, columns, rows."""

    pages: list[str] = Field(default_factory=list)
    column_coordinates: list[list[str]] = Field(default_factory=list)
    rows: list[ViewRow] = Field(default_factory=list)


class CellFailure(WireModel):
    """Why one cell of a write was not written."""

    request_index: int | None = None
    failure_type: str | None = Field(default=None, description="e.g. cellIsCalculated.")
    failure_message_details: str | None = None


class CellWriteResult(WireModel):
    """The answer to a cell write; `failures` is absent when every cell was written."""

    number_of_cells_changed: int = 0
    failures: list[CellFailure] = Field(default_factory=list)


# -- time settings and versions --------------------------------------------------------------
class CurrentPeriod(WireModel):
    """The model's current period; blank text and day when none is set."""

    period_text: str = ""
    last_day: str = ""
    calendar_type: str | None = None


class FiscalYear(WireModel):
    """The current fiscal year."""

    year: str
    start_date: str | None = None
    end_date: str | None = None


class ModelCalendar(WireModel):
    """The model calendar (the fields depend on `calendarType`)."""

    calendar_type: str | None = None
    fiscal_year: FiscalYear | None = None
    current_period: CurrentPeriod | None = None
    past_years_count: int | None = None
    future_years_count: int | None = None
    totals_selection: dict[str, bool] | None = None


class PeriodDate(WireModel):
    """A period and its date (a version's switchover or edit range)."""

    period_text: str = ""
    date: str = ""


class Version(WireModel):
    """A version of the model (`versionMetadata`)."""

    id: Id
    name: str
    is_current: bool | None = None
    is_actual: bool | None = None
    switchover: PeriodDate | None = None
    edit_from: PeriodDate | None = None
    edit_to: PeriodDate | None = None
    formula: str | None = None
    code: str | None = None


class Switchover(PeriodDate):
    """A version's new switchover."""

    calendar_type: str | None = None


class ReadRequest(WireModel):
    """A large-volume read (`viewReadRequest` or `listReadRequest`): its state and the pages
    ready to download (`0 … available_pages - 1`).

    `request_state` is Anaplan's: `NOT_STARTED`, `IN_PROGRESS`, `COMPLETE` (read `successful`:
    there is no FAILED state), `CANCELLING` or `CANCELLED`.
    """

    request_id: str
    request_state: str
    url: str | None = None
    available_pages: int = 0
    successful: bool = False
    view_id: Id | None = None
    list_id: Id | None = None
