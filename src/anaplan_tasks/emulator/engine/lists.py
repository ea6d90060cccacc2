"""Lists and list items over the transactional API: read, add, update, delete, reset the index.

Over the same data imports and exports use (the model's `items` table): an item added here is
seen by the next import, export, delete action or ALM sync, and the reverse.

Ids (Anaplan §1.4): a list is `101…` (its catalogue id); its items share an entity prefix of
`200 + n` where n is the list's number (`101000000000 + n`), and an item's id is
`<prefix>000000000 + index`, the index the store gave it. The top-level item has index 0.

Subsets (`109…`) hold items by a boolean kept with the item's properties (under a key no
property can take); a numbered list generates its items' names (`#<index>`) and keys items
without a code by that name; a list under selective access shows a user who is not a workspace
administrator only the items whose `read` or `write` names them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...models.transactional import (
    ListInfo,
    ListItem,
    ListItemFailure,
    ListMetadata,
    ListProperty,
    ListWriteResult,
    ObjectRef,
)
from .. import errors
from ..definitions import ListDef, ModelDef, PropertyDef
from ..storage import DataTransaction, ModelData, Store
from .catalog import ModelCatalog, member_key
from .values import converter, storage_kind

MAX_ITEMS_PER_WRITE = 100_000
"""Items one add, update or delete may carry (Anaplan §1.6)."""

MAX_ITEMS_PER_READ = 1_000_000
"""Items a list-items read may return; a bigger list answers 400."""

MAX_PREVIEW_ITEMS = 1_000
"""Items a list preview shows."""

MAX_INDEX = 999_999_999
"""An item index never exceeds this; `permittedItems` counts what is left."""

LIST_BASE = 101_000_000_000
ENTITY_BASE = 200
ITEM_FACTOR = 1_000_000_000

_FORMATS = {"number": "NUMBER", "text": "TEXT", "boolean": "BOOLEAN", "date": "DATE"}

SUBSET_KEY = "\x1esubset\x1f"
"""Prefix of the stored flag of an item's membership of a subset."""

READ_KEY = "\x1eread"
WRITE_KEY = "\x1ewrite"
"""Stored keys of the users (comma-separated emails) who may read / write an item."""


def subset_key(subset: str) -> str:
    """The stored key of membership of a subset."""
    return SUBSET_KEY + subset


def initial_item(definition: ListDef, position: int, item: Mapping[str, Any]) -> dict[str, Any]:
    """A definition's initial item as the store keeps it: subsets and read/write as stored
    keys, a numbered list's generated name (`#<position + 1>`: the first index of a new list)."""
    stored = {k: v for k, v in item.items() if k not in ("subsets", "read", "write")}
    subsets = item.get("subsets", [])
    for name in subsets if isinstance(subsets, list) else [subsets]:
        stored[subset_key(str(name))] = True
    for field_name, key in (("read", READ_KEY), ("write", WRITE_KEY)):
        if item.get(field_name):
            stored[key] = ", ".join(str(email) for email in item[field_name])
    if definition.numbered:
        stored["name"] = f"#{position + 1}"
        stored.setdefault("code", stored["name"])
    return stored


def may_see(item: StoredItem, viewer: str | None) -> bool:
    """Whether a user (email; None: an administrator) sees an item under selective access."""
    if viewer is None:
        return True
    wanted = viewer.lower()
    for key in (READ_KEY, WRITE_KEY):
        users = item.props.get(key)
        if users and wanted in (email.strip().lower() for email in str(users).split(",")):
            return True
    return False


def may_write(item: StoredItem, viewer: str | None) -> bool:
    """Whether a user (None: an administrator) may write an item's cells under selective
    access: its `write` names them."""
    if viewer is None:
        return True
    users = item.props.get(WRITE_KEY)
    wanted = viewer.lower()
    return bool(users) and wanted in (e.strip().lower() for e in str(users).split(","))


RESET_NOT_EMPTY = (
    "We can't reset the list item index of a list that contains data. Select an empty list "
    "that doesn't contain any list items."
)


class ModelHost(Protocol):
    """What this module needs of the engine (`EmulatorEngine` has it)."""

    def catalog_of(self, model_id: str) -> ModelCatalog:
        """The model's current structure and object ids."""
        ...

    @property
    def store(self) -> Store:
        """The engine's store."""
        ...

    def replace_structure(self, model_id: str, new: ModelDef) -> None:
        """Save a new structure version of the model (time settings change it)."""
        ...


