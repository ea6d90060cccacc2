"""Commands that move files and run, watch, cancel and explain tasks."""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.text import Text

from ..client import Client, FailureDumps, TaskRef
from ..errors import ConfigurationError, TaskCancelledError, TaskFailedError
from ..models import CancelledTask, CompletedTask, FileInfo, ImportAction, Task
from . import render
from .context import KINDS, connected, namespace, note, say, settings, show
from .exit_codes import ExitCode
from .options import common_options

KIND_CHOICE = click.Choice(sorted(KINDS), case_sensitive=False)

DUMP_PREVIEW_ROWS = 10

F = TypeVar("F", bound=Callable[..., Any])


@click.command()
@click.argument("file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@common_options
def upload(file: str, path: Path) -> None:
    """Upload PATH as the content of FILE (its id or name), compressed, in chunks."""
    size = path.stat().st_size
    with connected() as client:
        started = time.monotonic()
        info = _upload(client, file, path, f"anaplan-tasks upload {_quoted(file)} {path}")
        elapsed = time.monotonic() - started
    show(info)
    say(
        f"uploaded {path} ({render.human_bytes(size)}) to {info.name!r} ({info.id}) "
        f"in {info.chunk_count} chunks, {elapsed:.1f} s"
    )


@click.command()
@click.argument("file")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@common_options
def download(file: str, path: Path) -> None:
    """Download FILE (its id or name; an export's id for its output) to PATH, streamed."""
    with connected() as client:
        info = client.files.get(file)
        with render.working(f"downloading {info.name}", enabled=not settings().json_output):
            written = client.files.download(info.id, path)
    show(info, extra={"file": info.to_wire(), "path": str(path), "bytes": written})
    say(f"downloaded {info.name!r} ({info.id}) to {path}: {render.human_bytes(written)}")


def _parameters(values: Iterable[str]) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for value in values:
        name, separator, item = value.partition("=")
        if not separator or not name:
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", param_hint="--param")
        parameters[name] = item
    return parameters


@click.command()
@click.argument("kind", type=KIND_CHOICE, metavar="KIND")
@click.argument("action")
@click.option(
    "--file",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Upload this file to the import's source first (imports only).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Save the export's output here (exports only).",
)
@click.option("--no-wait", is_flag=True, help="Start the task, print its id and return.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop waiting after this long (exit 3); the task goes on unless --cancel-on-timeout.",
)
@click.option("--cancel-on-timeout", is_flag=True, help="Cancel the task when --timeout passes.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Mapping parameter (a dimension and its item), repeatable.",
)
@click.option(
    "--dump-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where failure dumps are saved.",
)
@click.option("--fail-on-rejected-rows", is_flag=True, help="Exit 1 when any row was rejected.")
@common_options
def run(
    kind: str,
    action: str,
    source: Path | None,
    out: Path | None,
    no_wait: bool,
    timeout: float | None,
    cancel_on_timeout: bool,
    params: tuple[str, ...],
    dump_dir: Path,
    fail_on_rejected_rows: bool,
) -> int:
    """Run an import, export, process or action (by id or name) and explain its result.

    Shows a live progress bar; on failure the failing details and the first rejected rows,
    with the whole failure dump saved under --dump-dir. Ctrl-C cancels the task on the server.
    """
    kind = kind.lower()
    if source is not None and kind != "import":
        raise click.BadParameter("only an import reads a file", param_hint="--file")
    if out is not None and kind != "export":
        raise click.BadParameter("only an export writes a file", param_hint="--out")
    mapping = _parameters(params)
    with connected() as client:
        actions = namespace(client, kind)
        if source is not None:
            _upload_source(client, actions.get(action), source)
        ref: TaskRef = actions.start(action, mapping_parameters=mapping or None)
        note(f"started {ref.describe()}")
        if no_wait:
            status = client.tasks.status(ref)
            show(status)
            say(ref.task_id)
            return ExitCode.OK
        try:
            task = _wait_with_bar(client, ref, timeout, cancel_on_timeout, fail_on_rejected_rows)
        except TaskFailedError as failure:
            _explain_failure(client, failure, ref, dump_dir)
            return ExitCode.TASK_FAILED
        except TaskCancelledError as cancelled:
            show(cancelled.task)
            if cancelled.cancelled_by_us:
                render.print_error(
                    f"interrupted: cancelled {ref.describe()} on the server "
                    f"({cancelled.task.task_state})"
                )
                return ExitCode.INTERRUPTED
            render.print_error(f"{ref.describe()} was cancelled on the server")
            return ExitCode.TASK_FAILED
        written = None
        if out is not None:
            written = client.files.download(task.result.object_id or ref.action_id, out)
        show(task)
        _explain_success(client, task, ref, dump_dir)
        if written is not None:
            say(f"saved the export to {out} ({render.human_bytes(written)})")
    return ExitCode.OK


def _quoted(text: str) -> str:
    return shlex.quote(text)


def _upload(
    client: Client, file: str, source: Path, again: str, *, started_task: bool | None = None
) -> FileInfo:
    """Upload with a bytes bar; Ctrl-C says what is left on the server and how to recover."""
    size = source.stat().st_size
    sent = 0
    try:
        with render.upload_progress(
            f"upload {source.name}", enabled=not settings().json_output
        ) as on_progress:

            def progress(done: int, total: int | None) -> None:
                nonlocal sent
                sent = done
                on_progress(done, total)

            return client.files.upload(file, source, on_progress=progress)
    except KeyboardInterrupt:
        no_task = "; no task was started" if started_task is False else ""
        message = (
            f"interrupted during the upload of {source} ({render.human_bytes(sent)} of "
            f"{render.human_bytes(size)} stored): the server's file {file} now holds an "
            f"incomplete upload, and its earlier content is gone{no_task}. Upload it whole "
            f"again: {again}"
        )
        if settings().json_output:
            render.emit_json(
                {"error": {"message": message, "type": "Interrupted", "exitCode": 130}}
            )
        render.print_error(message)
        raise UploadInterrupted(ExitCode.INTERRUPTED) from None


class UploadInterrupted(click.exceptions.Exit):
    """Ctrl-C during `run --file`'s upload: said, then exit 130 (no task was started)."""


def _upload_source(client: Client, definition: Any, source: Path) -> None:
    if not isinstance(definition, ImportAction) or not definition.import_data_source_id:
        raise ConfigurationError(f"import {definition.name!r} reads no file; nothing to upload")
    again = f"anaplan-tasks run import {_quoted(definition.name)} --file {source}"
    info = _upload(client, definition.import_data_source_id, source, again, started_task=False)
    chunks = "1 chunk" if info.chunk_count == 1 else f"{info.chunk_count} chunks"
    note(f"uploaded {source} to {info.name!r} ({info.id}) in {chunks}")


def _wait_with_bar(
    client: Client,
    ref: TaskRef,
    timeout: float | None,
    cancel_on_timeout: bool,
    fail_on_rejected_rows: bool,
) -> CompletedTask:
    enabled = not settings().json_output
    label = ref.action_name or ref.action_id
    with render.progress_callback(label, enabled=enabled) as on_progress:
        return client.tasks.wait(
            ref,
            timeout=timeout,
            on_progress=on_progress,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_interrupt=True,
            fail_on_rejected_rows=fail_on_rejected_rows,
        )


def dump_path(dump_dir: Path, ref: TaskRef) -> Path:
    """Where a task's failure dump is saved: `<action name>-<task id>-dump.csv`."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", ref.action_name or ref.action_id).strip("_")
    return dump_dir / f"{name or ref.action_id}-{ref.task_id}-dump.csv"


def _save_and_preview(
    dumps: FailureDumps, ref: TaskRef, dump_dir: Path, names: dict[str, str]
) -> Path | None:
    if not dumps.available:
        return None
    dump_dir.mkdir(parents=True, exist_ok=True)
    path = dump_path(dump_dir, ref)
    written = dumps.save(path)
    _preview(dumps, path, written, names)
    return path


def _preview(
    dumps: FailureDumps, path: Path, written: int, names: dict[str, str] | None = None
) -> None:
    say(render.dump_table(dumps.iter_rows(), limit=DUMP_PREVIEW_ROWS, names=names))
    say(f"failure dump saved to {path} ({render.human_bytes(written)})")


def _explain_failure(
    client: Client, failure: TaskFailedError, ref: TaskRef, dump_dir: Path
) -> None:
    task: CompletedTask = failure.task
    show(task)
    names = _names(client, ref, task)
    say(render.task_line(task))
    say(render.result_table(task.result, names=names))
    path = None if failure.dumps is None else _save_and_preview(failure.dumps, ref, dump_dir, names)
    message = " ".join(str(failure).split())
    message = re.sub(r"\s*\[failure dump available: [^]]*\]", "", message)
    if path is not None:
        message += f" (rejected rows in {path})"
    render.print_error(message)


def _explain_success(client: Client, task: CompletedTask, ref: TaskRef, dump_dir: Path) -> None:
    names = _names(client, ref, task)
    say(render.task_line(task))
    say(render.result_table(task.result, names=names))
    if task.result.failure_dump_available or any(
        part.failure_dump_available for part in task.result.walk()
    ):
        _save_and_preview(client.tasks.dumps(task), ref, dump_dir, names)


def _names(client: Client, ref: TaskRef | None, task: CompletedTask) -> dict[str, str]:
    """Action names by id: the task's own, and, for a process, those of its nested actions."""
    names = {ref.action_id: ref.action_name} if ref is not None and ref.action_name else {}
    if settings().json_output or not task.result.nested_results:
        return names
    for kind in KINDS.values():
        names.update({action.id: action.name for action in getattr(client, kind).list()})
    return names


def _ref(client: Client, kind: str, action: str, task_id: str) -> TaskRef:
    definition = namespace(client, kind).get(action)
    return TaskRef(KINDS[kind], definition.id, task_id, definition.name)  # type: ignore[arg-type]


def _one_task(function: F) -> F:
    """The KIND ACTION TASK_ID arguments of the commands about one task."""
    function = click.argument("task_id")(function)
    function = click.argument("action")(function)
    return click.argument("kind", type=KIND_CHOICE, metavar="KIND")(function)


def _status_line(status: Task) -> Text:
    if isinstance(status, CompletedTask | CancelledTask):
        return render.task_line(status)
    return Text(status.describe())


@click.command()
@_one_task
@common_options
def status(kind: str, action: str, task_id: str) -> int:
    """Show a task's status (and its result once it has one)."""
    kind = kind.lower()
    with connected() as client:
        ref = _ref(client, kind, action, task_id)
        current = client.tasks.status(ref)
        names = _names(client, ref, current) if isinstance(current, CompletedTask) else {}
    show(current)
    say(_status_line(current))
    if isinstance(current, CompletedTask):
        say(render.result_table(current.result, names=names))
        return ExitCode.OK if current.result.successful else ExitCode.TASK_FAILED
    if isinstance(current, CancelledTask):
        return ExitCode.TASK_FAILED  # the docs: 1 for a task that failed or was cancelled
    return ExitCode.OK


@click.command()
@click.argument("kind", type=KIND_CHOICE, metavar="KIND")
@click.argument("action")
@common_options
def tasks(kind: str, action: str) -> None:
    """List an action's tasks (everyone's), oldest first."""
    kind = kind.lower()
    with connected() as client:
        items = namespace(client, kind).list_tasks(action)
    rows = [
        (
            item.id,
            item.task_state,
            datetime.fromtimestamp(item.creation_time / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),
        )
        for item in items
    ]
    table = render.rows_table(
        f"Tasks of {kind} {action}", ("Task id", "State", "Created (UTC)"), rows
    )
    show(items, table)


@click.command()
@_one_task
@common_options
def cancel(kind: str, action: str, task_id: str) -> None:
    """Ask the server to cancel a task; its changes are rolled back."""
    kind = kind.lower()
    with connected() as client:
        current = client.tasks.cancel(_ref(client, kind, action, task_id))
    show(current)
    say(_status_line(current))


@click.command()
@_one_task
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Save the dump here (default: <action>-<task id>-dump.csv in the current directory).",
)
@common_options
def dump(kind: str, action: str, task_id: str, out: Path | None) -> int:
    """Save a finished task's failure dump (the rejected rows) and show the first rows."""
    kind = kind.lower()
    with connected() as client:
        ref = _ref(client, kind, action, task_id)
        current = client.tasks.status(ref)
        if not isinstance(current, CompletedTask):
            raise ConfigurationError(f"{ref.describe()} has not finished: {current.describe()}")
        dumps = client.tasks.dumps(ref, current)
        if not dumps.available:
            say(render.task_line(current))
            render.print_error(f"{ref.describe()} has no failure dump")
            return ExitCode.TASK_FAILED
        path = out or dump_path(Path("."), ref)
        written = dumps.save(path)
        if settings().json_output:
            render.emit_json(
                {
                    "path": str(path),
                    "bytes": written,
                    "rows": [
                        {
                            "status": row.status,
                            "line": row.line,
                            "errors": row.errors,
                            "columns": row.columns,
                            "objectId": row.object_id,
                        }
                        for row in dumps.iter_rows()
                    ],
                }
            )
            return ExitCode.OK
        _preview(dumps, path, written, _names(client, ref, current))
    return ExitCode.OK
