"""A module's dimensions as views show them: lists with their hierarchy, Time, Versions.

Each dimension is a sequence of members. A *leaf* member is what a cell is stored by (a list
item's code, a month's label, a version's name); an *aggregate* member sums leaves: a list's
parent-list items and top-level item (the list's own hierarchy, through `parent_list`), and the
quarter, year and all-periods totals of Time. Versions have no aggregate.

Order, as Anaplan lays a hierarchy out: a list's top-level item first, then each parent followed
by its children (depth first); Time's totals right after the months they sum.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..definitions import TIME, VERSIONS, ListDef
from .catalog import ModelCatalog
from .lists import ItemTable, Lists, StoredItem, may_see, may_write
from .timescale import TIME_ID, periods
from .values import format_value

VERSIONS_ID = "20000000020"
"""The Versions dimension."""


@dataclass(frozen=True)
class Member:
    """One member of a dimension: a leaf (`key` set) or an aggregate of `leaves`."""

    id: str
    name: str
    code: str | None
    key: str | None
    leaves: frozenset[str]

    @property
    def is_aggregate(self) -> bool:
        """Whether the member's cells are computed (a parent, a total)."""
        return self.key is None


@dataclass
class Dimension:
    """A dimension of a module, as a view shows it."""

    id: str
    name: str
    members: list[Member]
    has_codes: bool = True
    read_only: frozenset[str] = frozenset()  # leaf keys the viewer may read but not write
    hidden: frozenset[str] = frozenset()  # leaf keys selective access hides from the viewer
    _by_id: dict[str, Member] = field(default_factory=dict, repr=False)
    _by_name: dict[str, Member] = field(default_factory=dict, repr=False)
    _by_lower: dict[str, Member] = field(default_factory=dict, repr=False)
    _by_code: dict[str, Member] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for member in self.members:
            self._by_id.setdefault(member.id, member)
            self._by_name.setdefault(member.name, member)
            self._by_lower.setdefault(member.name.lower(), member)
            if member.code is not None:
                self._by_code.setdefault(member.code, member)

    @property
    def has_aggregates(self) -> bool:
        """Whether any member is an aggregate."""
        return any(member.is_aggregate for member in self.members)

    @property
    def first_leaf(self) -> int:
        """The position of the first leaf (a page dimension's default selection)."""
        return next((i for i, m in enumerate(self.members) if not m.is_aggregate), 0)

    def by_id(self, item_id: object) -> Member | None:
        """The member with this id."""
        return self._by_id.get(str(item_id).strip())

    def by_name(self, name: str) -> Member | None:
        """The member with this name (Time's labels in any case)."""
        found = self._by_name.get(name)
        if found is None and self.id == TIME_ID:
            found = self._by_lower.get(name.strip().lower())
        return found

    def by_code(self, code: str) -> Member | None:
        """The member with this code."""
        return self._by_code.get(code)

    def position(self, member: Member) -> int:
        """Where a member sits in the dimension."""
        return self.members.index(member)


def time_dimension(catalog: ModelCatalog) -> Dimension:
    """Time: the model's months and the totals of its calendar."""
    members = [
        Member(
            period.id,
            period.label,
            None,
            None if period.is_total else period.label,
            frozenset(period.months),
        )
        for period in periods(catalog.structure.calendar)
    ]
    return Dimension(TIME_ID, TIME, members, has_codes=False)


def versions_dimension(catalog: ModelCatalog) -> Dimension:
    """Versions: the model's versions, each a leaf."""
    members = [
        Member(catalog.id_of("version", v.name), v.name, None, v.name, frozenset((v.name,)))
        for v in catalog.structure.versions
    ]
    return Dimension(VERSIONS_ID, VERSIONS, members, has_codes=False)


def list_dimension(lists: Lists, definition: ListDef, viewer: str | None = None) -> Dimension:
    """A list with the items of its parent lists and the top-level item above them.

    `viewer` (an email; None: a workspace administrator) applies selective access: items the
    viewer may not read are left out, and those it may read but not write are `read_only`.
    Aggregates still sum every item."""
    dimension, table = _list_dimension(lists, definition)
    if viewer is None or not definition.selective_access:
        return dimension
    return restricted(dimension, table, viewer)