@dataclass(frozen=True)
class StoredItem:
    """One item as stored, with its index."""

    index: int
    code: str
    name: str
    parent: str | None
    props: dict[str, Any]


@dataclass
class ItemTable:
    """A snapshot of one list's items with lookups by code, name and index."""

    definition: ListDef
    list_id: str
    items: list[StoredItem]
    last_index: int
    by_code: dict[str, StoredItem] = field(default_factory=dict)
    by_name: dict[str, StoredItem] = field(default_factory=dict)
    by_index: dict[int, StoredItem] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.items:
            self.by_code[item.code] = item
            self.by_name.setdefault(item.name, item)
            self.by_index[item.index] = item

    @property
    def entity(self) -> int:
        """The prefix of this list's item ids."""
        return ENTITY_BASE + int(self.list_id) - LIST_BASE

    def item_id(self, index: int) -> str:
        """An item's id from its index."""
        return str(self.entity * ITEM_FACTOR + index)

    def index_of(self, item_id: Any) -> int | None:
        """The index an item id points at in this list, or None when it is not of this list."""
        text = str(item_id).strip()
        if not text.isdigit():
            return None
        number = int(text)
        if number // ITEM_FACTOR != self.entity:
            return None
        return number % ITEM_FACTOR

    def find(self, ref: str) -> StoredItem | None:
        """An item by code, then by name."""
        return self.by_code.get(ref) or self.by_name.get(ref)

    @property
    def top_level(self) -> str | None:
        """The top-level item's name."""
        return self.definition.top_level


def _text(value: Any) -> str | None:
    """A request field as text (numbers and booleans as Anaplan writes them)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def property_text(value: Any) -> str:
    """A stored property value as the API writes it: numbers as `12.0`, booleans lower-case."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return str(float(value))
    return str(value)


