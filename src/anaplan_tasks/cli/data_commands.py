"""Commands over the model's data (transactional API): lists and list items."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import cast

import click

from .._core.readrequests import EXPORT_TYPES
from ..models import ListItem, ViewLayout
from . import render
from .context import connected, note, say, settings, show
from .options import common_options


@click.command(name="lists")
@common_options
def lists_command() -> None:
    """List the model's lists."""
    with connected() as client:
        items = client.lists.list()
    show(items, render.object_table("Lists", items, [("Id", "id"), ("Name", "name")]))


@click.command()
@click.argument("list_ref", metavar="LIST")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save every item as Anaplan's CSV here (streamed) instead of printing them.",
)
@click.option("--all", "include_all", is_flag=True, help="With properties (and subsets).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Items the table shows (--json and --out have them all).",
)
@click.option(
    "--large",
    is_flag=True,
    help="With --out: read a list of any size with a large-volume read request (name, "
    "Parent, Code and properties), not the transactional read (at most 1,000,000 items).",
)
@common_options
def items(list_ref: str, out: Path | None, include_all: bool, limit: int, large: bool) -> None:
    """Show the items of LIST (its id or name), or save them with --out."""
    if large:
        if out is None:
            raise click.UsageError("--large needs --out FILE")
        _read_large("list", list_ref, out, None)
        return
    with connected() as client:
        if out is not None:
            with render.working(f"reading {list_ref}", enabled=not settings().json_output):
                written = client.lists.download_items(list_ref, out, include_all=include_all)
            show([], extra={"list": list_ref, "path": str(out), "bytes": written})
            say(f"saved the items of {list_ref!r} to {out}: {render.human_bytes(written)}")
            return
        if settings().json_output:
            render.emit_json(client.lists.items(list_ref, include_all=include_all))
            return
        stream = client.lists.iter_items(list_ref, include_all=include_all)
        shown = list(islice(stream, limit))
        remaining = sum(1 for _ in stream)
    names = sorted({name for item in shown for name in (item.properties or {})})
    rows = [
        [
            item.id,
            item.name,
            item.code,
            item.parent,
            *((item.properties or {}).get(n) for n in names),
        ]
        for item in shown
    ]
    render.console.print(
        render.rows_table(f"Items of {list_ref}", ["Id", "Name", "Code", "Parent", *names], rows)
    )
    if remaining:
        note(f"{remaining} more items not shown (--limit, --json or --out for all)")


def _property(item: ListItem, name: str) -> str | None:
    return (item.properties or {}).get(name)


