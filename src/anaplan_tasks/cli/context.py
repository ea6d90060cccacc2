"""What a command needs besides its arguments: the settings, a client, and how to print."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.table import Table

from ..client import Client
from ..models import WireModel
from . import render
from .options import current_settings
from .settings import Settings, open_client

KINDS: dict[str, str] = {
    "import": "imports",
    "export": "exports",
    "process": "processes",
    "action": "actions",
}
"""Command-line kind names and the client namespace of each."""


def settings() -> Settings:
    """The settings of the running command."""
    return current_settings(click.get_current_context())


@contextmanager
def connected(*, need_workspace: bool = True, need_model: bool = True) -> Iterator[Client]:
    """A client for the running command, closed (signed out) at the end."""
    client = open_client(settings(), need_workspace=need_workspace, need_model=need_model)
    try:
        yield client
    finally:
        client.close()


def namespace(client: Client, kind: str) -> Any:
    """The client namespace (`client.imports`, …) of a command-line kind name."""
    return getattr(client, KINDS[kind])


def show(
    items: Sequence[WireModel] | WireModel, table: Table | None = None, *, extra: Any = None
) -> None:
    """Print wire models as JSON in --json mode, else the table (when given)."""
    if settings().json_output:
        render.emit_json(items if extra is None else extra)
    elif table is not None:
        render.console.print(table)


def note(message: str) -> None:
    """A remark for people (stderr; silent in --json mode)."""
    if not settings().json_output:
        render.print_note(message)


def say(message: Any) -> None:
    """A line of the human output (stdout; silent in --json mode)."""
    if not settings().json_output:
        render.console.print(message)
