"""One-call jobs composed from the other flows: resolve, (upload,) start, wait."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigurationError, NotFoundError, TaskFailedError
from ..models import ActionKind, CompletedTask, FileInfo, ImportAction
from .actions import ActionRef, resolve
from .files import RangeSource, StreamSource, list_files, upload
from .flow import Context, Flow
from .tasks import ProgressCallback, start, wait
from .types import TaskRef

FailureFactory = Callable[[TaskRef, CompletedTask], TaskFailedError]


def resolve_file(ctx: Context, wanted: str) -> Flow[FileInfo]:
    """A file by id or name (an unknown one lists the closest names)."""
    files = yield from list_files(ctx)
    for info in files:
        if info.id == wanted or info.name == wanted:
            return info
    closest = difflib.get_close_matches(wanted, [info.name for info in files], n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(repr(name) for name in closest)}?" if closest else ""
    raise NotFoundError(f"no file named or numbered {wanted!r}{hint}", status_code=404)


def run_action(
    ctx: Context,
    kind: ActionKind,
    wanted: str,
    *,
    body: Mapping[str, Any],
    wait_options: Mapping[str, Any],
    on_failure: FailureFactory | None,
    source: RangeSource | StreamSource | None = None,
    workers: int = 4,
    on_progress: ProgressCallback | None = None,
) -> Flow[CompletedTask]:
    """Resolve an action, upload its file first (imports with `source`), start it, wait."""
    action: ActionRef = yield from resolve(ctx, kind, wanted, look_up=source is not None)
    if source is not None:
        definition = action.definition
        file_id = definition.import_data_source_id if isinstance(definition, ImportAction) else None
        if not file_id:
            raise ConfigurationError(f"import {wanted!r} reads no file; nothing to upload to")
        yield from upload(ctx, file_id, source, workers)
    status = yield from start(ctx, kind, action.id, body)
    ref = TaskRef(kind, action.id, status.id, action.name)
    return (
        yield from wait(
            ctx,
            ref,
            initial=status,
            on_failure=on_failure,
            on_progress=on_progress,
            **wait_options,
        )
    )
