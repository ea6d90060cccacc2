# Generated from src/anaplan_tasks/client/_async/lists.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`client.lists`: the model's lists and their items (transactional API)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..._core import lists as core_lists
from ..._core.readrequests import ReadProgressCallback
from ...models import WireModel
from ...models.transactional import ListInfo, ListItem, ListMetadata, ListWriteResult
from .files import write_chunks
from .largereads import iter_large, read_large
from .runner import Namespace

ItemInput = Mapping[str, Any] | WireModel
"""An item to write: a mapping of Anaplan's fields (`name`, `code`, `parent`, `properties`,
`subsets`, `id`) or a `ListItem`."""


class Lists(Namespace):
    """`client.lists`: read and change the model's lists item by item.

    A list is named by its id (`101…`) or its name. Writes go in chunks of 100,000 items (the
    most Anaplan takes per call); items Anaplan refused are in the result's `failures`, indexed
    from the first item you gave.
    """

    def list(self) -> list[ListInfo]:
        """Every list of the model."""
        return self._run(core_lists.list_lists(self._ctx))

    def get(self, list_id: str) -> ListMetadata:
        """A list's metadata: properties, parent list, item count, …"""
        resolved = self._run(core_lists.list_id_of(self._ctx, list_id))
        return self._run(core_lists.list_metadata(self._ctx, resolved))

    def iter_items_csv(self, list_id: str, *, include_all: bool = False) -> Iterator[bytes]:
        """The items as Anaplan's CSV, piece by piece as they arrive.

        Args:
            list_id: The list's id or name.
            include_all: Add the subset and property columns.
        """
        resolved = self._run(core_lists.list_id_of(self._ctx, list_id))
        flow = core_lists.items_csv(self._ctx, resolved, include_all=include_all)
        yield from self._runner.stream(flow)

    def iter_items(self, list_id: str, *, include_all: bool = False) -> Iterator[ListItem]:
        """The items as `ListItem`s, parsed as they arrive (never the whole list in memory).

        Args:
            list_id: The list's id or name.
            include_all: Read the items' properties (as text) and subsets too, and under
                selective access who may read and write each item.
        """
        resolved = self._run(core_lists.list_id_of(self._ctx, list_id))
        names: list[str] = []
        selective = False
        if include_all:
            metadata = self._run(core_lists.list_metadata(self._ctx, resolved))
            names = [prop.name for prop in metadata.properties]
            selective = bool(metadata.has_selective_access)
        rows = core_lists.ItemRows(names, selective_access=selective)
        flow = core_lists.items_csv(self._ctx, resolved, include_all=include_all)
        for piece in self._runner.stream(flow):
            for item in rows.feed(piece):
                yield item
        for item in rows.feed(b"", final=True):
            yield item

    def items(self, list_id: str, *, include_all: bool = False) -> builtins.list[ListItem]:
        """Every item of a list (the top-level item first); see `iter_items` for big lists."""
        return list(self.iter_items(list_id, include_all=include_all))

    def download_items(
        self, list_id: str, dest: str | os.PathLike[str] | Any, *, include_all: bool = False
    ) -> int:
        """Write the items as CSV to a path or binary file object; returns the byte count."""
        chunks = self.iter_items_csv(list_id, include_all=include_all)
        return write_chunks(self._runner, chunks, dest)

    def read_large(
        self,
        list_id: str,
        dest: str | os.PathLike[str] | Any,
        *,
        workers: int | None = None,
        on_progress: ReadProgressCallback | None = None,
        timeout: float | None = None,
    ) -> int:
        """Read a list of any size with a large-volume read request, to a path or binary file.

        The CSV has the item's name under an unnamed first column, then `Parent`, `Write`,
        `Read`, `Code` and one column per subset and property. Pages are written in order as
        Anaplan makes them available (at most `workers` in memory); the request is deleted at
        the end, and also when the read fails or is interrupted.

        Args:
            list_id: The list's id or name.
            dest: A path (written through `<name>.part`) or a binary file object.
            workers: Pages fetched at once (default 4).
            on_progress: Called after each page with the pages read and, once the request is
                complete, the page count (None before).
            timeout: Give up (TaskTimeoutError) after this many seconds.

        Returns:
            The bytes written.
        """
        return read_large(
            self._runner,
            "list",
            core_lists.list_id_of(self._ctx, list_id),
            None,
            dest,
            workers=workers,
            on_progress=on_progress,
            timeout=timeout,
        )

    def iter_large(
        self,
        list_id: str,
        *,
        workers: int | None = None,
        on_progress: ReadProgressCallback | None = None,
        timeout: float | None = None,
    ) -> Iterator[bytes]:
        """A list of any size, page by page of CSV (see `read_large`); the request is deleted
        when the iteration ends or the iterator is closed (close it if you stop early)."""
        pages = iter_large(
            self._runner,
            "list",
            core_lists.list_id_of(self._ctx, list_id),
            None,
            workers=workers,
            on_progress=on_progress,
            timeout=timeout,
        )
        try:
            yield from pages
        finally:
            pages.close()

    def add(self, list_id: str, items: Iterable[ItemInput]) -> ListWriteResult:
        """Add items (a name is required; an existing name or code is refused per item).

        Returns:
            `added`, `ignored`, `total` and the `failures`. An add whose answer was lost is
            not sent again (it raises): read the list to see what landed.
        """
        resolved = self._run(core_lists.list_id_of(self._ctx, list_id))
        return self._run(core_lists.write_items(self._ctx, resolved, "add", items))

    def update(self, list_id: str, items: Iterable[ItemInput]) -> ListWriteResult:
        """Update items found by `id`, `code` or (items without a code) `name`.

        Properties and subsets not given keep their values.
        """
        resolved = self._run(core_lists.list_id_of(self._ctx, list_id))
        return self._run(core_lists.write_items(self._ctx, resolved, "update", items))

    def delete(self, list_id: str, items: Iterable[ItemInput]) -> ListWriteResult:
        """Delete items given by `id` or `code` (not both); their cells go with them."""
        resolved = self._run(core_lists.list_id_of(self._ctx, list_id))
        return self._run(core_lists.write_items(self._ctx, resolved, "delete", items))

    def reset_index(self, list_id: str) -> None:
        """Number the list's next item 1 again; Anaplan refuses it for a list with items."""
        resolved = self._run(core_lists.list_id_of(self._ctx, list_id))
        self._run(core_lists.reset_index(self._ctx, resolved))
