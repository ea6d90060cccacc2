"""Listing commands: workspaces, models, files and the four kinds of action."""

from __future__ import annotations

import click

from . import render
from .context import KINDS, connected, namespace, show
from .options import common_options


@click.command()
@common_options
def workspaces() -> None:
    """List the workspaces you can see."""
    with connected(need_workspace=False, need_model=False) as client:
        items = client.workspaces.list()
    columns = [
        ("Id", "id"),
        ("Name", "name"),
        ("Active", "active"),
        ("Used", "current_size"),
        ("Allowance", "size_allowance"),
    ]
    show(items, render.object_table("Workspaces", items, columns))


@click.command()
@click.option("--all", "everywhere", is_flag=True, help="Models of every workspace.")
@common_options
def models(everywhere: bool) -> None:
    """List the models of the workspace (of every workspace with --all or without one)."""
    with connected(need_workspace=False, need_model=False) as client:
        scope = None if client.config.workspace_id and not everywhere else "*"
        items = client.models.list(scope)
    columns = [
        ("Id", "id"),
        ("Name", "name"),
        ("State", "active_state"),
        ("Workspace", "current_workspace_name"),
        ("Last modified", "last_modified"),
    ]
    show(items, render.object_table("Models", items, columns))


@click.command()
@common_options
def files() -> None:
    """List the model's files (import sources and export outputs)."""
    with connected() as client:
        items = client.files.list()
    columns = [("Id", "id"), ("Name", "name"), ("Chunks", "chunk_count"), ("Encoding", "encoding")]
    show(items, render.object_table("Files", items, columns))


_ACTION_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "import": [
        ("Id", "id"),
        ("Name", "name"),
        ("Type", "import_type"),
        ("Source file", "import_data_source_id"),
    ],
    "export": [
        ("Id", "id"),
        ("Name", "name"),
        ("Type", "export_type"),
        ("Format", "export_format"),
    ],
    "process": [("Id", "id"), ("Name", "name")],
    "action": [("Id", "id"), ("Name", "name"), ("Type", "action_type")],
}


def _action_list_command(kind: str) -> click.Command:
    plural = KINDS[kind]

    @click.command(name=plural, help=f"List the model's {plural}.")
    @common_options
    def command() -> None:
        with connected() as client:
            items = namespace(client, kind).list()
        show(items, render.object_table(plural.capitalize(), items, _ACTION_COLUMNS[kind]))

    return command


imports = _action_list_command("import")
exports = _action_list_command("export")
processes = _action_list_command("process")
actions = _action_list_command("action")
