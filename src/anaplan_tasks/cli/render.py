"""Everything the command line shows a person: tables, results, failures and progress bars.

This is the one module that imports rich. In `--json` mode nothing here prints; commands print
the wire models instead (see `emit_json`).
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.progress import (
    Task as ProgressTask,
)
from rich.table import Table
from rich.text import Text

from ..client import DumpRow, ProgressUpdate
from ..models import CancelledTask, CompletedTask, TaskResult, TaskResultDetail, WireModel

console = Console(stderr=False, highlight=False)
"""Where tables and stories go (stdout)."""

error_console = Console(stderr=True, highlight=False)
"""Where errors and progress bars go (stderr), so `--json` stdout stays clean."""


def emit_json(value: WireModel | Sequence[WireModel] | dict[str, Any] | list[Any]) -> None:
    """Print wire models (or plain JSON data) as JSON on stdout, one document."""
    sys.stdout.write(json.dumps(_jsonable(value), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _jsonable(value: Any) -> Any:
    if isinstance(value, WireModel):
        return value.to_wire()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def print_error(message: str) -> None:
    """One line a person can act on, on stderr."""
    error_console.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


def print_note(message: str) -> None:
    """A quiet remark on stderr (kept out of --json output)."""
    error_console.print(Text(message, style="dim"), soft_wrap=True)


def object_table(
    title: str, items: Sequence[WireModel], columns: Sequence[tuple[str, str]]
) -> Table:
    """A table of models: `columns` are (header, attribute name) pairs."""
    headers = [header for header, _ in columns]
    rows = [
        [_cell(getattr(item, attribute, None), header) for header, attribute in columns]
        for item in items
    ]
    return _table(title, headers, rows)


LONGEST_UNBROKEN = 40
"""Words (ids, dates, names' parts) up to this long are never split across lines in a table."""


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A table wrapped between words, never mid-token, when its words fit the console.

    Each column gets at least its longest word (up to `LONGEST_UNBROKEN`) and the space left
    goes to the columns in proportion to what more they would show; when even the words do not
    fit side by side, rich folds them rather than cutting the table at the console's edge.
    """
    table = Table(title=title, title_justify="left", header_style="bold")
    widths = _column_widths(headers, rows, console.width)
    for index, header in enumerate(headers):
        table.add_column(
            header,
            overflow="fold",
            no_wrap=_is_id(header),
            width=None if widths is None else widths[index],
        )
    for row in rows:
        table.add_row(*row)
    if not rows:
        table.caption = "none"
    return table


_ISO_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?")


def _cell(value: Any, header: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, str) and _ISO_TIME.fullmatch(value):  # two words: wraps at the space
        return _ISO_TIME.sub(lambda m: f"{m[1]} {m[2]}{'' if m[3] in (None, 'Z') else m[3]}", value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and header in BYTE_COLUMNS:
        return human_bytes(value)
    return str(value)


BYTE_COLUMNS = frozenset({"Used", "Allowance", "Size", "Bytes"})
"""Table headers whose integer cells are byte counts, shown as `1.5 MB`."""


def detail_counts(detail: TaskResultDetail) -> str:
    """A detail's counts that are not zero, `failed=4, total=5000` (`…Count` dropped)."""
    pairs = []
    for key, value in detail.value_map.items():
        if isinstance(value, int) and value:
            short = key.removesuffix("Count") if key.endswith("Count") else key
            shown = human_bytes(value) if key.lower().endswith(("size", "bytes")) else value
            pairs.append(f"{short}={shown}")
    return ", ".join(pairs)


def result_table(result: TaskResult, *, names: dict[str, str] | None = None) -> Table:
    """A table of a result and its nested results: one row per detail."""
    names = names or {}
    table = Table(header_style="bold", show_lines=False)
    table.add_column("Action", overflow="fold")
    table.add_column("Outcome")
    table.add_column("Detail", overflow="fold", ratio=3)
    table.add_column("Counts", overflow="fold", ratio=2)
    for depth, part in _walk_with_depth(result):
        label = names.get(part.object_id or "", part.object_name or part.object_id or "task")
        indent = "  " * depth
        outcome = _outcome(part)
        if not part.details:
            table.add_row(f"{indent}{label}", outcome, "", "")
        for index, detail in enumerate(part.details):
            style = "red" if detail.is_failure else ""
            table.add_row(
                f"{indent}{label}" if index == 0 else "",
                outcome if index == 0 else "",
                Text(detail.text, style=style),
                detail_counts(detail),
            )
    return table


def _walk_with_depth(result: TaskResult, depth: int = 0) -> Iterator[tuple[int, TaskResult]]:
    yield depth, result
    for nested in result.nested_results:
        yield from _walk_with_depth(nested, depth + 1)


def _outcome(part: TaskResult) -> Text:
    if not part.successful:
        return Text("failed", style="bold red")
    if part.failure_dump_available or part.failure_details():
        return Text("rows rejected", style="yellow")
    return Text("ok", style="green")


def task_line(task: CompletedTask | CancelledTask) -> Text:
    """A task's one-line description, coloured by outcome."""
    if isinstance(task, CancelledTask):
        style = "yellow"
    elif task.result.successful and not task.result.failure_details():
        style = "green"
    elif task.result.successful:
        style = "yellow"
    else:
        style = "red"
    return Text(task.describe(), style=style)


def dump_table(
    rows: Iterable[DumpRow], *, limit: int = 10, names: dict[str, str] | None = None
) -> Table:
    """The first rows of a failure dump: line, status, why, and the source row.

    Rows of a process's dumps carry the action they belong to: an Action column (its name
    from `names`, else its id) comes first then.
    """
    shown_rows = list(itertools.islice(rows, limit + 1))
    more = len(shown_rows) > limit
    shown_rows = shown_rows[:limit]
    by_action = any(row.object_id for row in shown_rows)
    names = names or {}
    table = Table(header_style="bold", title_justify="left")
    if by_action:
        table.add_column("Action", overflow="fold")
    table.add_column("Line", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Why", overflow="fold", ratio=1)
    table.add_column("Source row", overflow="fold", ratio=1)
    if more:
        table.caption = f"first {limit} rows shown"
    for row in shown_rows:
        status = Text(row.status, style="red" if row.status == "E" else "yellow")
        action = [names.get(row.object_id or "", row.object_id or "")] if by_action else []
        table.add_row(
            *action,
            "" if row.line is None else str(row.line),
            status,
            "; ".join(row.errors),
            ", ".join(row.columns.values()),
        )
    return table


class _RemainingColumn(ProgressColumn):
    """Estimated time remaining, from the task's own progress (blank until known)."""

    def render(self, task: ProgressTask) -> Text:
        remaining = task.fields.get("remaining")
        if remaining is None:
            return Text("-:--:--", style="dim")
        minutes, seconds = divmod(int(remaining), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"~{hours}:{minutes:02d}:{seconds:02d} left", style="cyan")


class TaskProgress:
    """A live progress bar for one task: progress, current step, elapsed and remaining."""

    def __init__(self, progress: Progress, task_id: Any):
        self._progress = progress
        self._task_id = task_id

    def update(
        self,
        fraction: float,
        step: str | None = None,
        remaining: float | None = None,
    ) -> None:
        """Show the task's latest status."""
        self._progress.update(
            self._task_id,
            completed=max(0.0, min(1.0, fraction)) * 100,
            step=step or "",
            remaining=remaining,
        )


LABEL_WIDTH = 24
"""Progress labels are cut to this many characters, so a 100-column terminal keeps its bar."""


def short_label(text: str, width: int = LABEL_WIDTH) -> str:
    """A progress label: the text, or its start and an ellipsis when longer than `width`."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


class _LoggedProgress(TaskProgress):
    """What a bar becomes when stderr is not a terminal: one line at the end, never frames."""

    def __init__(self, description: str, console: Console):
        self._description = description
        self._console = console
        self._started = time.monotonic()
        self._fraction = 0.0
        self._step = ""
        self._sent: int | None = None

    def update(
        self, fraction: float, step: str | None = None, remaining: float | None = None
    ) -> None:
        del remaining
        self._fraction = max(0.0, min(1.0, fraction))
        self._step = step or self._step

    def transferred(self, sent: int, total: int | None) -> None:
        self._sent = sent
        if total:
            self._fraction = sent / total

    def finish(self, failed: bool) -> None:
        if failed and not self._fraction and not self._sent:
            return  # nothing happened: the error says it all
        elapsed = _clock(time.monotonic() - self._started)
        if self._sent is not None:
            what = f"{human_bytes(self._sent)}"
            what += "" if failed else f", {self._fraction:.0%}"
        else:
            what = f"{self._fraction:.0%}" + (f" {self._step}" if self._step else "")
        ending = " (stopped)" if failed else ""
        self._console.print(
            f"{self._description}: {what} in {elapsed}{ending}", soft_wrap=True, markup=False
        )


def _clock(seconds: float) -> str:
    minutes, whole = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{whole:02d}"


@contextmanager
def _logged(description: str, console: Console) -> Iterator[_LoggedProgress]:
    line = _LoggedProgress(description, console)
    try:
        yield line
    except BaseException:
        line.finish(failed=True)
        raise
    line.finish(failed=False)


@contextmanager
def task_progress(
    description: str, *, enabled: bool = True, console: Console | None = None
) -> Iterator[TaskProgress]:
    """A progress bar (on stderr unless told) for the block (a no-op bar when disabled).

    On a terminal the bar is live; elsewhere (a log file, a pipe) one line is written at the
    end. When the block fails, the bar is taken away, so no stale frame stands above the error.
    """
    target = console or error_console
    description = short_label(description)
    if enabled and not target.is_terminal:
        with _logged(description, target) as line:
            yield line
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[step]}", style="dim"),
        TimeElapsedColumn(),
        _RemainingColumn(),
        console=target,
        disable=not enabled,
        transient=False,
    )
    with progress:
        task_id = progress.add_task(description, total=100, step="", remaining=None)
        try:
            yield TaskProgress(progress, task_id)
        except BaseException:
            progress.update(task_id, visible=False)
            raise


@contextmanager
def working(description: str, *, enabled: bool = True) -> Iterator[None]:
    """A spinner on stderr while something without a known size runs (e.g. an upload)."""
    if not enabled:
        yield
        return
    with error_console.status(description):
        yield


def human_bytes(count: int) -> str:
    """`1.5 MB` style sizes (decimal units, as file browsers show them)."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _column_widths(
    headers: Sequence[str], rows: Sequence[Sequence[str]], total: int
) -> list[int] | None:
    """Column widths that keep every word whole, or None when rich's own layout will do (the
    table fits as it is) or cannot help (the words alone are wider than the console)."""
    cells = [[header, *(row[index] for row in rows)] for index, header in enumerate(headers)]
    wanted = [max(len(text) for text in column) for column in cells]
    words = [
        min(max((len(word) for text in column for word in text.split()), default=1), width)
        for column, width in zip(cells, wanted, strict=True)
    ]
    least = [
        width if _is_id(header) else min(word, LONGEST_UNBROKEN)
        for header, width, word in zip(headers, wanted, words, strict=True)
    ]
    room = total - 3 * len(headers) - 1
    if sum(wanted) <= room or sum(least) > room:
        return None
    spare = room - sum(least)
    more = [max(want - low, 0) for want, low in zip(wanted, least, strict=True)]
    extra = sum(more) or 1
    return [low + spare * grow // extra for low, grow in zip(least, more, strict=True)]


def rows_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A plain table of already formatted rows (never cut mid-word, see `_table`)."""
    return _table(title, headers, [[_cell(value) for value in row] for row in rows])


@contextmanager
def progress_callback(
    description: str, *, enabled: bool = True, console: Console | None = None
) -> Iterator[Callable[[ProgressUpdate], None]]:
    """A progress bar, as the `on_progress` callback a client's wait takes."""
    with task_progress(description, enabled=enabled, console=console) as bar:

        def on_progress(update: ProgressUpdate) -> None:
            bar.update(update.progress, update.current_step, update.estimated_remaining)

        yield on_progress
        bar.update(1.0, "done", 0.0)


@contextmanager
def run_progress(
    description: str, *, enabled: bool = True, console: Console | None = None
) -> Iterator[Callable[[Any], None]]:
    """A bar for a CloudWorks run, which reports no fraction: it pulses, with the run's
    message and the time elapsed; off a terminal one line at the end. Yields the `on_progress`
    callback a run's wait takes (`RunProgress`)."""
    target = console or error_console
    description = short_label(description)
    if enabled and not target.is_terminal:
        started = time.monotonic()

        def ignore(update: Any) -> None:
            del update

        try:
            yield ignore
        except BaseException:
            target.print(f"{description}: stopped after {_clock(time.monotonic() - started)}")
            raise
        target.print(f"{description}: done in {_clock(time.monotonic() - started)}")
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[step]}", style="dim"),
        TimeElapsedColumn(),
        console=target,
        disable=not enabled,
        transient=False,
    )
    with progress:
        task_id = progress.add_task(description, total=None, step="")

        def on_progress(update: Any) -> None:
            progress.update(task_id, step=str(update.message or ""))

        try:
            yield on_progress
        except BaseException:
            progress.update(task_id, visible=False)
            raise
        progress.update(task_id, total=1, completed=1, step="done")


