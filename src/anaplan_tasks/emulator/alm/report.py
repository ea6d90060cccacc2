"""The comparison and summary reports of a structural difference.

The comparison report follows the layout of Anaplan's (see
[`anaplan_tasks.models.alm_report`][anaplan_tasks.models.alm_report]): the header block, then one
section per kind of change that occurred, in this order, each with its header row. Sections with
no row are left out, as in Anaplan's example.

| Section | Columns |
|---|---|
| `LISTS ADDED` | Anaplan's ten columns, then `Top Level`, `Parent List`, `Properties` |
| `LISTS DELETED` | `Name` |
| `LISTS CHANGED` | `Name`, `Change`, `Old Value`, `New Value` (top level, parent list) |
| `CHANGES WITHIN LISTS` | Anaplan's eight counter columns (items are data here, so always 0) |
| `LIST PROPERTIES ADDED` | `List`, `Property`, `Data Type` |
| `LIST PROPERTIES DELETED` | `List`, `Property`, `Data Type` |
| `LIST PROPERTIES CHANGED` | `List`, `Property`, `Change`, `Old Value`, `New Value` |
| `MODULES ADDED` | Anaplan's twelve columns |
| `MODULES DELETED` | `Name` |
| `MODULES CHANGED` | `Name`, `Change`, `Old Value`, `New Value` (`Applies To`) |
| `LINE ITEMS ADDED` | Anaplan's twenty columns |
| `LINE ITEMS DELETED` | `Module`, `Line Item` |
| `LINE ITEMS CHANGED` | `Module`, `Line Item`, `Change`, `Old Value`, `New Value` |
| `ACTIONS ADDED` | `Name`, `Type`, `Source`, `Target` |
| `ACTIONS DELETED` | `Name`, `Type` |
| `ACTIONS CHANGED` | `Name`, `Type`, `Change`, `Old Value`, `New Value` |
| `PROCESSES ADDED` | `Name`, `Actions` |
| `PROCESSES DELETED` | `Name` |
| `PROCESSES CHANGED` | `Name`, `Change`, `Old Value`, `New Value` |
| `IMPORT DATA SOURCES ADDED` | `Name` and the file settings (`Separator` … `Encoding`) |
| `IMPORT DATA SOURCES DELETED` | `Name` |
| `IMPORT DATA SOURCES CHANGED` | `Name`, `Change`, `Old Value`, `New Value` |

A `… CHANGED` section has one row per setting that differs, so a list whose top level and parent
both changed has two rows. The emulator has no roles: `ROLES CHANGED` never appears, nor does
`rolesContents` in the summary.

The summary report counts objects: each created, modified or deleted object once per category
(lists, modules, lineItems, actions, processes, importDataSources), zero counters and empty
categories omitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...models import SummaryReport
from ...models.alm_report import ComparisonReport, ReportSection, ReportSide
from ..definitions import (
    DeleteActionDef,
    ExportDef,
    FileDef,
    ImportDef,
    LineItemDef,
    ListDef,
    ModuleDef,
    ProcessDef,
)
from .diff import (
    ABSENT,
    PROPERTY_ADDED,
    PROPERTY_DELETED,
    Category,
    Change,
    FieldChange,
    StructureDiff,
    data_type,
    show,
)

LISTS_ADDED_COLUMNS = (
    "Name",
    "Position",
    "Relative To",
    "Has Workflow",
    "Is Numbered List",
    "Is Organisation",
    "Notes",
    "Is Production Data",
    "Has Selective Access",
    "Use Top Level As Default Page",
    "Top Level",
    "Parent List",
    "Properties",
)
CHANGES_WITHIN_LISTS_COLUMNS = (
    "List",
    "Items Added/Moved",
    "Items Deleted",
    "Items Changed",
    "Properties Added",
    "Properties Moved",
    "Properties Deleted",
    "Properties Changed",
)
MODULES_ADDED_COLUMNS = (
    "Name",
    "Position",
    "Relative To",
    "Applies To",
    "Breakback",
    "Time Scale",
    "Notes",
    "Read Access Driver",
    "Read/Write Access Driver",
    "Time Range",
    "Users List Option",
    "Versions",
)
LINE_ITEMS_ADDED_COLUMNS = (
    "Module",
    "Line Item",
    "Position",
    "Relative To",
    "Data Type",
    "Applies To",
    "Tags",
    "Formula Scope",
    "Include Brought Forward",
    "Is Breakback Enabled",
    "Is Section Break",
    "Is Summary Line Item",
    "Time Scale",
    "Notes",
    "Read Access Driver",
    "Read/Write Access Driver",
    "Style",
    "Time Range",
    "Use Switchover",
    "Versions",
)
_CHANGE_COLUMNS = ("Change", "Old Value", "New Value")


@dataclass(frozen=True)
class _SectionSpec:
    title: str
    columns: tuple[str, ...]
    rows: Callable[[StructureDiff], list[tuple[str, ...]]]


def comparison_report(
    diff: StructureDiff, *, source: ReportSide, target: ReportSide
) -> ComparisonReport:
    """The full comparison report of a difference (`diff.new` = source, `diff.old` = target)."""
    sections = []
    for spec in _SECTIONS:
        rows = spec.rows(diff)
        if rows:
            sections.append(
                ReportSection(
                    spec.title,
                    spec.columns,
                    tuple(dict(zip(spec.columns, row, strict=True)) for row in rows),
                )
            )
    return ComparisonReport(source=source, target=target, sections=tuple(sections))


def summary_report(
    diff: StructureDiff, *, target_revision_id: str, source_revision_id: str
) -> SummaryReport:
    """The summary report: totals and per-category counts, zero counters left out."""
    return SummaryReport(
        target_revision_id=target_revision_id,
        source_revision_id=source_revision_id,
        totals=diff.totals(),
        differences=dict(diff.counts()),
    )


# -- rows of each section -------------------------------------------------------------------


class _Positions:
    """Where each object sits among its siblings, as Anaplan's `Position`/`Relative To` columns.

    Anaplan writes `End` and `-` for an object appended last; otherwise we name what follows it.
    """

    def __init__(self, names: Sequence[str]):
        self._names = list(names)
        self._index = {name: index for index, name in enumerate(self._names)}

    def of(self, name: str) -> tuple[str, str]:
        index = self._index[name]
        if index == len(self._names) - 1:
            return "End", ABSENT
        return "Before", self._names[index + 1]


def _lists_added(diff: StructureDiff) -> list[tuple[str, ...]]:
    positions = _Positions([single.name for single in diff.new.lists])
    rows: list[tuple[str, ...]] = []
    for change in diff.of("lists", "created"):
        definition = change.definition
        assert isinstance(definition, ListDef)
        position, relative_to = positions.of(change.name)
        properties = [
            f"{prop.name} ({data_type(prop.format, prop.list)})" for prop in definition.properties
        ]
        rows.append(
            (
                change.name,
                position,
                relative_to,
                "false",
                "false",
                "false",
                ABSENT,
                "true",
                "false",
                "false",
                show(definition.top_level),
                show(definition.parent_list),
                show(properties),
            )
        )
    return rows


def _names_only(category: Category) -> Callable[[StructureDiff], list[tuple[str, ...]]]:
    def rows(diff: StructureDiff) -> list[tuple[str, ...]]:
        return [(change.name,) for change in diff.of(category, "deleted")]

    return rows


def _changed(
    category: Category, *, include: Callable[[FieldChange], bool] = lambda field: True
) -> Callable[[StructureDiff], list[tuple[str, ...]]]:
    def rows(diff: StructureDiff) -> list[tuple[str, ...]]:
        found = []
        for change in diff.of(category, "modified"):
            for field in change.fields:
                if include(field):
                    found.append((*_identity(change), field.setting, field.old, field.new))
        return found

    return rows


def _identity(change: Change) -> tuple[str, ...]:
    if change.category == "lineItems":
        return (change.parent or "", change.name)
    if change.category == "actions":
        return (change.name, change.action_kind or "")
    return (change.name,)


def _is_list_setting(field: FieldChange) -> bool:
    return field.subject is None


def _changes_within_lists(diff: StructureDiff) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for change in diff.of("lists", "modified"):
        properties = [field for field in change.fields if field.subject is not None]
        if not properties:
            continue
        added = sum(field.setting == PROPERTY_ADDED for field in properties)
        deleted = sum(field.setting == PROPERTY_DELETED for field in properties)
        changed = len({field.subject for field in properties}) - added - deleted
        rows.append((change.name, "0", "0", "0", str(added), "0", str(deleted), str(changed)))
    return rows


def _property_rows(which: str) -> Callable[[StructureDiff], list[tuple[str, ...]]]:
    def rows(diff: StructureDiff) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []
        for change in diff.of("lists", "modified"):
            for field in change.fields:
                if field.subject is None:
                    continue
                if field.setting == PROPERTY_ADDED:
                    if which == "added":
                        found.append((change.name, field.subject, field.new))
                elif field.setting == PROPERTY_DELETED:
                    if which == "deleted":
                        found.append((change.name, field.subject, field.old))
                elif which == "changed":
                    found.append((change.name, field.subject, field.setting, field.old, field.new))
        return found

    return rows


def _modules_added(diff: StructureDiff) -> list[tuple[str, ...]]:
    positions = _Positions([module.name for module in diff.new.modules])
    rows: list[tuple[str, ...]] = []
    for change in diff.of("modules", "created"):
        definition = change.definition
        assert isinstance(definition, ModuleDef)
        position, relative_to = positions.of(change.name)
        rows.append(
            (
                change.name,
                position,
                relative_to,
                show(definition.dimensions),
                "New Line Items: Off",
                "Not Applicable",
                ABSENT,
                "",
                "",
                "Model Calendar",
                "Show All Users: On",
                "Not Applicable",
            )
        )
    return rows


def _line_items_added(diff: StructureDiff) -> list[tuple[str, ...]]:
    positions = {
        module.name: _Positions([item.name for item in module.line_items])
        for module in diff.new.modules
    }
    rows: list[tuple[str, ...]] = []
    for change in diff.of("lineItems", "created"):
        definition = change.definition
        assert isinstance(definition, LineItemDef)
        module = change.parent or ""
        position, relative_to = positions[module].of(change.name)
        rows.append(
            (
                module,
                change.name,
                position,
                relative_to,
                data_type(definition.format, definition.list),
                ABSENT,
                ABSENT,
                "All",
                "false",
                "false",
                "false",
                "false",
                "Not Applicable",
                ABSENT,
                ABSENT,
                ABSENT,
                "Normal",
                "Model Calendar",
                "true",
                "Not Applicable",
            )
        )
    return rows


def _line_items_deleted(diff: StructureDiff) -> list[tuple[str, ...]]:
    return [(change.parent or "", change.name) for change in diff.of("lineItems", "deleted")]


def _actions_added(diff: StructureDiff) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for change in diff.of("actions", "created"):
        definition = change.definition
        source: str | None
        target: str | None
        if isinstance(definition, ImportDef):
            source, target = definition.file, definition.target_list or definition.target_module
        elif isinstance(definition, ExportDef):
            source = definition.source_list or definition.source_module
            target = definition.format.upper()
        elif isinstance(definition, DeleteActionDef):
            source, target = definition.list, definition.selector
        else:  # pragma: no cover - every action kind is handled above
            raise TypeError(f"unexpected action definition {definition!r}")
        rows.append((change.name, change.action_kind or "", show(source), show(target)))
    return rows


def _actions_deleted(diff: StructureDiff) -> list[tuple[str, ...]]:
    return [(change.name, change.action_kind or "") for change in diff.of("actions", "deleted")]


def _processes_added(diff: StructureDiff) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for change in diff.of("processes", "created"):
        definition = change.definition
        assert isinstance(definition, ProcessDef)
        rows.append((change.name, show(definition.actions)))
    return rows


def _files_added(diff: StructureDiff) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for change in diff.of("importDataSources", "created"):
        definition = change.definition
        assert isinstance(definition, FileDef)
        rows.append(
            (
                change.name,
                definition.separator,
                definition.delimiter,
                str(definition.header_row),
                str(definition.first_data_row),
                definition.encoding,
            )
        )
    return rows


_SECTIONS: tuple[_SectionSpec, ...] = (
    _SectionSpec("LISTS ADDED", LISTS_ADDED_COLUMNS, _lists_added),
    _SectionSpec("LISTS DELETED", ("Name",), _names_only("lists")),
    _SectionSpec(
        "LISTS CHANGED", ("Name", *_CHANGE_COLUMNS), _changed("lists", include=_is_list_setting)
    ),
    _SectionSpec("CHANGES WITHIN LISTS", CHANGES_WITHIN_LISTS_COLUMNS, _changes_within_lists),
    _SectionSpec(
        "LIST PROPERTIES ADDED", ("List", "Property", "Data Type"), _property_rows("added")
    ),
    _SectionSpec(
        "LIST PROPERTIES DELETED", ("List", "Property", "Data Type"), _property_rows("deleted")
    ),
    _SectionSpec(
        "LIST PROPERTIES CHANGED", ("List", "Property", *_CHANGE_COLUMNS), _property_rows("changed")
    ),
    _SectionSpec("MODULES ADDED", MODULES_ADDED_COLUMNS, _modules_added),
    _SectionSpec("MODULES DELETED", ("Name",), _names_only("modules")),
    _SectionSpec("MODULES CHANGED", ("Name", *_CHANGE_COLUMNS), _changed("modules")),
    _SectionSpec("LINE ITEMS ADDED", LINE_ITEMS_ADDED_COLUMNS, _line_items_added),
    _SectionSpec("LINE ITEMS DELETED", ("Module", "Line Item"), _line_items_deleted),
    _SectionSpec(
        "LINE ITEMS CHANGED", ("Module", "Line Item", *_CHANGE_COLUMNS), _changed("lineItems")
    ),
    _SectionSpec("ACTIONS ADDED", ("Name", "Type", "Source", "Target"), _actions_added),
    _SectionSpec("ACTIONS DELETED", ("Name", "Type"), _actions_deleted),
    _SectionSpec("ACTIONS CHANGED", ("Name", "Type", *_CHANGE_COLUMNS), _changed("actions")),
    _SectionSpec("PROCESSES ADDED", ("Name", "Actions"), _processes_added),
    _SectionSpec("PROCESSES DELETED", ("Name",), _names_only("processes")),
    _SectionSpec("PROCESSES CHANGED", ("Name", *_CHANGE_COLUMNS), _changed("processes")),
    _SectionSpec(
        "IMPORT DATA SOURCES ADDED",
        ("Name", "Separator", "Delimiter", "Header Row", "First Data Row", "Encoding"),
        _files_added,
    ),
    _SectionSpec("IMPORT DATA SOURCES DELETED", ("Name",), _names_only("importDataSources")),
    _SectionSpec(
        "IMPORT DATA SOURCES CHANGED", ("Name", *_CHANGE_COLUMNS), _changed("importDataSources")
    ),
)

SECTION_TITLES: tuple[str, ...] = tuple(spec.title for spec in _SECTIONS)
"""Every section the emulator can write, in order."""
