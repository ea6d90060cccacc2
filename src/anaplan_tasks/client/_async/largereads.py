"""Large-volume reads for `client.views` and `client.lists`: start, stream pages, always delete.

The protocol and the page loop are the core's (`_core/readrequests.py`); this module owns the
request's lifetime: it is deleted when the read ends, fails, or is interrupted (Ctrl-C,
cancellation of the caller's task, a failed write), since Anaplan keeps an abandoned one for 30
minutes and counts it against the model's read requests.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from ..._core import readrequests as core
from ..._core.flow import Flow
from ...errors import AnaplanError
from .files import write_chunks
from .runner import AsyncRunner

logger = logging.getLogger("anaplan_tasks")

DEFAULT_READ_WORKERS = 4
"""Pages fetched at once by default (so at most four pages, about 40 MB, are in memory)."""


async def _forget(
    runner: AsyncRunner, kind: core.ReadKind, object_id: str, request_id: str
) -> None:
    try:
        await runner.run(core.delete(runner.ctx, kind, object_id, request_id))
    except AnaplanError as error:
        logger.warning(
            "read request %s could not be deleted (%s); Anaplan reclaims it after 30 minutes",
            request_id,
            error,
        )


async def iter_large(
    runner: AsyncRunner,
    kind: core.ReadKind,
    resolve: Flow[str],
    export_type: str | None,
    *,
    workers: int | None = None,
    on_progress: core.ReadProgressCallback | None = None,
    timeout: float | None = None,
) -> AsyncGenerator[bytes, None]:
    """The pages of a new read request of the object `resolve` names, in order; the request is
    deleted when this ends or is closed."""
    object_id = await runner.run(resolve)
    started = await runner.run(core.start(runner.ctx, kind, object_id, export_type))
    try:
        flow = core.read_pages(
            runner.ctx,
            kind,
            object_id,
            started,
            workers=workers or DEFAULT_READ_WORKERS,
            on_progress=on_progress,
            timeout=timeout,
        )
        async for page in runner.stream(flow):
            yield page
    finally:
        await _forget(runner, kind, object_id, started.request_id)


async def read_large(
    runner: AsyncRunner,
    kind: core.ReadKind,
    resolve: Flow[str],
    export_type: str | None,
    dest: Any,
    *,
    workers: int | None = None,
    on_progress: core.ReadProgressCallback | None = None,
    timeout: float | None = None,
) -> int:
    """Write the pages of a new read request of the object `resolve` names to a path or file
    object; the byte count."""
    pages = iter_large(
        runner,
        kind,
        resolve,
        export_type,
        workers=workers,
        on_progress=on_progress,
        timeout=timeout,
    )
    try:
        return await write_chunks(runner, pages, dest)
    finally:
        await pages.aclose()  # deletes the request, also when the write failed
