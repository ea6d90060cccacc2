"""Model roles decided from a structure, and kept by a structure change (an ALM sync)."""

from __future__ import annotations

import pytest

from anaplan_tasks.emulator import errors
from anaplan_tasks.emulator.definitions import (
    FileDef,
    ImportDef,
    ListDef,
    ModelDef,
    ProcessDef,
    RoleDef,
)
from anaplan_tasks.emulator.engine.access import access_of
from anaplan_tasks.emulator.engine.contract import TaskStart

from .conftest import DemoModel

SHOP = ModelDef(
    name="Shop",
    lists=[ListDef(name="Products")],
    files=[FileDef(name="a.csv"), FileDef(name="b.csv"), FileDef(name="c.csv")],
    imports=[
        ImportDef(name="Load A", file="a.csv", target_list="Products", mapping={"code": "x"}),
        ImportDef(name="Load B", file="b.csv", target_list="Products", mapping={"code": "x"}),
    ],
    processes=[ProcessDef(name="Both", actions=["Load A", "Load B"])],
    roles=[
        RoleDef(name="A only", actions=["Load A"]),
        RoleDef(name="Process", actions=["Both"], files=["c.csv"]),
    ],
    members={"a@x.com": "A only", "p@x.com": "Process", "n@x.com": "No Access"},
)


def test_rights_follow_the_role() -> None:
    only_a = access_of(SHOP, "A@X.COM", admin=False)  # emails match in any case
    assert (only_a.may_run("Load A"), only_a.may_run("Load B"), only_a.may_run("Both")) == (
        True,
        False,
        False,
    )
    assert (only_a.may_upload("a.csv"), only_a.may_upload("b.csv")) == (True, False)
    assert not only_a.may_create_files
    process = access_of(SHOP, "p@x.com", admin=False)
    assert process.may_run("Both")
    assert not process.may_run("Load A")
    assert all(process.may_upload(name) for name in ("a.csv", "b.csv", "c.csv"))
    hidden = access_of(SHOP, "n@x.com", admin=False)
    assert not hidden.visible
    assert not hidden.may_run("Load A")
    full = access_of(SHOP, "someone@x.com", admin=False)
    assert full.may_run("Both")
    assert full.may_create_files
    assert not full.may_cancel_others
    admin = access_of(SHOP, "n@x.com", admin=True)  # an admin, whatever members says
    assert admin.visible
    assert admin.may_run("Load B")
    assert admin.may_cancel_others


def test_a_structure_change_keeps_who_has_which_role(prod: DemoModel, dev: DemoModel) -> None:
    engine = prod.engine
    before = engine.catalog_of(prod.model_id).structure.members
    assert before == {"viewer@example.com": "Viewer"}
    incoming = engine.structure(dev.model_id).model_copy(
        update={"members": {"viewer@example.com": "Full Access"}}
    )
    engine.replace_structure(prod.model_id, incoming)  # what an ALM sync does
    assert engine.catalog_of(prod.model_id).structure.members == before
    viewer = engine.authenticate_basic("viewer@example.com", "viewer")
    assert viewer is not None
    with pytest.raises(errors.Forbidden):
        engine.start_task(
            viewer, prod.model_id, "imports", prod.ids["Load Employees"], TaskStart("en_US")
        )


def test_a_role_that_a_sync_removed_leaves_no_access() -> None:
    without_roles = SHOP.model_copy(update={"roles": []})
    assert not access_of(without_roles, "a@x.com", admin=False).visible
    assert access_of(without_roles, "someone@x.com", admin=False).full