class Lists:
    """Lists and items of one model, for one request."""

    def __init__(self, host: ModelHost, model_id: str):
        self.model_id = model_id
        self.catalog = host.catalog_of(model_id)
        self.data: ModelData = host.store.model_data(model_id)

    # -- lookups -----------------------------------------------------------------------------
    def list_id(self, definition: ListDef) -> str:
        """A list's `101…` id."""
        return self.catalog.id_of("list", definition.name)

    def list_def(self, list_ref: str) -> ListDef:
        """A list by id (Anaplan's form) or by name; 404 otherwise."""
        for definition in self.catalog.structure.lists:
            if self.catalog.ids.get(("list", definition.name)) == list_ref:
                return definition
        found = self.catalog.list_def(list_ref)
        if found is None:
            raise errors.NotFound(f"List {list_ref} not found")
        return found

    def table(self, definition: ListDef, reader: Any = None) -> ItemTable:
        """A snapshot of a list's items (from `reader`, default the committed data)."""
        source = reader if reader is not None else self.data
        items = [StoredItem(*row) for row in source.indexed_items(definition.name)]
        return ItemTable(
            definition, self.list_id(definition), items, source.last_index(definition.name)
        )

    # -- reads -------------------------------------------------------------------------------
    def lists(self) -> list[ListInfo]:
        """Every list, in definition order."""
        return [
            ListInfo(id=self.list_id(lst), name=lst.name) for lst in self.catalog.structure.lists
        ]

    def metadata(self, list_ref: str) -> ListMetadata:
        """A list's metadata; unset entries are left out."""
        definition = self.list_def(list_ref)
        table = self.table(definition)
        fields: dict[str, Any] = {
            "id": table.list_id,
            "name": definition.name,
            "properties": [_property(prop) for prop in definition.properties],
            "has_selective_access": definition.selective_access,
            "managed_by": "",
            "numbered_list": definition.numbered,
            "use_top_level_as_page_default": False,
            "item_count": len(table.items) + (1 if definition.top_level else 0),
            "workflow_enabled": False,
            "production_data": False,
            "permitted_items": MAX_INDEX - table.last_index,
        }
        if definition.parent_list is not None:
            parent = self.list_def(definition.parent_list)
            fields["parent"] = ObjectRef(id=self.list_id(parent), name=parent.name)
        if definition.top_level is not None:
            fields["top_level_item"] = ObjectRef(id=table.item_id(0), name=definition.top_level)
        if definition.subsets:
            fields["subsets"] = [
                ObjectRef(id=self.subset_id(definition, name), name=name)
                for name in definition.subsets
            ]
        if definition.numbered:
            fields["next_item_index"] = table.last_index + 1
            if definition.display_name_property is not None:
                fields["display_name_property"] = definition.display_name_property
        return ListMetadata(**fields)

    def subset_id(self, definition: ListDef, subset: str) -> str:
        """A list subset's `109…` id."""
        return self.catalog.id_of("subset", member_key(definition.name, subset))

    def subset_of(self, dimension_id: str) -> tuple[ListDef, str] | None:
        """The list and subset a `109…` id names, or None."""
        for definition in self.catalog.structure.lists:
            for name in definition.subsets:
                if self.subset_id(definition, name) == dimension_id:
                    return definition, name
        return None

    def item_count(self, list_ref: str) -> int:
        """Items a read of the list returns (the top-level item included)."""
        definition = self.list_def(list_ref)
        return len(self.data.item_keys(definition.name)) + (1 if definition.top_level else 0)

    def items(
        self, list_ref: str, *, include_all: bool, viewer: str | None = None
    ) -> Iterator[ListItem]:
        """Every item, the top-level one first; 400 past a million items.

        `include_all` adds subsets, properties and (under selective access) `read`/`write`;
        `viewer` (an email) shows a list under selective access as that user sees it: the
        items whose read or write names them (None: every item, as administrators see)."""
        definition = self.list_def(list_ref)
        table = self.table(definition)
        if len(table.items) + 1 > MAX_ITEMS_PER_READ:
            raise errors.BadRequest(
                f"The list has more than {MAX_ITEMS_PER_READ} items; use a read request."
            )
        parents = _ParentLookup(self, definition, table)
        if definition.top_level is not None:
            yield ListItem(id=table.item_id(0), name=definition.top_level)
        names = [prop.name for prop in definition.properties]
        hidden = definition.selective_access and viewer is not None
        for item in table.items:
            if hidden and not may_see(item, viewer):
                continue
            fields: dict[str, Any] = {"id": table.item_id(item.index), "name": item.name}
            fields["code"] = item.code
            if item.parent:
                fields.update(parents.describe(item.parent))
            if include_all:
                if definition.subsets:
                    fields["subsets"] = {
                        n: bool(item.props.get(subset_key(n))) for n in definition.subsets
                    }
                fields["properties"] = {n: property_text(item.props.get(n)) for n in names}
                if definition.selective_access:
                    fields["read"] = str(item.props.get(READ_KEY) or "")
                    fields["write"] = str(item.props.get(WRITE_KEY) or "")
            yield ListItem(**fields)

    def items_json(
        self, list_ref: str, *, include_all: bool, viewer: str | None = None
    ) -> Iterator[bytes]:
        """The `listItems` array body, piece by piece (the envelope is the caller's)."""
        first = True
        for item in self.items(list_ref, include_all=include_all, viewer=viewer):
            yield (b"" if first else b",") + json.dumps(item.to_wire()).encode()
            first = False

    def items_csv(
        self, list_ref: str, *, include_all: bool, viewer: str | None = None
    ) -> Iterator[bytes]:
        """The items as Anaplan's CSV: fixed columns, then (`include_all`) `read` and `write`
        under selective access, subsets and properties."""
        definition = self.list_def(list_ref)
        names = [prop.name for prop in definition.properties] if include_all else []
        subsets = list(definition.subsets) if include_all else []
        access = ["read", "write"] if include_all and definition.selective_access else []
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = [
            "id",
            "name",
            "code",
            "parent",
            "parentId",
            "listId",
            "listName",
            *access,
            *subsets,
            *names,
        ]
        writer.writerow(header)
        found = self.items(list_ref, include_all=include_all, viewer=viewer)
        for count, item in enumerate(found, 1):
            props = item.properties or {}
            member = item.subsets or {}
            writer.writerow(
                [
                    item.id,
                    item.name,
                    item.code or "",
                    item.parent or "",
                    item.parent_id or "",
                    item.list_id or "",
                    item.list_name or "",
                    *([item.read or "", item.write or ""] if access else []),
                    *["true" if member.get(n) else "false" for n in subsets],
                    *[props.get(n, "") for n in names],
                ]
            )
            if count % 5000 == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    def preview_csv(self, list_ref: str) -> bytes:
        """The first 1,000 items as Anaplan's preview: name (unnamed column), Parent, Code, then
        the properties."""
        definition = self.list_def(list_ref)
        names = [prop.name for prop in definition.properties]
        subsets = list(definition.subsets)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["", "Parent", "Code", *subsets, *names])
        for count, item in enumerate(self.items(list_ref, include_all=True)):
            if count >= MAX_PREVIEW_ITEMS:
                break
            props = item.properties or {}
            member = item.subsets or {}
            writer.writerow(
                [
                    item.name,
                    item.parent or "",
                    item.code or "",
                    *["true" if member.get(n) else "false" for n in subsets],
                    *[props.get(n, "") for n in names],
                ]
            )
        return buffer.getvalue().encode()

    # -- writes ------------------------------------------------------------------------------
    def add(self, list_ref: str, items: Sequence[Any]) -> ListWriteResult:
        """Add items; an item whose name or code exists already fails, the others are added.

        A numbered list names its items itself (`#<index>`): an item that sends a name fails,
        and one without a code is keyed by its generated name."""
        definition = self.list_def(list_ref)
        _check_count(items)
        failures: list[ListItemFailure] = []
        with self.data.transaction() as txn:
            table = self.table(definition, txn)
            parents = _ParentLookup(self, definition, table, txn)
            props = definition.properties
            subsets = definition.subsets
            rows: list[tuple[Any, ...]] = []
            seen_names: set[str] = set()
            seen_codes: set[str] = set()
            for position, raw in enumerate(items):
                try:
                    item = _object(raw)
                    name = _text(item.get("name"))
                    code = _text(item.get("code"))
                    if definition.numbered:
                        if name is not None:
                            raise _Failure(
                                "INCOMPLETE_DATA",
                                f"the names of a numbered list are generated; send no name: {name}",
                            )
                        name = f"#{table.last_index + len(rows) + 1}"
                    if not name:
                        raise _Failure("INCOMPLETE_DATA", "name is required")
                    if name in table.by_name or name in seen_names or name == table.top_level:
                        raise _Failure("INCOMPLETE_DATA", f"name already exists: {name}")
                    key = code or name
                    if key in table.by_code or key in seen_codes:
                        raise _Failure("INCOMPLETE_DATA", f"code already exists: {key}")
                    parent = _text(item.get("parent"))
                    if parent:
                        parents.check(parent, seen_names, seen_codes)
                    values = _property_values(props, item.get("properties"), self._members)
                    members = _subset_values(subsets, item.get("subsets"))
                except _Failure as failure:
                    failures.append(failure.at(position))
                    continue
                seen_names.add(name)
                seen_codes.add(key)
                rows.append(
                    (
                        key,
                        name,
                        parent or None,
                        *[values.get(p.name) for p in props],
                        *[members.get(n) for n in subsets],
                    )
                )
            if rows:
                txn.upsert_items(
                    definition.name,
                    with_name=True,
                    with_parent=True,
                    properties=[(p.name, storage_kind(p.format)) for p in props]
                    + [(subset_key(n), "boolean") for n in subsets],
                    rows=rows,
                )
        return _result("added", len(items), len(rows), failures)

    def update(self, list_ref: str, items: Sequence[Any]) -> ListWriteResult:
        """Update items found by id, code or (for an item without a code) name."""
        definition = self.list_def(list_ref)
        _check_count(items)
        failures: list[ListItemFailure] = []
        updated = 0
        modules = self.catalog.modules_by_list(definition.name)
        with self.data.transaction() as txn:
            table = self.table(definition, txn)
            parents = _ParentLookup(self, definition, table, txn)
            for position, raw in enumerate(items):
                try:
                    item = _object(raw)
                    if definition.numbered and item.get("id") is None and "code" not in item:
                        raise _Failure(
                            "INCOMPLETE_DATA", "a numbered list's items are found by id or code"
                        )
                    stored, new_code = self._identify(table, item)
                    name = _text(item.get("name"))
                    if definition.numbered and name is not None and name != stored.name:
                        raise _Failure(
                            "INCOMPLETE_DATA", f"the names of a numbered list are generated: {name}"
                        )
                    if name is not None and name != stored.name:
                        other = table.by_name.get(name)
                        if not name or (other is not None and other is not stored):
                            raise _Failure("INCOMPLETE_DATA", f"name already exists: {name}")
                    parent = _text(item.get("parent")) if "parent" in item else None
                    if parent:
                        parents.check(parent)
                    given = item.get("properties")
                    values = _property_values(definition.properties, given, self._members)
                    members = _subset_values(definition.subsets, item.get("subsets"))
                except _Failure as failure:
                    failures.append(failure.at(position))
                    continue
                code = stored.code
                if new_code is not None and new_code != code:
                    txn.recode_item(definition.name, code, new_code, modules)
                    code = new_code
                self._apply_update(txn, definition, code, item, name, parent, values, members)
                fresh = StoredItem(stored.index, code, name or stored.name, stored.parent, {})
                table.by_code.pop(stored.code, None)
                table.by_code[code] = fresh
                table.by_index[stored.index] = fresh
                if name is not None:
                    table.by_name.pop(stored.name, None)
                    table.by_name[name] = fresh
                updated += 1
        return _result("updated", len(items), updated, failures)

    def _identify(self, table: ItemTable, item: Mapping[str, Any]) -> tuple[StoredItem, str | None]:
        """The stored item an update names, and the new code it asks for (None: unchanged)."""
        item_id = item.get("id")
        code = _text(item.get("code"))
        name = _text(item.get("name"))
        if code == "":
            raise _Failure("INCOMPLETE_DATA", "a code cannot be cleared")
        if item_id is not None:
            index = table.index_of(item_id)
            stored = table.by_index.get(index) if index is not None else None
            if stored is None:
                raise _Failure("INCOMPLETE_DATA", f"item not found: {item_id}")
            if code is not None and code != stored.code and code in table.by_code:
                raise _Failure("INCOMPLETE_DATA", f"code already exists: {code}")
            return stored, code
        if code is not None and code in table.by_code:
            return table.by_code[code], None
        if name is not None:
            stored = table.by_name.get(name)
            if stored is not None and stored.code == stored.name:  # an item without a code
                return stored, code
            if stored is not None:
                raise _Failure("INCOMPLETE_DATA", f"the code is required to identify {name}")
        raise _Failure("INCOMPLETE_DATA", f"item not found: {code or name or '(no id)'}")

    def _apply_update(
        self,
        txn: DataTransaction,
        definition: ListDef,
        code: str,
        item: Mapping[str, Any],
        name: str | None,
        parent: str | None,
        values: dict[str, Any],
        members: dict[str, str] | None = None,
    ) -> None:
        props = [p for p in definition.properties if p.name in values]
        flags = list(members or {})
        row: list[Any] = [code]
        if name is not None:
            row.append(name)
        if "parent" in item:
            row.append(parent or None)
        row += [values[p.name] for p in props]
        row += [(members or {})[n] for n in flags]
        txn.upsert_items(
            definition.name,
            with_name=name is not None,
            with_parent="parent" in item,
            properties=[(p.name, storage_kind(p.format)) for p in props]
            + [(subset_key(n), "boolean") for n in flags],
            rows=[row],
        )

    def delete(self, list_ref: str, items: Sequence[Any]) -> ListWriteResult:
        """Delete items named by id or code (both at once is ambiguous); their cells go too."""
        definition = self.list_def(list_ref)
        _check_count(items)
        failures: list[ListItemFailure] = []
        doomed: dict[str, None] = {}  # ordered, and a fast membership test
        with self.data.transaction() as txn:
            table = self.table(definition, txn)
            for position, raw in enumerate(items):
                try:
                    item = _object(raw)
                    item_id = _text(item.get("id"))
                    code = _text(item.get("code"))
                    name = _text(item.get("name"))
                    if item_id is not None and code is not None:
                        raise _Failure(
                            "Ambiguous criteria",
                            f"Specifying both ID and code not supported ({item_id}:{code})",
                        )
                    stored: StoredItem | None
                    if item_id is not None:
                        index = table.index_of(item_id)
                        stored = table.by_index.get(index) if index is not None else None
                        if stored is None:
                            raise _Failure("Not found", f"ID '{item_id}' not found")
                    elif code is not None:
                        stored = table.by_code.get(code)
                        if stored is None:
                            raise _Failure("Not found", f"Code '{code}' not found")
                    elif name is not None:
                        stored = table.by_name.get(name)
                        if stored is None:
                            raise _Failure("Not found", f"Name '{name}' not found")
                    else:
                        raise _Failure("Not found", "Give the item's id or code")
                    if stored.code in doomed:
                        raise _Failure("Not found", f"Code '{stored.code}' not found")
                except _Failure as failure:
                    failures.append(failure.at(position))
                    continue
                doomed[stored.code] = None
            deleted = txn.delete_items(
                definition.name, list(doomed), self.catalog.modules_by_list(definition.name)
            )
        return _result("deleted", len(items), deleted, failures)

    def reset_index(self, list_ref: str) -> None:
        """Number the next item 1 again; only for a list without items (the top level aside)."""
        definition = self.list_def(list_ref)
        with self.data.transaction() as txn:
            if txn.item_keys(definition.name):
                raise errors.BadRequest(RESET_NOT_EMPTY)
            txn.reset_index(definition.name)

    def _members(self, list_name: str) -> set[str]:
        members: set[str] = set()
        for code, name in self.data.item_keys(list_name).items():
            members.add(code)
            members.add(name)
        return members


