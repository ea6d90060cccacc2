"""Structural edits change exactly what they say, keep references whole and refuse bad input."""

from __future__ import annotations

import pytest

from anaplan_tasks.emulator.alm.diff import diff_structures
from anaplan_tasks.emulator.alm.edits import EditError, apply_edit, apply_edits, parse_edits
from anaplan_tasks.emulator.definitions import ModelDef

from .structures import base_model, changed_model


def _apply(*edits: object) -> ModelDef:
    return apply_edits(base_model(), parse_edits(list(edits)))


def _changes(after: ModelDef) -> list[tuple[str, str, str]]:
    return [
        (change.category, change.kind, change.name)
        for change in diff_structures(base_model(), after).changes
    ]


def test_add_and_remove_a_list() -> None:
    after = _apply({"op": "addList", "list": {"name": "Channels", "top_level": "All"}})
    assert _changes(after) == [("lists", "created", "Channels")]
    assert (
        _changes(apply_edit(after, parse_edits({"op": "removeList", "name": "Channels"})[0])) == []
    )


def test_renaming_a_list_follows_every_reference() -> None:
    after = _apply({"op": "renameList", "name": "Regions", "newName": "Territories"})
    assert [single.name for single in after.lists] == ["Territories", "Products", "Cost Centers"]
    assert after.modules[0].dimensions == ["Territories", "Products"]
    assert after.modules[1].dimensions == ["Territories"]
    assert after.imports[0].mapping == {"Territories": "Region", "Units": "Units"}
    assert after.lists[0].items == base_model().lists[0].items


def test_removing_a_list_in_use_is_refused_and_names_its_users() -> None:
    with pytest.raises(EditError, match=r"'Products' is still used by module 'Revenue'.*Clear"):
        _apply({"op": "removeList", "name": "Products"})


def test_add_remove_and_rename_modules() -> None:
    after = _apply(
        {
            "op": "addModule",
            "module": {
                "name": "Pricing",
                "dimensions": ["Products"],
                "line_items": [{"name": "List Price"}],
            },
        },
        {"op": "removeModule", "name": "Headcount"},
        {"op": "renameModule", "name": "Revenue", "newName": "Sales"},
    )
    assert [module.name for module in after.modules] == ["Sales", "Pricing"]
    assert after.imports[0].target_module == "Sales"
    assert after.exports[0].source_module == "Sales"


def test_removing_a_module_an_action_uses_is_refused() -> None:
    with pytest.raises(EditError, match="import 'Load Sales', export 'Revenue Export'"):
        _apply({"op": "removeModule", "name": "Revenue"})


def test_add_remove_and_rename_line_items() -> None:
    after = _apply(
        {"op": "addLineItem", "module": "Revenue", "lineItem": {"name": "Margin"}},
        {"op": "removeLineItem", "module": "Revenue", "name": "Price"},
        {"op": "renameLineItem", "module": "Revenue", "name": "Units", "newName": "Quantity"},
    )
    assert [item.name for item in after.modules[0].line_items] == ["Quantity", "Revenue", "Margin"]
    assert after.imports[0].mapping == {"Regions": "Region", "Quantity": "Units"}
    assert sorted(_changes(after)) == [
        ("actions", "modified", "Load Sales"),
        ("lineItems", "created", "Margin"),
        ("lineItems", "created", "Quantity"),
        ("lineItems", "deleted", "Price"),
        ("lineItems", "deleted", "Units"),
    ]


def test_a_module_keeps_one_line_item() -> None:
    with pytest.raises(EditError, match="at least one line item"):
        _apply({"op": "removeLineItem", "module": "Headcount", "name": "FTE"})


def test_replace_keeps_the_models_name_and_origin() -> None:
    after = _apply({"op": "replace", "structure": changed_model().model_dump()})
    assert (after.name, after.origin) == ("FP&A Prod", "FP&A Dev")
    assert diff_structures(after, changed_model()).changes == ()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"op": "removeList", "name": "Nope"}, "no list named 'Nope'"),
        ({"op": "addList", "list": {"name": "Regions"}}, "a list named 'Regions' already exists"),
        ({"op": "renameModule", "name": "Revenue", "newName": "Headcount"}, "already exists"),
        ({"op": "addLineItem", "module": "Nope", "lineItem": {"name": "X"}}, "no module"),
        ({"op": "renameLineItem", "module": "Revenue", "name": "X", "newName": "Y"}, "line item"),
    ],
)
def test_edits_that_cannot_apply_say_why(edit: dict[str, object], message: str) -> None:
    with pytest.raises(EditError, match=message):
        _apply(edit)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"op": "explode"}, "does not match any of the expected tags"),
        ({"op": "renameList", "name": "A"}, "newName: Field required"),
        ({"op": "removeList", "name": "A", "extra": 1}, "extra: Extra inputs are not permitted"),
        ("not an edit", "edit"),
    ],
)
def test_invalid_edits_are_refused_with_the_field(data: object, message: str) -> None:
    with pytest.raises(EditError, match=message):
        parse_edits(data)


def test_a_failing_edit_in_a_batch_changes_nothing() -> None:
    model = base_model()
    edits = parse_edits(
        [{"op": "removeList", "name": "Cost Centers"}, {"op": "removeList", "name": "Nope"}]
    )
    with pytest.raises(EditError):
        apply_edits(model, edits)
    assert model == base_model()
