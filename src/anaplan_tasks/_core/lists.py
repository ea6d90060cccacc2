"""Lists and list items of the transactional API: requests, streamed reads and chunked writes.

- Reads of items are streamed as CSV (`Accept: text/csv`), never held whole: JSON cannot be
  parsed piece by piece without a dependency, and Anaplan serves the same fields both ways.
- Writes go in chunks of at most 100,000 items (Anaplan's limit per call), one after another;
  the answers are summed and each failure's `requestIndex` counts from the first item given, not
  from its chunk. Adds and deletes are not repeated when their answer is lost (a repeated add
  reports the items as failures rather than adding them twice, but the counts would mislead);
  updates are (a repeated update writes the same values).
- A list is named by id (`101…`) or by name; a name costs one listing.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import logging
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, Literal
from urllib.parse import quote

from ..errors import NotFoundError
from ..models import WireModel
from ..models.transactional import (
    ListInfo,
    ListItem,
    ListItemFailure,
    ListMetadata,
    ListWriteResult,
    parse_list_write,
)
from . import endpoints
from .calls import call, get_json, list_all, stream_get
from .flow import Context, Flow, Request
from .retry import RetryClass

logger = logging.getLogger("anaplan_tasks")

MAX_ITEMS_PER_WRITE = 100_000
"""Items Anaplan takes in one add, update or delete."""

FIXED_COLUMNS = ("id", "name", "code", "parent", "parentId", "listId", "listName")
"""The first columns of a list's items as CSV; subsets and properties follow."""

WriteVerb = Literal["add", "update", "delete"]


def _segment(value: str) -> str:
    return quote(value, safe="")


def lists_url(ctx: Context) -> str:
    """The model's lists."""
    return f"{endpoints.model_base(ctx)}/lists"


def list_url(ctx: Context, list_id: str) -> str:
    """One list (its metadata)."""
    return f"{lists_url(ctx)}/{_segment(list_id)}"


def items_url(ctx: Context, list_id: str) -> str:
    """A list's items (GET reads, POST adds or deletes, PUT updates)."""
    return f"{list_url(ctx, list_id)}/items"


def list_lists(ctx: Context) -> Flow[list[ListInfo]]:
    """Every list of the model."""
    items = yield from list_all(ctx, lists_url(ctx), "lists")
    return [ListInfo.model_validate(item) for item in items]


def is_list_id(value: str) -> bool:
    """True for a list id (`101` and nine digits) rather than a name."""
    return value.isdigit() and len(value) == 12 and value.startswith("101")


def resolve_list(ctx: Context, wanted: str) -> Flow[ListInfo]:
    """A list by id or name (an unknown one lists the closest names)."""
    found = yield from list_lists(ctx)
    for info in found:
        if info.id == wanted or info.name == wanted:
            return info
    closest = difflib.get_close_matches(wanted, [info.name for info in found], n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(repr(name) for name in closest)}?" if closest else ""
    raise NotFoundError(f"no list named or numbered {wanted!r}{hint}", status_code=404)


def list_id_of(ctx: Context, wanted: str) -> Flow[str]:
    """The id of a list given by id or name (an id costs no request)."""
    if is_list_id(wanted):
        return wanted
    info = yield from resolve_list(ctx, wanted)
    return info.id


def list_metadata(ctx: Context, list_id: str) -> Flow[ListMetadata]:
    """A list's metadata."""
    body = yield from get_json(ctx, list_url(ctx, list_id))
    return ListMetadata.model_validate(body.get("metadata", {}))


def items_csv(ctx: Context, list_id: str, *, include_all: bool) -> Flow[int]:
    """Emit a list's items as Anaplan's CSV, piece by piece; returns the byte count."""
    request = Request(
        "GET",
        items_url(ctx, list_id),
        params={"includeAll": "true"} if include_all else {},
        headers={"Accept": "text/csv"},
        stream=True,
    )
    return (yield from stream_get(ctx, request))


