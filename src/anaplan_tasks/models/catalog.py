"""Users, workspaces, models, files and the action catalogue, as the Integration API sends them.

Only the fields a client needs are required; everything else is optional because Anaplan only
sends some fields with flags such as `modelDetails=true` or `tenantDetails=true`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import WireModel

ActionKind = Literal["imports", "exports", "actions", "processes"]
"""The path segment of a bulk action kind."""

ACTION_KIND_BY_PREFIX: dict[str, ActionKind] = {
    "112": "imports",
    "116": "exports",
    "117": "actions",
    "118": "processes",
}
"""Anaplan's numeric id prefixes: the first three digits of an action id tell its kind."""


def action_kind_of(action_id: str) -> ActionKind | None:
    """The kind of an action from its id prefix (`112…` → `imports`), or None if unknown."""
    if len(action_id) == 12 and action_id.isdigit():
        return ACTION_KIND_BY_PREFIX.get(action_id[:3])
    return None


class User(WireModel):
    """The signed-in user (`GET /users/me`)."""

    id: str = Field(description="The user's guid.")
    email: str | None = Field(default=None, description="The user's e-mail (login name).")
    active: bool | None = Field(default=None, description="Whether the user is active.")
    first_name: str | None = Field(default=None, description="First name.")
    last_name: str | None = Field(default=None, description="Last name.")
    customer_id: str | None = Field(default=None, description="The tenant's guid.")
    email_opt_in: bool | None = Field(default=None, description="E-mail opt-in flag.")
    last_login_date: str | None = Field(default=None, description="Last login, ISO-8601.")


class Workspace(WireModel):
    """A workspace the user can see."""

    id: str = Field(description="32 lower-case hex characters.")
    name: str = Field(description="The workspace's name.")
    active: bool = Field(default=True, description="Whether the workspace is active.")
    size_allowance: int | None = Field(default=None, description="Bytes allowed.")
    current_size: int | None = Field(default=None, description="Bytes used.")


class Model(WireModel):
    """A model the user can see."""

    id: str = Field(description="32 upper-case hex characters.")
    name: str = Field(description="The model's name.")
    active_state: str = Field(default="UNLOCKED", description="UNLOCKED, LOCKED, ARCHIVED, …")
    current_workspace_id: str | None = Field(default=None, description="Its workspace's id.")
    current_workspace_name: str | None = Field(default=None, description="Its workspace's name.")
    model_url: str | None = Field(default=None, description="Link to open it in Anaplan.")
    category_values: list[dict[str, str]] = Field(default_factory=list, description="Categories.")
    last_saved_serial_number: int | None = Field(default=None, description="Save counter.")
    last_modified_by_user_guid: str | None = Field(default=None, description="Last modifier.")
    memory_usage: int | None = Field(default=None, description="Bytes of memory used.")
    iso_creation_date: str | None = Field(default=None, description="Created, ISO-8601.")
    last_modified: str | None = Field(default=None, description="Last modified, ISO-8601.")
    model_transaction_running: bool | None = Field(default=None, description="A task holds it.")


class FileInfo(WireModel):
    """An import data source (`113…`) or an export's output file (`116…`)."""

    id: str = Field(description="The file's id; an export's output file has the export's id.")
    name: str = Field(description="The file's name.")
    chunk_count: int = Field(default=0, description="Chunks of the caller's content; 0 = none.")
    delimiter: str | None = Field(default=None, description="Text delimiter, usually '\"'.")
    encoding: str | None = Field(default=None, description="UTF-8, ISO-8859-1 or UTF-16LE.")
    first_data_row: int | None = Field(default=None, description="1-based first data row.")
    format: str | None = Field(default=None, description="'txt'.")
    header_row: int | None = Field(default=None, description="1-based header row; 0 = none.")
    separator: str | None = Field(default=None, description="Column separator.")