class _Failure(Exception):
    def __init__(self, failure_type: str, details: str):
        super().__init__(details)
        self.failure_type = failure_type
        self.details = details

    def at(self, position: int) -> ListItemFailure:
        return ListItemFailure(
            request_index=position,
            failure_type=self.failure_type,
            failure_message_details=self.details,
        )


class _ParentLookup:
    """Where an item's parent lives: the parent list, or this list and its top-level item."""

    def __init__(
        self, lists: Lists, definition: ListDef, table: ItemTable, reader: Any = None
    ) -> None:
        self.definition = definition
        if definition.parent_list is not None:
            parent_def = lists.list_def(definition.parent_list)
            self.table = lists.table(parent_def, reader)
            self.list_ref: ObjectRef | None = ObjectRef(id=self.table.list_id, name=parent_def.name)
        else:
            self.table = table
            self.list_ref = None

    def check(self, parent: str, *pending: set[str]) -> None:
        """Refuse a parent that is not an item (or one added earlier in the same request)."""
        if self.table.find(parent) is not None or parent == self.table.top_level:
            return
        if self.list_ref is None and any(parent in added for added in pending):
            return
        raise _Failure("INCOMPLETE_DATA", f"parent not found: {parent}")

    def describe(self, parent: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"parent": parent}
        found = self.table.find(parent)
        if found is not None:
            fields = {"parent": found.name, "parent_id": self.table.item_id(found.index)}
        elif parent == self.table.top_level:
            fields["parent_id"] = self.table.item_id(0)
        if self.list_ref is not None:
            fields["list_id"] = self.list_ref.id
            fields["list_name"] = self.list_ref.name
        return fields


