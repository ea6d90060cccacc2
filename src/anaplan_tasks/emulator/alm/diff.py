"""What a sync would change: the structural difference between two model structures.

ALM versions a model's structure (lists, list properties, modules, line items, actions, processes,
import data sources) apart from its data. `diff_structures(old, new)` answers which objects a sync
of `new` (the source revision) into `old` (the target) creates, modifies and deletes.

Rules the emulator follows (Anaplan's own are richer; these are the emulator's):

- Objects are identified by name (line items by module and name, actions by kind and name): the
  emulator has no hidden object ids, so a rename shows as one deletion plus one creation, and the
  renamed object's data does not survive a sync.
- List items are data (every emulator list behaves like a production list): they never count as a
  structural change, and `structure_of` drops them from a revision's snapshot.
- The model's name and its `origin` are not structure.
- Order matters only where it changes meaning: a module's dimensions ("Applies To") and a
  process's actions. Reordering lists, modules or line items is no change.
- The line items of an added (deleted) module count as added (deleted) line items, as in Anaplan's
  summary report where a new module with two line items counts modules +1 and lineItems +2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from ...models import ChangeCounts
from ..definitions import (
    DeleteActionDef,
    ExportDef,
    FileDef,
    ImportDef,
    LineItemDef,
    ListDef,
    ModelDef,
    ModuleDef,
    OptimizerDef,
    ProcessDef,
    PropertyDef,
)

Category = Literal["lists", "modules", "lineItems", "actions", "processes", "importDataSources"]
"""Kinds of structural object, named as in Anaplan's summary report (`differences` keys)."""

CATEGORIES: tuple[Category, ...] = (
    "lists",
    "modules",
    "lineItems",
    "actions",
    "processes",
    "importDataSources",
)
"""Every category, in report order."""

ChangeKind = Literal["created", "modified", "deleted"]
"""What happens to an object, named as in the summary report's counters."""

ActionKind = Literal["Import", "Export", "Delete", "Optimizer"]
"""The kinds of model action a structure can hold (processes are their own category)."""

ActionDef = ImportDef | ExportDef | DeleteActionDef | OptimizerDef

ABSENT = "-"
"""How a missing value is shown (Anaplan's reports write `-`)."""

PROPERTY_ADDED = "Property Added"
"""The `setting` of a list's change that adds a property."""

PROPERTY_DELETED = "Property Deleted"
"""The `setting` of a list's change that deletes a property."""


@dataclass(frozen=True)
class FieldChange:
    """One setting of an object that differs.

    Attributes:
        setting: What changed, as a report would name it (`Top Level`, `Data Type`, …). For a
            list property: `Property Added`, `Property Deleted` or the property's setting.
        old: The target's current value, as text (`-` when absent).
        new: The value the source revision would bring, as text.
        subject: For a list property's change, the property's name; None otherwise.
    """

    setting: str
    old: str
    new: str
    subject: str | None = None


@dataclass(frozen=True)
class Change:
    """One object a sync would create, modify or delete.

    Attributes:
        category: The kind of object.
        kind: created, modified or deleted.
        name: The object's name.
        parent: For a line item its module, for a list property its list; None otherwise.
        action_kind: For an action: Import, Export or Delete.
        fields: For a modification: what differs (for a list, its properties' changes too,
            with the property's name as `subject`).
        definition: For a creation: the new object's definition (to describe it in reports).
    """

    category: Category
    kind: ChangeKind
    name: str
    parent: str | None = None
    action_kind: ActionKind | None = None
    fields: tuple[FieldChange, ...] = ()
    definition: BaseModel | None = None


