"""Structural edits: how a test or a person changes a model's structure in the emulator.

Anaplan's structure changes in its modelling UI; the emulator has none, so its control endpoint
`POST /_emulator/models/{modelId}/structure` takes one edit (or a list of edits) as JSON:

| `op` | Other fields | Effect |
|---|---|---|
| `addList` | `list`: a list definition | adds the list (its `items` are loaded as data) |
| `removeList` | `name` | removes a list nothing else refers to |
| `renameList` | `name`, `newName` | renames it and every reference to it |
| `addModule` | `module`: a module definition | adds the module |
| `removeModule` | `name` | removes a module no action refers to |
| `renameModule` | `name`, `newName` | renames it and every reference to it |
| `addLineItem` | `module`, `lineItem`: a line item definition | appends the line item |
| `removeLineItem` | `module`, `name` | removes it (a module keeps at least one) |
| `renameLineItem` | `module`, `name`, `newName` | renames it and every reference to it |
| `replace` | `structure`: a whole model definition | replaces it all (name, origin kept) |

Definitions use the definition format's field names (`top_level`, `line_items`, …). An edit that
cannot apply (unknown name, duplicate name, a list still in use) raises `EditError` naming the
problem, and the model is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..definitions import LineItemDef, ListDef, ModelDef, ModuleDef


class EditError(ValueError):
    """A structural edit that cannot apply; the message says why."""


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AddList(_Edit):
    """Add a list."""

    op: Literal["addList"]
    list: ListDef


class RemoveList(_Edit):
    """Remove a list that no module, list, property or action refers to."""

    op: Literal["removeList"]
    name: str


class RenameList(_Edit):
    """Rename a list and every reference to it."""

    op: Literal["renameList"]
    name: str
    new_name: str = Field(alias="newName", min_length=1)


class AddModule(_Edit):
    """Add a module."""

    op: Literal["addModule"]
    module: ModuleDef


class RemoveModule(_Edit):
    """Remove a module that no action refers to."""

    op: Literal["removeModule"]
    name: str


class RenameModule(_Edit):
    """Rename a module and every reference to it."""

    op: Literal["renameModule"]
    name: str
    new_name: str = Field(alias="newName", min_length=1)


class AddLineItem(_Edit):
    """Append a line item to a module."""

    op: Literal["addLineItem"]
    module: str
    line_item: LineItemDef = Field(alias="lineItem")


class RemoveLineItem(_Edit):
    """Remove a line item (a module keeps at least one)."""

    op: Literal["removeLineItem"]
    module: str
    name: str


class RenameLineItem(_Edit):
    """Rename a line item and every reference to it."""

    op: Literal["renameLineItem"]
    module: str
    name: str
    new_name: str = Field(alias="newName", min_length=1)


class Replace(_Edit):
    """Replace the whole structure (the model keeps its name and origin)."""

    op: Literal["replace"]
    structure: ModelDef


StructureEdit = Annotated[
    AddList
    | RemoveList
    | RenameList
    | AddModule
    | RemoveModule
    | RenameModule
    | AddLineItem
    | RemoveLineItem
    | RenameLineItem
    | Replace,
    Field(discriminator="op"),
]
"""One structural edit, told apart by its `op`."""

_EDITS: TypeAdapter[list[StructureEdit]] = TypeAdapter(list[StructureEdit])


def parse_edits(data: Any) -> list[StructureEdit]:
    """Validate one edit (a JSON object) or several (a JSON array).

    Raises:
        EditError: The JSON is not a valid edit; the message names the field.
    """
    items = data if isinstance(data, list) else [data]
    try:
        return _EDITS.validate_python(items)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in issue['loc'][1:]) or 'edit'}: {issue['msg']}"
            for issue in error.errors()[:5]
        ]
        raise EditError("invalid structural edit: " + "; ".join(problems)) from None


def apply_edits(model: ModelDef, edits: Sequence[StructureEdit]) -> ModelDef:
    """Apply edits in order; all of them or, on the first error, none."""
    for edit in edits:
        model = apply_edit(model, edit)
    return model


def apply_edit(model: ModelDef, edit: StructureEdit) -> ModelDef:
    """The model's definition after one edit.

    Raises:
        EditError: The edit cannot apply (unknown or duplicate name, object still in use).
    """
    data = model.model_dump()
    if isinstance(edit, Replace):
        data = {**edit.structure.model_dump(), "name": model.name, "origin": model.origin}
    elif isinstance(edit, AddList):
        _must_be_new("list", edit.list.name, data["lists"])
        data["lists"].append(edit.list.model_dump())
    elif isinstance(edit, RemoveList):
        _find("list", edit.name, data["lists"])
        users = _list_users(data, edit.name)
        if users:
            raise EditError(f"list {edit.name!r} is still used by {', '.join(users)}")
        data["lists"] = [item for item in data["lists"] if item["name"] != edit.name]
    elif isinstance(edit, RenameList):
        _find("list", edit.name, data["lists"])
        _must_be_new("list", edit.new_name, data["lists"])
        _rename_list(data, edit.name, edit.new_name)
    elif isinstance(edit, AddModule):
        _must_be_new("module", edit.module.name, data["modules"])
        data["modules"].append(edit.module.model_dump())
    elif isinstance(edit, RemoveModule):
        _find("module", edit.name, data["modules"])
        users = _module_users(data, edit.name)
        if users:
            raise EditError(f"module {edit.name!r} is still used by {', '.join(users)}")
        data["modules"] = [item for item in data["modules"] if item["name"] != edit.name]
    elif isinstance(edit, RenameModule):
        _find("module", edit.name, data["modules"])
        _must_be_new("module", edit.new_name, data["modules"])
        _rename_module(data, edit.name, edit.new_name)
    elif isinstance(edit, AddLineItem):
        module = _find("module", edit.module, data["modules"])
        _must_be_new(f"line item of {edit.module!r}", edit.line_item.name, module["line_items"])
        module["line_items"].append(edit.line_item.model_dump())
    elif isinstance(edit, RemoveLineItem):
        module = _find("module", edit.module, data["modules"])
        _find(f"line item of {edit.module!r}", edit.name, module["line_items"])
        if len(module["line_items"]) == 1:
            raise EditError(f"module {edit.module!r} must keep at least one line item")
        module["line_items"] = [i for i in module["line_items"] if i["name"] != edit.name]
    elif isinstance(edit, RenameLineItem):
        module = _find("module", edit.module, data["modules"])
        item = _find(f"line item of {edit.module!r}", edit.name, module["line_items"])
        _must_be_new(f"line item of {edit.module!r}", edit.new_name, module["line_items"])
        item["name"] = edit.new_name
        _rename_line_item_references(data, edit.module, edit.name, edit.new_name)
    try:
        return ModelDef.model_validate(data)
    except ValidationError as error:  # pragma: no cover - edits keep definitions valid
        raise EditError(f"the edit would make an invalid model: {error}") from None


def _find(kind: str, name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    for item in items:
        if item["name"] == name:
            return item
    raise EditError(f"no {kind} named {name!r}")


def _must_be_new(kind: str, name: str, items: list[dict[str, Any]]) -> None:
    if any(item["name"] == name for item in items):
        raise EditError(f"a {kind} named {name!r} already exists")


def _list_users(data: dict[str, Any], name: str) -> list[str]:
    users = [f"module {m['name']!r}" for m in data["modules"] if name in m["dimensions"]]
    users += [
        f"line item {m['name']}.{i['name']}"
        for m in data["modules"]
        for i in m["line_items"]
        if i.get("list") == name
    ]
    for single in data["lists"]:
        if single["parent_list"] == name:
            users.append(f"list {single['name']!r} (parent)")
        users += [
            f"property {single['name']}.{p['name']}"
            for p in single["properties"]
            if p.get("list") == name
        ]
    users += [f"import {a['name']!r}" for a in data["imports"] if a["target_list"] == name]
    users += [f"export {a['name']!r}" for a in data["exports"] if a["source_list"] == name]
    users += [f"action {a['name']!r}" for a in data["delete_actions"] if a["list"] == name]
    return users


def _module_users(data: dict[str, Any], name: str) -> list[str]:
    users = [f"import {a['name']!r}" for a in data["imports"] if a["target_module"] == name]
    users += [f"export {a['name']!r}" for a in data["exports"] if a["source_module"] == name]
    users += [
        f"action {a['name']!r}"
        for a in data["delete_actions"]
        if a["selector"].startswith(f"{name}.")
    ]
    return users


def _rename_list(data: dict[str, Any], old: str, new: str) -> None:
    for single in data["lists"]:
        if single["name"] == old:
            single["name"] = new
        if single["parent_list"] == old:
            single["parent_list"] = new
        for prop in single["properties"]:
            if prop.get("list") == old:
                prop["list"] = new
    for module in data["modules"]:
        module["dimensions"] = [new if dim == old else dim for dim in module["dimensions"]]
        for item in module["line_items"]:
            if item.get("list") == old:
                item["list"] = new
    for action in data["imports"]:
        if action["target_list"] == old:
            action["target_list"] = new
        if action["target_module"] is not None:  # a module import maps dimension lists by name
            action["mapping"] = {
                (new if key == old else key): value for key, value in action["mapping"].items()
            }
    for action in data["exports"]:
        if action["source_list"] == old:
            action["source_list"] = new
    for action in data["delete_actions"]:
        if action["list"] == old:
            action["list"] = new


def _rename_module(data: dict[str, Any], old: str, new: str) -> None:
    _find("module", old, data["modules"])["name"] = new
    for action in data["imports"]:
        if action["target_module"] == old:
            action["target_module"] = new
    for action in data["exports"]:
        if action["source_module"] == old:
            action["source_module"] = new
    for action in data["delete_actions"]:
        if action["selector"].startswith(f"{old}."):
            action["selector"] = new + action["selector"][len(old) :]


def _rename_line_item_references(data: dict[str, Any], module: str, old: str, new: str) -> None:
    for action in data["imports"]:
        if action["target_module"] == module:
            action["mapping"] = {
                (new if key == old else key): value for key, value in action["mapping"].items()
            }
    for action in data["delete_actions"]:
        if action["selector"] == f"{module}.{old}":
            action["selector"] = f"{module}.{new}"