def restricted(
    dimension: Dimension, table: ItemTable, viewer: str, *, keep_hidden: bool = False
) -> Dimension:
    """A list dimension as a user under selective access has it: the items it may not read
    left out (or, `keep_hidden`, kept and counted read-only: what a cell write needs)."""
    hidden: set[str] = set()
    read_only: set[str] = set()
    for item in table.items:
        if not may_see(item, viewer):
            hidden.add(item.code)
        elif not may_write(item, viewer):
            read_only.add(item.code)
    if keep_hidden:
        return Dimension(
            dimension.id, dimension.name, dimension.members, read_only=frozenset(read_only | hidden)
        )
    members = [m for m in dimension.members if m.key is None or m.key not in hidden]
    return Dimension(
        dimension.id,
        dimension.name,
        members,
        read_only=frozenset(read_only),
        hidden=frozenset(hidden),
    )


def writable_list_dimension(lists: Lists, definition: ListDef, viewer: str | None) -> Dimension:
    """A list dimension for a cell write: every item, those the viewer may not write read-only."""
    dimension, table = _list_dimension(lists, definition)
    if viewer is None or not definition.selective_access:
        return dimension
    return restricted(dimension, table, viewer, keep_hidden=True)


def _list_dimension(lists: Lists, definition: ListDef) -> tuple[Dimension, ItemTable]:
    chain = [definition]
    while chain[-1].parent_list is not None and len(chain) < 16:
        parent = lists.catalog.list_def(chain[-1].parent_list)
        if parent is None or parent in chain:
            break
        chain.append(parent)
    tables = [lists.table(level) for level in chain]
    leaf_table = tables[0]
    if len(chain) == 1:
        leaves = [_leaf(leaf_table, item) for item in leaf_table.items]
        members = leaves
        if definition.top_level is not None:
            everything = frozenset(item.code for item in leaf_table.items)
            top = Member(leaf_table.item_id(0), definition.top_level, None, None, everything)
            members = [top, *leaves]
        return Dimension(leaf_table.list_id, definition.name, members), leaf_table
    return _Hierarchy(chain, tables).dimension(), leaf_table


def _leaf(table: ItemTable, item: StoredItem) -> Member:
    """A list item; a numbered list with a display-name property shows that property."""
    name = item.name
    shown = table.definition.display_name_property
    if shown is not None and item.props.get(shown) not in (None, ""):
        name = format_value(item.props[shown])
    return Member(table.item_id(item.index), name, item.code, item.code, frozenset((item.code,)))


class _Hierarchy:
    """A composite list: items of level n have their parents in level n + 1."""

    def __init__(self, chain: list[ListDef], tables: list[ItemTable]):
        self.chain = chain
        self.tables = tables
        self.children: dict[tuple[int, str], list[StoredItem]] = {}
        self.roots: list[list[StoredItem]] = [[] for _ in chain]
        for level, table in enumerate(tables):
            above = tables[level + 1] if level + 1 < len(tables) else None
            for item in table.items:
                parent = above.find(item.parent) if above is not None and item.parent else None
                if parent is None:
                    self.roots[level].append(item)
                else:
                    self.children.setdefault((level + 1, parent.code), []).append(item)
        self.leaves: dict[tuple[int, str], frozenset[str]] = {}

    def _leaves(self, level: int, item: StoredItem) -> frozenset[str]:
        known = self.leaves.get((level, item.code))
        if known is None:
            if level == 0:
                known = frozenset((item.code,))
            else:
                found: set[str] = set()
                for child in self.children.get((level, item.code), []):
                    found |= self._leaves(level - 1, child)
                known = frozenset(found)
            self.leaves[(level, item.code)] = known
        return known

    def _emit(self, level: int, item: StoredItem) -> Iterator[Member]:
        table = self.tables[level]
        if level == 0:
            yield _leaf(table, item)
            return
        yield Member(
            table.item_id(item.index), item.name, item.code, None, self._leaves(level, item)
        )
        for child in self.children.get((level, item.code), []):
            yield from self._emit(level - 1, child)

    def dimension(self) -> Dimension:
        members: list[Member] = []
        for level in range(len(self.chain) - 1, -1, -1):
            for item in self.roots[level]:
                members.extend(self._emit(level, item))
        top = self.chain[-1].top_level
        if top is not None:
            everything = frozenset(item.code for item in self.tables[0].items)
            members.insert(0, Member(self.tables[-1].item_id(0), top, None, None, everything))
        return Dimension(self.tables[0].list_id, self.chain[0].name, members)
