"""The emulator's definition format: users, workspaces and models with their structure and actions.

A definition is a JSON or TOML document. Its structure part (lists, modules, line items, actions)
is what ALM versions; data (list items, cells, file content) lives in the store.

```toml
[[users]]
email = "demo@example.com"
password = "demo"

[[workspaces]]
name = "Demo Workspace"
admins = ["demo@example.com"]

[[workspaces.models]]
name = "FP&A Dev"

[[workspaces.models.lists]]
name = "Regions"
top_level = "Total Region"
```

Loading validates everything and reports errors as `FILE: path.to.field: what is wrong`.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Format = Literal["number", "text", "boolean", "date", "list"]
"""Formats of a list property or a module line item."""


class DefinitionError(ValueError):
    """A definition that cannot be loaded; the message names the file, the path and the problem."""

    def __init__(self, source: str, problems: list[str]):
        super().__init__(f"{source}: " + f"\n{source}: ".join(problems))
        self.source = source
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserDef(_Strict):
    """A user who can sign in (Basic with the password, or a registered certificate)."""

    email: str
    password: str | None = None
    first_name: str = "Demo"
    last_name: str = "User"
    certificate_pem: str | None = Field(
        default=None, description="PEM certificate registered for CACertificate authentication."
    )


class PropertyDef(_Strict):
    """A list property."""

    name: str
    format: Format = "text"
    list: str | None = Field(default=None, description="For format 'list': the list it refers to.")


class ListDef(_Strict):
    """A list: items identified by code (or name), optionally under a parent in another level."""

    name: str
    top_level: str | None = Field(default=None, description="Name of the top-level item, if any.")
    parent_list: str | None = Field(default=None, description="Items' parents live in this list.")
    properties: list[PropertyDef] = Field(default_factory=list)
    items: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Initial items: {code, name, parent, <property>: value}.",
    )


class LineItemDef(_Strict):
    """A module line item."""

    name: str
    format: Format = "number"
    list: str | None = Field(default=None, description="For format 'list': the list it refers to.")


class ModuleDef(_Strict):
    """A module dimensioned by lists, with line items."""

    name: str
    dimensions: list[str] = Field(min_length=1, description="List names, in order.")
    line_items: list[LineItemDef] = Field(min_length=1)


class FileDef(_Strict):
    """An import data source (a `113…` file)."""

    name: str
    separator: str = ","
    delimiter: str = '"'
    header_row: int = 1
    first_data_row: int = 2
    encoding: Literal["UTF-8", "ISO-8859-1", "UTF-16LE"] = "UTF-8"


class ImportDef(_Strict):
    """An import from a file into a list (HIERARCHY_DATA) or a module (MODULE_DATA).

    `mapping` maps a target (for a list: `code`, `name`, `parent` or a property name; for a module:
    a dimension list's name or a line item's name) to a source column header.
    """

    name: str
    file: str
    target_list: str | None = None
    target_module: str | None = None
    mapping: dict[str, str]

    @model_validator(mode="after")
    def _one_target(self) -> ImportDef:
        if (self.target_list is None) == (self.target_module is None):
            raise ValueError("give exactly one of target_list and target_module")
        return self


class ExportDef(_Strict):
    """An export of a list or a module to a file whose id equals the export's id."""

    name: str
    source_list: str | None = None
    source_module: str | None = None
    format: Literal["csv", "tsv"] = "csv"

    @model_validator(mode="after")
    def _one_source(self) -> ExportDef:
        if (self.source_list is None) == (self.source_module is None):
            raise ValueError("give exactly one of source_list and source_module")
        return self


class DeleteActionDef(_Strict):
    """Delete the items of a list selected by a boolean property (or a boolean line item)."""

    name: str
    list: str
    selector: str = Field(description="Boolean property of the list, or 'Module.Line Item'.")
    select_when: bool = Field(default=True, description="Delete items whose selector equals this.")


class ProcessDef(_Strict):
    """A process: actions (by name) run in order."""

    name: str
    actions: list[str] = Field(min_length=1)


class ModelDef(_Strict):
    """A model: its structure and actions."""

    name: str
    lists: list[ListDef] = Field(default_factory=list)
    modules: list[ModuleDef] = Field(default_factory=list)
    files: list[FileDef] = Field(default_factory=list)
    imports: list[ImportDef] = Field(default_factory=list)
    exports: list[ExportDef] = Field(default_factory=list)
    delete_actions: list[DeleteActionDef] = Field(default_factory=list)
    processes: list[ProcessDef] = Field(default_factory=list)
    origin: str | None = Field(
        default=None,
        description="Name of another model this one was copied from: they share an ALM origin.",
    )


class WorkspaceDef(_Strict):
    """A workspace, who may use it, and its models."""

    name: str
    admins: list[str] = Field(default_factory=list, description="Emails of workspace admins.")
    users: list[str] = Field(default_factory=list, description="Emails of other members.")
    models: list[ModelDef] = Field(default_factory=list)


class Definition(_Strict):
    """A whole definition document."""

    users: list[UserDef] = Field(default_factory=list)
    workspaces: list[WorkspaceDef] = Field(default_factory=list)


def parse_definition(text: str, *, source: str = "<definition>") -> Definition:
    """Parse and validate a definition given as JSON or TOML text."""
    stripped = text.lstrip()
    try:
        data: Any = json.loads(text) if stripped.startswith("{") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise DefinitionError(source, [f"not valid JSON or TOML: {error}"]) from None
    try:
        return Definition.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in issue['loc']) or '<root>'}: {issue['msg']}"
            for issue in error.errors()
        ]
        raise DefinitionError(source, problems) from None


def load_definition(path: str | Path) -> Definition:
    """Read and validate a definition file (`.json` or `.toml`)."""
    file = Path(path)
    return parse_definition(file.read_text(encoding="utf-8"), source=str(file))