def _is_id(header: str) -> bool:
    return header.lower() == "id" or header.lower().endswith(" id")


@contextmanager
def upload_progress(
    description: str, *, enabled: bool = True, console: Console | None = None
) -> Iterator[Callable[[int, int | None], None]]:
    """A bytes bar for an upload, as the `on_progress` callback `files.upload` takes."""
    target = console or error_console
    description = short_label(description)
    if enabled and not target.is_terminal:
        with _logged(description, target) as line:
            yield line.transferred
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=False),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=target,
        disable=not enabled,
    )
    with progress:
        task_id = progress.add_task(description, total=None)

        def report(sent: int, total: int | None) -> None:
            progress.update(task_id, completed=sent, total=total)

        try:
            yield report
        except BaseException:
            progress.update(task_id, visible=False)
            raise


@contextmanager
def pages_progress(
    description: str, *, enabled: bool = True, console: Console | None = None
) -> Iterator[Callable[[int, int | None], None]]:
    """A pages bar for a large-volume read, as the `on_progress` callback `read_large` takes
    (pages read, and the page count once the request is complete)."""
    target = console or error_console
    description = short_label(description)
    if enabled and not target.is_terminal:
        with _logged(description, target) as line:

            def logged(done: int, total: int | None) -> None:
                line.update(done / total if total else 0.0, f"{done} pages")

            yield logged
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        TimeElapsedColumn(),
        console=target,
        disable=not enabled,
    )
    with progress:
        task_id = progress.add_task(description, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task_id, completed=done, total=total)

        try:
            yield report
        except BaseException:
            progress.update(task_id, visible=False)
            raise