@click.command()
@click.argument("view_ref", metavar="VIEW")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the grid as Anaplan's CSV here (streamed) instead of printing it.",
)
@click.option(
    "--page",
    "pages",
    multiple=True,
    metavar="DIMENSION_ID:ITEM_ID",
    help="Show this item of a page dimension (repeatable).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Rows the table shows (--json and --out have them all).",
)
@click.option(
    "--large",
    is_flag=True,
    help="With --out: read a view of any size with a large-volume read request (pages of "
    "CSV, every page of the view), not the transactional read (at most 1,000,000 cells).",
)
@click.option(
    "--layout",
    type=click.Choice(["GRID_CURRENT_PAGE", *EXPORT_TYPES], case_sensitive=False),
    default=None,
    help="With --out: the CSV's layout, Anaplan's exportType (default: the current page's "
    "grid; with --large, every page's: GRID_ALL_PAGES).",
)
@common_options
def view(
    view_ref: str,
    out: Path | None,
    pages: tuple[str, ...],
    limit: int,
    large: bool,
    layout: str | None,
) -> None:
    """Show the data of VIEW (its id, or its name: `Module` or `Module.View`)."""
    layout = layout.upper() if layout else None
    if large:
        if out is None:
            raise click.UsageError("--large needs --out FILE")
        if pages:
            raise click.UsageError("--large reads every page: leave out --page")
        if layout == "GRID_CURRENT_PAGE":
            raise click.UsageError("--large reads every page: use GRID_ALL_PAGES or a tabular one")
        _read_large("view", view_ref, out, layout or "GRID_ALL_PAGES")
        return
    if layout not in (None, "GRID_CURRENT_PAGE") and out is None:
        raise click.BadParameter("a layout other than the grid needs --out", param_hint="--layout")
    selected: dict[str, str] = {}
    for page in pages:
        dimension, colon, item = page.partition(":")
        if not colon or not dimension or not item:
            raise click.BadParameter(f"{page!r} is not DIMENSION_ID:ITEM_ID", param_hint="--page")
        selected[dimension] = item
    with connected() as client:
        if out is not None:
            with render.working(f"reading {view_ref}", enabled=not settings().json_output):
                chosen = cast("ViewLayout", layout or "GRID_CURRENT_PAGE")
                written = client.views.download(view_ref, out, pages=selected, layout=chosen)
            show([], extra={"view": view_ref, "path": str(out), "bytes": written})
            say(f"saved the view {view_ref!r} to {out}: {render.human_bytes(written)}")
            return
        data = client.views.read(view_ref, pages=selected)
    if settings().json_output:
        render.emit_json(data)
        return
    headers = [" / ".join(coords) for coords in data.column_coordinates]
    axes = len(data.rows[0].row_coordinates) if data.rows else 1
    table = render.rows_table(
        f"{view_ref}" + (f" ({', '.join(data.pages)})" if data.pages else ""),
        [*[""] * axes, *headers],
        [[*row.row_coordinates, *row.cells] for row in data.rows[:limit]],
    )
    render.console.print(table)
    if len(data.rows) > limit:
        note(f"{len(data.rows) - limit} more rows not shown (--limit, --json or --out for all)")


def _read_large(kind: str, ref: str, out: Path, layout: str | None) -> None:
    """A large-volume read to `out` with a pages bar; Ctrl-C deletes the request."""
    pages_read = 0
    with (
        connected() as client,
        render.pages_progress(f"read {ref}", enabled=not settings().json_output) as on_progress,
    ):

        def progress(done: int, total: int | None) -> None:
            nonlocal pages_read
            pages_read = done
            on_progress(done, total)

        if kind == "view":
            written = client.views.read_large(
                ref, out, export_type=layout or "GRID_ALL_PAGES", on_progress=progress
            )
        else:
            written = client.lists.read_large(ref, out, on_progress=progress)
    show([], extra={kind: ref, "path": str(out), "bytes": written, "pages": pages_read})
    what = f"the view {ref!r}" if kind == "view" else f"the items of {ref!r}"
    how = f", {layout}" if layout else ""
    say(
        f"saved {what} to {out}: {render.human_bytes(written)} in {pages_read} pages "
        f"(large-volume read{how})"
    )


@click.command()
@click.argument("day", required=False, metavar="[YYYY-MM-DD]")
@common_options
def period(day: str | None) -> None:
    """Show the model's current period, or set it to the period holding a date."""
    with connected() as client:
        found = (
            client.calendar.current_period()
            if day is None
            else client.calendar.set_current_period(day)
        )
    show(found)
    say(
        f"current period: {found.period_text or '(none)'}"
        + (f", ends {found.last_day}" if found.last_day else "")
    )


@click.command()
@click.option("--me", "only_me", is_flag=True, help="Only the signed-in user.")
@common_options
def users(only_me: bool) -> None:
    """List the tenant's users (workspace administrators), or show yourself with --me."""
    with connected(need_workspace=False, need_model=False) as client:
        found = [client.users.me()] if only_me else client.users.list()
    columns = [
        ("Id", "id"),
        ("Email", "email"),
        ("First name", "first_name"),
        ("Last name", "last_name"),
        ("Active", "active"),
        ("Last login", "last_login_date"),
    ]
    show(found, render.object_table("Users", found, columns))