class ItemRows:
    """Turns the CSV of a list's items, fed piece by piece, into `ListItem`s.

    Columns after the fixed ones are the list's properties when `properties` names them, its
    subsets (`true`/`false`) otherwise; for a list under selective access, `read` and `write`
    come first (who may read and write the item). A record whose quoted field spans lines waits
    for the rest of it.
    """

    def __init__(self, properties: Iterable[str] = (), *, selective_access: bool = False):
        self._properties = set(properties)
        self._access = ("read", "write") if selective_access else ()
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._pending = ""
        self._header: list[str] | None = None

    def feed(self, data: bytes, *, final: bool = False) -> list[ListItem]:
        """The items completed by these bytes (all remaining ones when `final`)."""
        text = self._pending + self._decoder.decode(data, final=final)
        records: list[str] = []
        start = position = 0
        while (newline := text.find("\n", position)) >= 0:
            position = newline + 1
            record = text[start:position]
            if record.count('"') % 2 == 0:  # no quoted field left open
                records.append(record)
                start = position
        self._pending = text[start:]
        if final and self._pending.strip():
            records.append(self._pending)
            self._pending = ""
        items: list[ListItem] = []
        for row in csv.reader(records):
            item = self._item(row)
            if item is not None:
                items.append(item)
        return items

    def _item(self, row: list[str]) -> ListItem | None:
        if self._header is None:
            self._header = row
            return None
        if not row:
            return None
        fields = dict(zip(self._header, row, strict=False))
        data: dict[str, Any] = {"id": fields.get("id", ""), "name": fields.get("name", "")}
        for column, key in (
            ("code", "code"),
            ("parent", "parent"),
            ("parentId", "parent_id"),
            ("listId", "list_id"),
            ("listName", "list_name"),
        ):
            if fields.get(column):
                data[key] = fields[column]
        for column in self._access:
            if column in fields:
                data[column] = fields[column]
        extra = [
            column
            for column in self._header
            if column not in FIXED_COLUMNS and column not in self._access
        ]
        if extra:
            data["properties"] = {c: fields.get(c, "") for c in extra if c in self._properties}
            subsets = {
                c: fields.get(c, "").lower() == "true" for c in extra if c not in self._properties
            }
            if subsets:
                data["subsets"] = subsets
        # Built from text we parsed ourselves: every field is already of its type.
        return ListItem.model_construct(**data)


def chunks_of(items: Iterable[Any], size: int = MAX_ITEMS_PER_WRITE) -> Iterator[list[Any]]:
    """Items in lists of at most `size`, taken lazily."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def item_body(item: Mapping[str, Any] | WireModel) -> dict[str, Any]:
    """One item of a write request as JSON."""
    if isinstance(item, WireModel):
        return item.to_wire()
    return dict(item)


def write_items(
    ctx: Context,
    list_id: str,
    verb: WriteVerb,
    items: Iterable[Mapping[str, Any] | WireModel],
    chunk_size: int = MAX_ITEMS_PER_WRITE,
) -> Flow[ListWriteResult]:
    """Add, update or delete items, in chunks; the answers summed (see the module docstring)."""
    url = items_url(ctx, list_id)
    method = "PUT" if verb == "update" else "POST"
    retry: RetryClass = "idempotent" if verb == "update" else "never"
    total = applied = 0
    failures: list[ListItemFailure] = []
    offset = 0
    for chunk in chunks_of(items, min(chunk_size, MAX_ITEMS_PER_WRITE)):
        request = Request(
            method,
            url,
            params={"action": verb},
            json={"items": [item_body(item) for item in chunk]},
            retry=retry,
        )
        response = yield from call(ctx, request)
        result = parse_list_write(response.json())
        total += result.total if result.total is not None else len(chunk)
        applied += result.applied
        for failure in result.failures:
            index = failure.request_index
            failures.append(
                failure.model_copy(
                    update={"request_index": None if index is None else index + offset}
                )
            )
        offset += len(chunk)
    fields: dict[str, Any] = {
        "total": total,
        f"{verb}d" if verb != "add" else "added": applied,
        "ignored": total - applied,
    }
    if failures:
        fields["failures"] = failures
    return ListWriteResult(**fields)


def reset_index(ctx: Context, list_id: str) -> Flow[None]:
    """Number the list's next item 1 again (the list must be empty)."""
    yield from call(ctx, Request("POST", f"{list_url(ctx, list_id)}/resetIndex", retry="never"))
