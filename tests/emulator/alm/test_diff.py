"""The structural difference lists exactly the changes made, and nothing for data or names."""

from __future__ import annotations

from anaplan_tasks.emulator.alm.diff import (
    PROPERTY_ADDED,
    Change,
    FieldChange,
    diff_structures,
    same_structure,
    structure_of,
)
from anaplan_tasks.emulator.definitions import ModelDef, OptimizerDef

from .structures import EXPECTED, base_model, changed_model


def _key(change: Change) -> str:
    if change.category == "lineItems":
        return f"{change.parent}/{change.name}"
    if change.category == "actions":
        return f"{change.action_kind}/{change.name}"
    return change.name


def _as_table(changes: tuple[Change, ...]) -> dict[str, dict[str, set[str]]]:
    table: dict[str, dict[str, set[str]]] = {}
    for change in changes:
        table.setdefault(change.category, {}).setdefault(change.kind, set()).add(_key(change))
    return table


def test_diff_lists_exactly_the_changes_made() -> None:
    diff = diff_structures(base_model(), changed_model())
    assert _as_table(diff.changes) == EXPECTED


def test_the_reverse_diff_swaps_created_and_deleted() -> None:
    forward = _as_table(diff_structures(base_model(), changed_model()).changes)
    backward = _as_table(diff_structures(changed_model(), base_model()).changes)
    swap = {"created": "deleted", "deleted": "created", "modified": "modified"}
    assert backward == {
        category: {swap[kind]: names for kind, names in kinds.items()}
        for category, kinds in forward.items()
    }


def test_modified_objects_say_what_differs_old_then_new() -> None:
    diff = diff_structures(base_model(), changed_model())
    regions = next(change for change in diff.of("lists", "modified"))
    assert set(regions.fields) == {
        FieldChange("Top Level", "Total Region", "All Regions"),
        FieldChange("Data Type", "Text", "List (Employees)", subject="Manager"),
        FieldChange(PROPERTY_ADDED, "-", "Text", subject="Currency"),
    }
    (revenue,) = diff.of("modules", "modified")
    assert revenue.fields == (
        FieldChange("Applies To", "Regions, Products", "Regions, Products, Channels"),
    )
    (price,) = diff.of("lineItems", "modified")
    assert price.fields == (FieldChange("Data Type", "Number", "Text"),)
    (load,) = diff.of("actions", "modified")
    assert load.fields == (
        FieldChange("Mapping", "Regions=Region; Units=Units", "Regions=Region; Units=Quantity"),
    )
    (nightly,) = diff.of("processes", "modified")
    assert nightly.fields == (FieldChange("Actions", "Load Sales, Revenue Export", "Load Sales"),)
    (sales,) = diff.of("importDataSources", "modified")
    assert sales.fields == (FieldChange("Separator", ",", ";"),)


def test_created_objects_carry_their_definition() -> None:
    diff = diff_structures(base_model(), changed_model())
    (channels,) = diff.of("lists", "created")
    assert channels.definition == changed_model().lists[2]


def test_counts_and_totals_equal_the_changes() -> None:
    diff = diff_structures(base_model(), changed_model())
    counts = {category: counts.to_wire() for category, counts in diff.counts().items()}
    assert counts == {
        category: {kind: len(names) for kind, names in kinds.items()}
        for category, kinds in EXPECTED.items()
    }
    assert diff.totals().to_wire() == {"created": 8, "modified": 6, "deleted": 5}


def test_zero_counters_and_unchanged_categories_are_left_out() -> None:
    base = base_model()
    one_list = base.model_copy(update={"lists": [*base.lists, *changed_model().lists[2:]]})
    diff = diff_structures(base, one_list)
    assert {key: value.to_wire() for key, value in diff.counts().items()} == {
        "lists": {"created": 1}
    }
    assert diff.totals().to_wire() == {"created": 1}


def test_data_names_origin_and_order_are_not_structure() -> None:
    base = base_model()
    other = base.model_copy(
        update={
            "name": "Another",
            "origin": None,
            "lists": [
                base.lists[1],
                base.lists[0].model_copy(update={"items": []}),
                base.lists[2],
            ],
            "modules": list(reversed(base.modules)),
        }
    )
    assert same_structure(base, other)
    assert not diff_structures(base, other)
    assert len(diff_structures(base, other)) == 0


def test_dimension_order_is_structure() -> None:
    base = base_model()
    revenue = base.modules[0]
    swapped = revenue.model_copy(update={"dimensions": ["Products", "Regions"]})
    other = base.model_copy(update={"modules": [swapped, base.modules[1]]})
    (change,) = diff_structures(base, other).changes
    assert (change.category, change.kind, change.name) == ("modules", "modified", "Revenue")


def test_a_rename_is_a_deletion_and_a_creation() -> None:
    base = base_model()
    renamed = base.lists[2].model_copy(update={"name": "Cost Centres"})
    other = base.model_copy(update={"lists": [*base.lists[:2], renamed]})
    diff = diff_structures(base, other)
    assert [(change.kind, change.name) for change in diff.changes] == [
        ("created", "Cost Centres"),
        ("deleted", "Cost Centers"),
    ]


def test_an_action_that_changes_kind_is_deleted_and_created() -> None:
    base = base_model()
    data = base.model_dump()
    data["exports"] = []
    data["delete_actions"].append(
        {"name": "Revenue Export", "list": "Products", "selector": "Discontinued"}
    )
    other = ModelDef.model_validate(data)
    diff = diff_structures(base, other)
    assert [(change.kind, change.action_kind, change.name) for change in diff.changes] == [
        ("created", "Delete", "Revenue Export"),
        ("deleted", "Export", "Revenue Export"),
    ]


def test_structure_of_drops_list_items_only() -> None:
    base = base_model()
    structure = structure_of(base)
    assert all(single.items == [] for single in structure.lists)
    assert structure.model_copy(update={"lists": base.lists}) == base
    assert same_structure(base, structure)


def test_list_kinds_and_optimizer_actions_are_structure() -> None:
    old = base_model()
    regions = old.lists[0].model_copy(update={"subsets": ["Active"], "selective_access": True})
    module = old.modules[0]
    line_item = next(li for li in module.line_items if li.format == "number")
    optimizer = {"name": "Plan", "module": module.name, "objective": line_item.name}
    new = old.model_copy(
        update={
            "lists": [regions, *old.lists[1:]],
            "optimizer_actions": [OptimizerDef.model_validate(optimizer)],
        }
    )
    diff = diff_structures(old, new)
    table = _as_table(diff.changes)
    assert table["actions"] == {"created": {"Optimizer/Plan"}}
    assert table["lists"] == {"modified": {"Regions"}}
    changed = next(c for c in diff.changes if c.category == "lists")
    assert [(f.setting, f.old, f.new) for f in changed.fields] == [
        ("Subsets", "-", "Active"),
        ("Selective Access", "false", "true"),
    ]
