"""The engine's core: structure versions for ALM, model states, definitions loaded at runtime."""

from __future__ import annotations

import pytest

from anaplan_tasks.emulator import errors
from anaplan_tasks.emulator.definitions import DefinitionError, LineItemDef, ListDef, PropertyDef
from anaplan_tasks.emulator.demo import UNRELEASED_LIST, generate_employees_csv
from anaplan_tasks.emulator.engine import EmulatorEngine
from anaplan_tasks.emulator.engine.contract import Page, TaskStart

from .conftest import DemoModel


def test_structure_has_no_data_and_a_version(dev: DemoModel) -> None:
    engine = dev.engine
    structure = engine.structure(dev.model_id)
    assert [lst.name for lst in structure.lists] == ["Regions", "Employees", UNRELEASED_LIST]
    assert all(lst.items == [] for lst in structure.lists)
    assert engine.structure_version(dev.model_id) == 1
    regions = [code for code, *_ in engine.model_data(dev.model_id).items("Regions")]
    assert regions == ["NA", "EMEA", "APAC", "LATAM"]  # the initial items are data


def test_replacing_structure_keeps_data_by_name_and_ids_by_name(dev: DemoModel) -> None:
    engine = dev.engine
    dev.upload(b"".join(generate_employees_csv(20)))
    dev.run("imports", "Load Employees")
    dev.run("imports", "Load Headcount")
    before_items = dev.items()
    old = engine.structure(dev.model_id)

    employees = old.lists[1]
    new_employees = employees.model_copy(
        update={"properties": [*employees.properties, PropertyDef(name="Grade")]}
    )
    headcount = old.modules[0]
    new_headcount = headcount.model_copy(
        update={
            "line_items": [li for li in headcount.line_items if li.name != "FTE"]
            + [LineItemDef(name="Bonus")]
        }
    )
    new = old.model_copy(
        update={
            "lists": [old.lists[0], new_employees, ListDef(name="Grades")],
            "modules": [new_headcount],
            "delete_actions": [],
            "processes": [],
        }
    )
    engine.replace_structure(dev.model_id, new)

    assert engine.structure_version(dev.model_id) == 2
    assert engine.structure(dev.model_id) == new
    assert dev.items() == before_items
    assert len(dev.cells()) == 20
    ids = {i.name: i.id for i in engine.imports(dev.principal, dev.model_id, Page()).items}
    assert ids == {
        "Load Employees": dev.ids["Load Employees"],
        "Load Headcount": dev.ids["Load Headcount"],
    }
    assert engine.actions(dev.principal, dev.model_id, Page()).items == []
    export = dev.run("exports", "Headcount Export")
    assert export.result.successful is True
    content = b"".join(engine.read_file(dev.principal, dev.model_id, dev.ids["Headcount Export"]))
    assert content.splitlines()[0] == b"Employees,Salary,Start Date,Bonus"


@pytest.mark.parametrize(
    ("state", "active_state", "error"),
    [
        ("LOCKED", "LOCKED", errors.ModelLocked),
        ("ARCHIVED", "ARCHIVED", errors.ModelArchived),
        ("OFFLINE", "MAINTENANCE", errors.ModelOffline),
    ],
)
def test_a_model_that_is_not_unlocked_runs_nothing(
    dev: DemoModel, state: str, active_state: str, error: type[errors.EmulatorError]
) -> None:
    dev.engine.set_model_state(dev.model_id, state)
    assert dev.engine.model(dev.principal, dev.model_id).active_state == active_state
    with pytest.raises(error):
        dev.engine.start_task(
            dev.principal, dev.model_id, "exports", dev.ids["Headcount Export"], TaskStart("en_US")
        )


def test_load_definition_adds_a_workspace_for_known_users(engine: EmulatorEngine) -> None:
    engine.load_definition(
        '[[workspaces]]\nname = "Extra"\nusers = ["demo@example.com"]\n'
        '[[workspaces.models]]\nname = "Scratch"\n',
        source="extra.toml",
    )
    principal = engine.authenticate_basic("demo@example.com", "demo")
    assert principal is not None
    names = [w.name for w in engine.workspaces(principal, Page()).items]
    assert names == ["Demo Workspace", "Extra"]
    assert not engine.is_workspace_admin(
        principal, engine.workspaces(principal, Page()).items[1].id
    )


def test_a_bad_definition_changes_nothing(engine: EmulatorEngine) -> None:
    with pytest.raises(DefinitionError, match=r"^extra.toml: workspaces\[0\].users\[0\]"):
        engine.load_definition(
            '[[workspaces]]\nname = "Extra"\nusers = ["ghost@example.com"]\n', source="extra.toml"
        )
    principal = engine.authenticate_basic("demo@example.com", "demo")
    assert principal is not None
    assert [w.name for w in engine.workspaces(principal, Page()).items] == ["Demo Workspace"]


def test_a_user_sees_only_granted_workspaces(engine: EmulatorEngine) -> None:
    engine.load_definition(
        '[[users]]\nemail = "solo@example.com"\npassword = "s"\n'
        '[[workspaces]]\nname = "Solo"\nadmins = ["solo@example.com"]\n'
        '[[workspaces.models]]\nname = "Mine"\n',
        source="solo.toml",
    )
    solo = engine.authenticate_basic("solo@example.com", "s")
    demo = engine.authenticate_basic("demo@example.com", "demo")
    assert solo is not None
    assert demo is not None
    (mine,) = engine.models(solo, None, Page()).items
    assert [w.name for w in engine.workspaces(solo, Page()).items] == ["Solo"]
    with pytest.raises(errors.NotFound):
        engine.model(demo, mine.id)
    assert engine.tasks(demo, mine.id, "imports", "112000000000", Page()).items == []


def test_certificate_authentication_matches_the_registered_pem(engine: EmulatorEngine) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n"
    engine.load_definition(
        '{"users": [{"email": "cert@example.com", "certificate_pem": '
        + repr(pem).replace("'", '"')
        + "}]}",
        source="cert.json",
    )
    found = engine.authenticate_certificate(pem.replace("\n", "\r\n").encode())
    assert found is not None
    assert found.email == "cert@example.com"
    assert engine.authenticate_certificate(b"-----BEGIN CERTIFICATE-----\nWFla\n-----END") is None
    assert engine.authenticate_basic("cert@example.com", "") is None


def test_earlier_structure_versions_stay_readable(dev: DemoModel) -> None:
    engine = dev.engine
    first = engine.structure(dev.model_id)
    engine.replace_structure(dev.model_id, first.model_copy(update={"processes": []}))
    assert engine.structure(dev.model_id, 1) == first
    assert engine.structure(dev.model_id).processes == []
    with pytest.raises(errors.NotFound):
        engine.structure(dev.model_id, 9)


def test_cells_of_an_older_dimension_shape_are_left_out(dev: DemoModel) -> None:
    engine = dev.engine
    dev.upload(b"".join(generate_employees_csv(5)))
    dev.run("imports", "Load Employees")
    dev.run("imports", "Load Headcount")
    old = engine.structure(dev.model_id)
    headcount = old.modules[0].model_copy(update={"dimensions": ["Employees", "Regions"]})
    engine.replace_structure(
        dev.model_id, old.model_copy(update={"modules": [headcount], "processes": []})
    )
    assert dev.run("exports", "Headcount Export").result.successful is True
    content = b"".join(engine.read_file(dev.principal, dev.model_id, dev.ids["Headcount Export"]))
    assert content.splitlines() == [b"Employees,Regions,Salary,FTE,Start Date"]
    assert dev.run("actions", "Remove Inactive Employees").result.successful is True
