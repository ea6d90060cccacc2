"""`client.modules`, `client.views` and `client.cells`: modules, views and cells of the model
(transactional API)."""

from __future__ import annotations

import builtins
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from ..._core import model_data as core
from ..._core.readrequests import ReadProgressCallback
from ...models.transactional import (
    CellWriteResult,
    DimensionItem,
    LineItemInfo,
    ModuleInfo,
    ObjectRef,
    ViewAxes,
    ViewData,
    ViewInfo,
    ViewLayout,
    ViewRow,
)
from .files import write_chunks
from .largereads import iter_large, read_large
from .runner import AsyncNamespace


class AsyncModules(AsyncNamespace):
    """`client.modules`: modules, their line items and the items of dimensions."""

    async def list(self) -> builtins.list[ModuleInfo]:
        """Every module of the model."""
        return await self._run(core.list_modules(self._ctx))

    async def line_items(
        self, module: str | None = None, *, include_all: bool = False
    ) -> builtins.list[LineItemInfo]:
        """Line items of one module (id or name; in order) or of every module.

        Args:
            module: The module's id or name; None for every module.
            include_all: Every field (format, format metadata, applies-to, …).
        """
        module_id = await self._run(core.module_id_of(self._ctx, module)) if module else None
        return await self._run(core.line_items(self._ctx, module_id, include_all=include_all))

    async def line_item_dimensions(self, line_item_id: str) -> builtins.list[ObjectRef]:
        """The dimensions of a line item."""
        return await self._run(core.line_item_dimensions(self._ctx, line_item_id))

    async def dimension_items(self, dimension_id: str) -> builtins.list[DimensionItem]:
        """Every item of a dimension (a list's top-level item included, without a code)."""
        return await self._run(core.dimension_items(self._ctx, dimension_id))

    async def lookup_items(
        self, dimension_id: str, *, names: Sequence[str] = (), codes: Sequence[str] = ()
    ) -> builtins.list[DimensionItem]:
        """Items of a dimension by name or code, case-insensitively; unknown ones are left out."""
        return await self._run(core.lookup_items(self._ctx, dimension_id, names, codes))


