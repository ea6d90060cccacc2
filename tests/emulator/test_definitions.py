"""Definition files: schema and cross-reference errors name the file, the path and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.emulator.definitions import DefinitionError, load_definition, parse_definition


def model(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "M",
        "lists": [
            {"name": "Regions"},
            {
                "name": "Employees",
                "properties": [
                    {"name": "Region", "format": "list", "list": "Regions"},
                    {"name": "Active", "format": "boolean"},
                ],
            },
        ],
        "modules": [
            {
                "name": "Headcount",
                "dimensions": ["Employees"],
                "line_items": [{"name": "Salary"}, {"name": "Leaver", "format": "boolean"}],
            }
        ],
        "files": [{"name": "e.csv"}],
        "imports": [
            {
                "name": "Load",
                "file": "e.csv",
                "target_list": "Employees",
                "mapping": {"code": "Id", "Region": "Region"},
            }
        ],
        "exports": [{"name": "Out", "source_module": "Headcount"}],
        "delete_actions": [{"name": "Purge", "list": "Employees", "selector": "Active"}],
        "processes": [{"name": "All", "actions": ["Load", "Out", "Purge"]}],
    }
    base.update(parts)
    return base


def document(*models: dict[str, Any], **extra: Any) -> str:
    data: dict[str, Any] = {
        "users": [{"email": "a@example.com", "password": "x"}],
        "workspaces": [{"name": "W", "admins": ["a@example.com"], "models": list(models)}],
    }
    data.update(extra)
    return json.dumps(data)


def problems(text: str, source: str = "plan.json") -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, source=source)
    assert all(line.startswith(f"{source}: ") for line in str(caught.value).splitlines())
    return caught.value.problems


def test_a_good_definition_loads() -> None:
    definition = parse_definition(document(model()))
    assert definition.workspaces[0].models[0].imports[0].name == "Load"


def test_mapping_target_that_does_not_exist() -> None:
    bad = model()
    bad["imports"][0]["mapping"]["Regoin"] = "Region"
    assert problems(document(bad)) == [
        "workspaces[0].models[0].imports[0].mapping.Regoin: list 'Employees' has no property "
        "'Regoin' (targets: code, name, parent or a property)"
    ]


def test_unknown_names_are_each_reported() -> None:
    bad = model(
        imports=[
            {"name": "Load", "file": "missing.csv", "target_module": "Nope", "mapping": {"x": "y"}}
        ],
        exports=[{"name": "Out", "source_list": "Ghosts"}],
        processes=[{"name": "All", "actions": ["Load", "Vanish"]}],
    )
    found = problems(document(bad))
    assert "workspaces[0].models[0].imports[0].file: unknown file 'missing.csv'" in found
    assert "workspaces[0].models[0].imports[0].target_module: unknown module 'Nope'" in found
    assert "workspaces[0].models[0].exports[0].source_list: unknown list 'Ghosts'" in found
    assert "workspaces[0].models[0].processes[0].actions[1]: unknown action 'Vanish'" in found


def test_duplicate_names() -> None:
    bad = model(exports=[{"name": "Load", "source_module": "Headcount"}])
    bad["lists"].append({"name": "Regions"})
    found = problems(document(bad, model(name="M")))
    assert "workspaces[0].models[1].name: duplicate model name 'M'" in found
    assert "workspaces[0].models[0].lists[2].name: duplicate list name 'Regions'" in found
    assert any(
        p.startswith("workspaces[0].models[0].exports[0].name: duplicate action") for p in found
    )


def test_module_and_property_references() -> None:
    bad = model(
        modules=[
            {
                "name": "Headcount",
                "dimensions": ["Employees", "Months"],
                "line_items": [{"name": "Team", "format": "list"}],
            }
        ],
        exports=[],
        processes=[],
    )
    bad["lists"][1]["properties"].append({"name": "Boss", "format": "list", "list": "Bosses"})
    found = problems(document(bad))
    assert "workspaces[0].models[0].modules[0].dimensions[1]: unknown list 'Months'" in found
    assert (
        "workspaces[0].models[0].modules[0].line_items[0].list: format 'list' needs the name of "
        "a list" in found
    )
    assert "workspaces[0].models[0].lists[1].properties[2].list: unknown list 'Bosses'" in found


def test_delete_selector_must_be_boolean() -> None:
    bad = model(
        delete_actions=[
            {"name": "Purge", "list": "Employees", "selector": "Region"},
            {"name": "Purge 2", "list": "Employees", "selector": "Headcount.Salary"},
            {"name": "Purge 3", "list": "Employees", "selector": "Headcount.Leaver"},
        ]
    )
    found = problems(document(bad))
    assert found == [
        "workspaces[0].models[0].delete_actions[0].selector: property 'Region' is not boolean",
        "workspaces[0].models[0].delete_actions[1].selector: line item 'Salary' is not boolean",
    ]


def test_unknown_users_and_origins() -> None:
    text = json.dumps(
        {
            "users": [{"email": "a@example.com"}],
            "workspaces": [
                {
                    "name": "W",
                    "admins": ["a@example.com"],
                    "users": ["ghost@example.com"],
                    "models": [{"name": "Prod", "origin": "Dev"}],
                }
            ],
        }
    )
    assert problems(text) == [
        "workspaces[0].users[0]: unknown user 'ghost@example.com'",
        "workspaces[0].models[0].origin: unknown model 'Dev'",
    ]


def test_users_defined_earlier_may_be_granted() -> None:
    text = json.dumps({"workspaces": [{"name": "W", "admins": ["old@example.com"]}]})
    definition = parse_definition(text, known_users=["old@example.com"])
    assert definition.workspaces[0].admins == ["old@example.com"]


def test_file_layout_problems() -> None:
    bad = model(files=[{"name": "e.csv", "separator": ";;", "header_row": 2, "first_data_row": 2}])
    assert problems(document(bad)) == [
        "workspaces[0].models[0].files[0].separator: must be one character, got ';;'",
        "workspaces[0].models[0].files[0].first_data_row: must come after the header row",
    ]


def test_schema_errors_use_the_same_path_style() -> None:
    bad = model()
    bad["imports"][0]["target_module"] = "Headcount"
    bad["lists"][0]["colour"] = "red"
    found = problems(document(bad))
    assert "workspaces[0].models[0].lists[0].colour: Extra inputs are not permitted" in found
    assert any(p.startswith("workspaces[0].models[0].imports[0]: Value error") for p in found)


def test_load_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('[[workspaces]]\nname = "W"\nadmins = ["nobody@example.com"]\n')
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert (
        str(caught.value) == f"{path}: workspaces[0].admins[0]: unknown user 'nobody@example.com'"
    )


def test_unreadable_text() -> None:
    assert problems("[[workspaces]\nname=", source="broken.toml")[0].startswith(
        "not valid JSON or TOML"
    )


def test_roles_and_members_are_checked() -> None:
    text = document(
        model(
            roles=[
                {"name": "Loader", "actions": ["Load", "Nope"], "files": ["missing.csv"]},
                {"name": "No Access"},
                {"name": "Loader"},
            ],
            members={
                "a@example.com": "Loader",
                "stranger@example.com": "Full Access",
                "A@EXAMPLE.COM": "Boss",
            },
        )
    )
    assert problems(text) == [
        "workspaces[0].models[0].roles[2].name: duplicate role name 'Loader'",
        "workspaces[0].models[0].roles[0].actions[1]: unknown action 'Nope'",
        "workspaces[0].models[0].roles[0].files[0]: unknown file 'missing.csv'",
        "workspaces[0].models[0].roles[1].name: 'No Access' is a built-in role",
        "workspaces[0].models[0].members.stranger@example.com: not a member of the workspace",
        "workspaces[0].models[0].members.A@EXAMPLE.COM: unknown role 'Boss'",
    ]


def test_a_role_may_name_any_kind_of_action() -> None:
    text = document(
        model(
            roles=[{"name": "Ops", "actions": ["Load", "Out", "Purge", "All"], "files": ["e.csv"]}],
            members={"a@example.com": "Ops"},
        )
    )
    loaded = parse_definition(text)
    assert loaded.workspaces[0].models[0].members == {"a@example.com": "Ops"}


def test_time_and_versions_are_dimensions_and_reserved_names() -> None:
    good = model(
        modules=[
            {
                "name": "Headcount",
                "dimensions": ["Employees", "Time", "Versions"],
                "line_items": [{"name": "Salary"}],
                "views": [
                    {
                        "name": "By Month",
                        "rows": ["Employees"],
                        "columns": ["Time"],
                        "pages": ["Versions", "Line Items"],
                    }
                ],
            }
        ],
        exports=[],
        processes=[],
    )
    loaded = parse_definition(document(good))
    assert loaded.workspaces[0].models[0].modules[0].dimensions[1:] == ["Time", "Versions"]
    bad = model()
    bad["lists"].append({"name": "Time"})
    bad["modules"][0]["dimensions"] = ["Employees", "Versions", "Versions"]
    found = problems(document(bad))
    assert (
        "workspaces[0].models[0].lists[2].name: 'Time' is reserved for a built-in dimension"
        in found
    )
    assert "workspaces[0].models[0].modules[0].dimensions: a dimension appears twice" in found