class ChunkInfo(WireModel):
    """One chunk of a file or failure dump."""

    id: str = Field(description="The chunk's index as a string, from '0'.")
    name: str = Field(description="'Chunk <n>'.")


class ImportAction(WireModel):
    """An import definition."""

    id: str = Field(description="The import's id (`112…`).")
    name: str = Field(description="The import's name.")
    import_data_source_id: str | None = Field(default=None, description="The source file's id.")
    import_type: str | None = Field(default=None, description="HIERARCHY_DATA, MODULE_DATA, …")
    code: str | None = Field(default=None, description="The import's code, if any.")


class ExportAction(WireModel):
    """An export definition; its output file has the same id."""

    id: str = Field(description="The export's id (`116…`).")
    name: str = Field(description="The export's name.")
    export_type: str | None = Field(default=None, description="TABULAR_MULTI_COLUMN, …")
    export_format: str | None = Field(default=None, description="A MIME type such as text/csv.")
    encoding: str | None = Field(default=None, description="The output's encoding.")
    layout: str | None = Field(default=None, description="Same values as exportType.")


class ModelAction(WireModel):
    """A model action (`117…`), for example a delete-by-selection."""

    id: str = Field(description="The action's id (`117…`).")
    name: str = Field(description="The action's name.")
    action_type: str | None = Field(default=None, description="DELETE_BY_SELECTION, …")


class Process(WireModel):
    """A process: actions run in order as one task."""

    id: str = Field(description="The process's id (`118…`).")
    name: str = Field(description="The process's name.")
    code: str | None = Field(default=None, description="The process's code, if any.")


class ImportSource(WireModel):
    """How an import reads its file (part of import metadata)."""

    text_encoding: str | None = Field(default=None, description="The file's encoding.")
    column_separator: str | None = Field(default=None, description="Column separator.")
    text_delimiter: str | None = Field(default=None, description="Text delimiter.")
    header_row: int | None = Field(default=None, description="1-based header row.")
    first_data_row: int | None = Field(default=None, description="1-based first data row.")
    decimal_separator: str | None = Field(default=None, description="Decimal separator.")
    header_names: list[str] = Field(default_factory=list, description="Column names.")
    column_count: int | None = Field(default=None, description="Number of columns.")


class ImportMetadata(WireModel):
    """`GET …/imports/{id}`: the import's name, type and source layout."""

    name: str = Field(description="The import's name.")
    type: str = Field(description="FILE or MODEL.")
    source: ImportSource | None = Field(default=None, description="The file layout (FILE only).")


class ExportMetadata(WireModel):
    """`GET …/exports/{id}`: the columns and format of an export."""

    column_count: int = Field(description="Number of columns.")
    data_types: list[str] = Field(default_factory=list, description="One type per column.")
    delimiter: str | None = Field(default=None, description="Text delimiter.")
    encoding: str | None = Field(default=None, description="Encoding.")
    export_format: str | None = Field(default=None, description="MIME type.")
    header_names: list[str] = Field(default_factory=list, description="Column names.")
    list_names: list[str] = Field(default_factory=list, description="List per column or ''.")
    row_count: int | None = Field(default=None, description="Estimated rows.")
    separator: str | None = Field(default=None, description="Column separator.")
    layout: str | None = Field(default=None, description="Layout.")


class ProcessAction(WireModel):
    """One action of a process, in execution order."""

    id: str = Field(description="The action's id.")
    name: str = Field(description="The action's name.")
    action_type: str | None = Field(default=None, description="IMPORT, EXPORT, DELETE_BY_…")
    import_data_source_id: str | None = Field(default=None, description="Import's file id.")
    import_type: str | None = Field(default=None, description="Import's type.")
    export_type: str | None = Field(default=None, description="Export's type.")


class ProcessMetadata(WireModel):
    """`GET …/processes/{id}`: the process's actions in execution order."""

    name: str = Field(description="The process's name.")
    actions: list[ProcessAction] = Field(default_factory=list, description="In order.")