class AsyncViews(AsyncNamespace):
    """`client.views`: views and their data.

    A view is named by its id or by the name Anaplan lists (the module's name for its default
    view, `Module.View` for a saved one). `pages` maps a page dimension's id to an item id.
    """

    async def list(self, module: str | None = None) -> builtins.list[ViewInfo]:
        """Views of one module (id or name) or of every module."""
        module_id = await self._run(core.module_id_of(self._ctx, module)) if module else None
        return await self._run(core.list_views(self._ctx, module_id))

    async def get(self, view: str) -> ViewAxes:
        """A view's rows, columns and pages."""
        view_id = await self._run(core.view_id_of(self._ctx, view))
        return await self._run(core.view_axes(self._ctx, view_id))

    async def read(self, view: str, *, pages: Mapping[str, str] | None = None) -> ViewData:
        """The whole grid (page labels, column coordinates, rows); `iter_rows` streams instead."""
        view_id = await self._run(core.view_id_of(self._ctx, view))
        return await self._run(core.view_data(self._ctx, view_id, pages))

    async def iter_rows(
        self, view: str, *, pages: Mapping[str, str] | None = None
    ) -> AsyncIterator[ViewRow]:
        """The grid's rows, parsed from the CSV as it arrives (never the whole view in memory)."""
        view_id = await self._run(core.view_id_of(self._ctx, view))
        axes = await self._run(core.view_axes(self._ctx, view_id))
        rows = core.ViewRows(axes)
        async for piece in self._runner.stream(core.view_csv(self._ctx, view_id, pages)):
            for row in rows.feed(piece):
                yield row
        for row in rows.feed(b"", final=True):
            yield row

    async def iter_csv(
        self,
        view: str,
        *,
        pages: Mapping[str, str] | None = None,
        layout: ViewLayout = "GRID_CURRENT_PAGE",
    ) -> AsyncIterator[bytes]:
        """The view as Anaplan's CSV, piece by piece.

        Args:
            view: The view's id or listed name.
            pages: Page dimension id to item id (grid layouts only).
            layout: Anaplan's `exportType`: the current page's grid (default),
                `GRID_ALL_PAGES` (one grid per page), `TABULAR_MULTI_COLUMN` (a column per
                dimension, then one per line item) or `TABULAR_SINGLE_COLUMN` (a line per cell).
        """
        view_id = await self._run(core.view_id_of(self._ctx, view))
        module_id = None
        if layout in core.TABULAR_LAYOUTS:
            module_id = await self._run(core.view_module_id(self._ctx, view_id))
        flow = core.view_csv(self._ctx, view_id, pages, layout, module_id)
        async for piece in self._runner.stream(flow):
            yield piece

    async def download(
        self,
        view: str,
        dest: str | os.PathLike[str] | Any,
        *,
        pages: Mapping[str, str] | None = None,
        layout: ViewLayout = "GRID_CURRENT_PAGE",
    ) -> int:
        """Write the view's CSV (in `layout`, as `iter_csv`) to a path or binary file object;
        returns the byte count."""
        chunks = self.iter_csv(view, pages=pages, layout=layout)
        return await write_chunks(self._runner, chunks, dest)

    async def read_large(
        self,
        view: str,
        dest: str | os.PathLike[str] | Any,
        *,
        export_type: str = "GRID_ALL_PAGES",
        workers: int | None = None,
        on_progress: ReadProgressCallback | None = None,
        timeout: float | None = None,
    ) -> int:
        """Read a view of any size with a large-volume read request, to a path or binary file.

        Starts the read request, writes its pages of CSV in order as Anaplan makes them
        available (several fetched at once, at most `workers` pages in memory), and deletes the
        request at the end, and also when the read fails or is interrupted. A page whose
        connection breaks is fetched again. A path is written through `<name>.part` and renamed
        at the end.

        Args:
            view: The view's id or name (a module's id reads its default view).
            dest: A path or a binary file object.
            export_type: `GRID_ALL_PAGES` (the grid as the view shows it, every page),
                `TABULAR_MULTI_COLUMN` (one column per line item) or `TABULAR_SINGLE_COLUMN`
                (one value per line).
            workers: Pages fetched at once (default 4).
            on_progress: Called after each page with the pages read and, once the request is
                complete, the page count (None before).
            timeout: Give up (TaskTimeoutError) after this many seconds.

        Returns:
            The bytes written.

        Raises:
            TaskFailedError: Anaplan ended the request unsuccessfully.
            TaskCancelledError: Someone cancelled the request.
            TaskTimeoutError: `timeout` passed first.
        """
        return await read_large(
            self._runner,
            "view",
            core.view_id_of(self._ctx, view),
            export_type,
            dest,
            workers=workers,
            on_progress=on_progress,
            timeout=timeout,
        )

    async def iter_large(
        self,
        view: str,
        *,
        export_type: str = "GRID_ALL_PAGES",
        workers: int | None = None,
        on_progress: ReadProgressCallback | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[bytes]:
        """A view of any size, page by page of CSV, with a large-volume read request.

        The same as `read_large` (same arguments), as an iterator: the request is deleted when
        the iteration ends or the iterator is closed (close it if you stop early).
        """
        pages = iter_large(
            self._runner,
            "view",
            core.view_id_of(self._ctx, view),
            export_type,
            workers=workers,
            on_progress=on_progress,
            timeout=timeout,
        )
        try:
            async for page in pages:
                yield page
        finally:
            await pages.aclose()


class AsyncCells(AsyncNamespace):
    """`client.cells`: write a module's cells."""

    async def write(self, module: str, cells: Iterable[Mapping[str, Any]]) -> CellWriteResult:
        """Write cells (Anaplan's CellWrite objects), 100,000 per call.

        Each cell names its line item (`lineItemId` or `lineItemName`), its `dimensions`
        (`dimensionId`/`dimensionName` with `itemId`/`itemName`/`itemCode`) and a `value`.
        Cells Anaplan refused are in `failures`, indexed from the first cell given.
        """
        module_id = await self._run(core.module_id_of(self._ctx, module))
        return await self._run(core.write_cells(self._ctx, module_id, cells))