def _object(raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _Failure("INCOMPLETE_DATA", "an item must be a JSON object")
    return raw


def _check_count(items: Sequence[Any]) -> None:
    if len(items) > MAX_ITEMS_PER_WRITE:
        raise errors.BadRequest(
            f"The request has {len(items)} items; send at most {MAX_ITEMS_PER_WRITE} per call."
        )


def _subset_values(known: Sequence[str], subsets: Any) -> dict[str, str]:
    """The memberships an item sets (`{"Active": true}`), as stored text; unknown subsets and
    values that are not booleans fail."""
    if subsets is None:
        return {}
    if not isinstance(subsets, Mapping):
        raise _Failure("INCORRECT_FORMAT", "subsets must be an object of name: true|false")
    found: dict[str, str] = {}
    for name, value in subsets.items():
        if name not in known:
            raise _Failure("INCOMPLETE_DATA", f"subset not found: {name}")
        text = _text(value)
        if text is None or text.lower() not in ("true", "false"):
            raise _Failure(
                "INCORRECT_FORMAT", f"incorrect format -- subset name:{name}, value:{value}"
            )
        found[name] = text.lower()
    return found


def _property_values(props: Sequence[PropertyDef], given: Any, members: Any) -> dict[str, Any]:
    """Stored values of the properties an item sets; INCORRECT_FORMAT for a bad value."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise _Failure("INCORRECT_FORMAT", "properties must be an object of name: value")
    by_name = {prop.name: prop for prop in props}
    values: dict[str, Any] = {}
    for name, raw in given.items():
        prop = by_name.get(name)
        if prop is None:
            raise _Failure("INCOMPLETE_DATA", f"property not found: {name}")
        text = _text(raw) or ""
        known = members(prop.list) if prop.format == "list" and prop.list else ()
        try:
            values[name] = converter(prop.format, known)(text)
        except (ValueError, KeyError):
            raise _Failure(
                "INCORRECT_FORMAT", f"incorrect format -- column name:{name}, value:{text}"
            ) from None
    return values


def _property(prop: PropertyDef) -> ListProperty:
    return ListProperty(
        name=prop.name,
        format=_FORMATS.get(prop.format, "ENTITY"),
        notes="",
        referenced_by="",
    )


def _result(
    verb: str, total: int, applied: int, failures: list[ListItemFailure]
) -> ListWriteResult:
    fields: dict[str, Any] = {"total": total, verb: applied, "ignored": total - applied}
    if failures:
        fields["failures"] = failures
    return ListWriteResult(**fields)