@dataclass(frozen=True)
class StructureDiff:
    """Every change between two structures, in a stable order (category, then kind, then name).

    Attributes:
        old: The structure being changed (the sync target).
        new: The structure it would become (the source revision's).
        changes: The changes.
    """

    old: ModelDef
    new: ModelDef
    changes: tuple[Change, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def of(self, category: Category, kind: ChangeKind | None = None) -> list[Change]:
        """The changes of one category (and kind)."""
        by_kind = self._grouped.get(category, {})
        if kind is not None:
            return list(by_kind.get(kind, ()))
        return [change for kind_changes in by_kind.values() for change in kind_changes]

    @cached_property
    def _grouped(self) -> dict[Category, dict[ChangeKind, list[Change]]]:
        grouped: dict[Category, dict[ChangeKind, list[Change]]] = {}
        for change in self.changes:
            grouped.setdefault(change.category, {}).setdefault(change.kind, []).append(change)
        return grouped

    def counts(self) -> dict[Category, ChangeCounts]:
        """Per category, how many objects are created, modified and deleted.

        Categories without a change are left out, and so are zero counters: a `ChangeCounts`
        here has only its non-zero fields set, so `to_wire()` omits the rest as Anaplan does.
        """
        counted: dict[Category, dict[ChangeKind, int]] = {}
        for change in self.changes:
            per_kind = counted.setdefault(change.category, {})
            per_kind[change.kind] = per_kind.get(change.kind, 0) + 1
        return {
            category: ChangeCounts(**counted[category])
            for category in CATEGORIES
            if category in counted
        }

    def totals(self) -> ChangeCounts:
        """All categories together; zero counters left unset."""
        totals: dict[ChangeKind, int] = {}
        for change in self.changes:
            totals[change.kind] = totals.get(change.kind, 0) + 1
        return ChangeCounts(**totals)


def structure_of(model: ModelDef) -> ModelDef:
    """A model's structure alone: its definition with the lists' items (data) removed."""
    lists = [single.model_copy(update={"items": []}) for single in model.lists]
    return model.model_copy(update={"lists": lists})


def same_structure(first: ModelDef, second: ModelDef) -> bool:
    """True when a sync between the two would change nothing."""
    return not diff_structures(first, second)


def diff_structures(old: ModelDef, new: ModelDef) -> StructureDiff:
    """The changes that turn structure `old` into structure `new`.

    Args:
        old: The target's structure (what a sync would change).
        new: The source revision's structure (what the target would become).
    """
    changes: list[Change] = []
    changes += _diff_named("lists", old.lists, new.lists, _list_fields, lambda item: item.name)
    changes += _diff_named(
        "modules", old.modules, new.modules, _module_fields, lambda item: item.name
    )
    changes += _diff_line_items(old.modules, new.modules)
    changes += _diff_actions(old, new)
    changes += _diff_named(
        "processes", old.processes, new.processes, _process_fields, lambda item: item.name
    )
    changes += _diff_named(
        "importDataSources", old.files, new.files, _file_fields, lambda item: item.name
    )
    order = {category: position for position, category in enumerate(CATEGORIES)}
    kinds = {"created": 0, "modified": 1, "deleted": 2}
    changes.sort(
        key=lambda change: (
            order[change.category],
            kinds[change.kind],
            change.parent or "",
            change.action_kind or "",
            change.name,
        )
    )
    return StructureDiff(old=old, new=new, changes=tuple(changes))


# -- comparison by name ---------------------------------------------------------------------

_DefT = TypeVar("_DefT", bound=BaseModel)


def _diff_named(
    category: Category,
    old_items: Sequence[_DefT],
    new_items: Sequence[_DefT],
    fields_of: Callable[[_DefT, _DefT], list[FieldChange]],
    key: Callable[[_DefT], str],
    *,
    parent: str | None = None,
    action_kind: ActionKind | None = None,
) -> list[Change]:
    old_by_name = {key(item): item for item in old_items}
    new_by_name = {key(item): item for item in new_items}
    changes: list[Change] = []
    for name, item in new_by_name.items():
        if name not in old_by_name:
            changes.append(Change(category, "created", name, parent, action_kind, definition=item))
            continue
        differences = fields_of(old_by_name[name], item)
        if differences:
            changes.append(
                Change(category, "modified", name, parent, action_kind, tuple(differences))
            )
    for name in old_by_name:
        if name not in new_by_name:
            changes.append(Change(category, "deleted", name, parent, action_kind))
    return changes


def _diff_line_items(
    old_modules: Sequence[ModuleDef], new_modules: Sequence[ModuleDef]
) -> list[Change]:
    old_by_name = {module.name: module for module in old_modules}
    new_by_name = {module.name: module for module in new_modules}
    changes: list[Change] = []
    for name in {*old_by_name, *new_by_name}:
        old_items = old_by_name[name].line_items if name in old_by_name else []
        new_items = new_by_name[name].line_items if name in new_by_name else []
        changes += _diff_named(
            "lineItems",
            old_items,
            new_items,
            _line_item_fields,
            lambda item: item.name,
            parent=name,
        )
    return changes


def _diff_actions(old: ModelDef, new: ModelDef) -> list[Change]:
    changes: list[Change] = []
    kinds: tuple[tuple[ActionKind, Sequence[ActionDef], Sequence[ActionDef]], ...] = (
        ("Import", old.imports, new.imports),
        ("Export", old.exports, new.exports),
        ("Delete", old.delete_actions, new.delete_actions),
        ("Optimizer", old.optimizer_actions, new.optimizer_actions),
    )
    for action_kind, old_actions, new_actions in kinds:
        changes += _diff_named(
            "actions",
            old_actions,
            new_actions,
            _action_fields,
            lambda item: item.name,
            action_kind=action_kind,
        )
    return changes


# -- what differs within one object ---------------------------------------------------------


def show(value: Any) -> str:
    """A setting's value as report text: `-` for none, `true`/`false`, lists joined by `, `."""
    if value is None or value == "" or value == [] or value == {}:
        return ABSENT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(show(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{key}={show(item)}" for key, item in value.items())
    return str(value)


def data_type(format_name: str, list_name: str | None) -> str:
    """A format as a report names it: `Number`, `Text`, … and `List (Regions)`."""
    if format_name == "list":
        return f"List ({list_name})" if list_name else "List"
    return format_name.capitalize()


def _settings(
    old: BaseModel, new: BaseModel, labels: Iterable[tuple[str, str]]
) -> list[FieldChange]:
    return [
        FieldChange(label, show(getattr(old, name)), show(getattr(new, name)))
        for name, label in labels
        if getattr(old, name) != getattr(new, name)
    ]


def _list_fields(old: ListDef, new: ListDef) -> list[FieldChange]:
    fields = _settings(
        old,
        new,
        (
            ("top_level", "Top Level"),
            ("parent_list", "Parent List"),
            ("subsets", "Subsets"),
            ("numbered", "Numbered"),
            ("display_name_property", "Display Name Property"),
            ("selective_access", "Selective Access"),
        ),
    )
    old_properties = {prop.name: prop for prop in old.properties}
    new_properties = {prop.name: prop for prop in new.properties}
    for name, prop in new_properties.items():
        if name not in old_properties:
            fields.append(FieldChange(PROPERTY_ADDED, ABSENT, _type_of(prop), subject=name))
        elif old_properties[name] != prop:
            before = _type_of(old_properties[name])
            fields.append(FieldChange("Data Type", before, _type_of(prop), subject=name))
    for name, prop in old_properties.items():
        if name not in new_properties:
            fields.append(FieldChange(PROPERTY_DELETED, _type_of(prop), ABSENT, subject=name))
    return fields


def _type_of(prop: PropertyDef) -> str:
    return data_type(prop.format, prop.list)


def _module_fields(old: ModuleDef, new: ModuleDef) -> list[FieldChange]:
    return _settings(old, new, (("dimensions", "Applies To"),))


def _line_item_fields(old: LineItemDef, new: LineItemDef) -> list[FieldChange]:
    before, after = data_type(old.format, old.list), data_type(new.format, new.list)
    return [FieldChange("Data Type", before, after)] if before != after else []


def _action_fields(old: ActionDef, new: ActionDef) -> list[FieldChange]:
    labels = [(name, _label(name)) for name in type(new).model_fields if name != "name"]
    return _settings(old, new, labels)


def _process_fields(old: ProcessDef, new: ProcessDef) -> list[FieldChange]:
    return _settings(old, new, (("actions", "Actions"),))


def _file_fields(old: FileDef, new: FileDef) -> list[FieldChange]:
    labels = [(name, _label(name)) for name in FileDef.model_fields if name != "name"]
    return _settings(old, new, labels)


def _label(field_name: str) -> str:
    return " ".join(part.capitalize() for part in field_name.split("_"))
