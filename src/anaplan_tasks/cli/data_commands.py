"""Commands over the model's data (transactional API): lists and list items."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import click

from ..models import ListItem
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
@common_options
def items(list_ref: str, out: Path | None, include_all: bool, limit: int) -> None:
    """Show the items of LIST (its id or name), or save them with --out."""
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
