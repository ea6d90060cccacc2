"""Exports, delete actions, processes and dump lifetime."""

from __future__ import annotations

import csv
import io

import pytest

from anaplan_tasks.emulator import errors
from anaplan_tasks.emulator.demo import bad_rows_of, generate_employees_csv
from anaplan_tasks.emulator.engine.contract import Page

from .conftest import DemoModel

HEADER = b"Employee ID,Name,Region,Start Date,Active,Salary,FTE\n"
SMALL = HEADER + (
    b"E1,Ada,NA,2020-01-01,true,50000,1\n"
    b"E2,Ben,EMEA,2021-06-30,false,60000.5,0.5\n"
    b"E3,Cy,APAC,2022-01-01,true,70000,1\n"
)


def exported(dev: DemoModel) -> list[list[str]]:
    content = b"".join(
        dev.engine.read_file(dev.principal, dev.model_id, dev.ids["Headcount Export"])
    )
    return list(csv.reader(io.StringIO(content.decode())))


def test_export_writes_current_data_to_the_export_file(dev: DemoModel) -> None:
    dev.upload(SMALL)
    dev.run("imports", "Load Employees")
    dev.run("imports", "Load Headcount")

    task = dev.run("exports", "Headcount Export")

    detail = task.result.details[0]
    assert detail.type == "exportSucceeded"
    assert task.result.failure_dump_available is False
    assert exported(dev) == [
        ["Employees", "Salary", "FTE", "Start Date"],
        ["E1", "50000", "1", "2020-01-01"],
        ["E2", "60000.5", "0.5", "2021-06-30"],
        ["E3", "70000", "1", "2022-01-01"],
    ]
    size = len(
        b"".join(dev.engine.read_file(dev.principal, dev.model_id, dev.ids["Headcount Export"]))
    )
    assert detail.value_map == {"exportName": "Headcount Export", "fileSize": size}
    metadata = dev.engine.export_metadata(dev.principal, dev.model_id, dev.ids["Headcount Export"])
    assert metadata.header_names == ["Employees", "Salary", "FTE", "Start Date"]
    assert metadata.row_count == 3


def test_export_output_is_private_to_the_user_who_ran_it(dev: DemoModel) -> None:
    dev.run("exports", "Headcount Export")
    viewer = dev.engine.authenticate_basic("viewer@example.com", "viewer")
    assert viewer is not None
    with pytest.raises(errors.NotFound):
        dev.engine.read_file(viewer, dev.model_id, dev.ids["Headcount Export"])


def test_delete_action_removes_selected_items_and_their_cells(dev: DemoModel) -> None:
    dev.upload(SMALL)
    dev.run("imports", "Load Employees")
    dev.run("imports", "Load Headcount")

    task = dev.run("actions", "Remove Inactive Employees")

    detail = task.result.details[0]
    assert detail.type == "deleteFromSelectionSucceeded"
    assert detail.value_map == {
        "affectedItems": 1,
        "targetName": "Employees",
        "filterName": "Active",
    }
    assert [item[0] for item in dev.items()] == ["E1", "E3"]
    assert [key for key, _ in dev.cells()] == [("E1",), ("E3",)]


def test_process_runs_its_actions_in_order_with_nested_results(dev: DemoModel) -> None:
    rows, bad = 200, 4
    dev.upload(b"".join(generate_employees_csv(rows, bad)))

    task = dev.run("processes", "Nightly Load")

    nested = task.result.nested_results
    assert [r.object_id for r in nested] == [
        dev.ids["Load Employees"],
        dev.ids["Load Headcount"],
        dev.ids["Remove Inactive Employees"],
        dev.ids["Headcount Export"],
    ]
    assert task.result.object_id == dev.ids["Nightly Load"]
    assert task.result.failure_dump_available is True
    assert [r.failure_dump_available for r in nested] == [True, True, False, False]
    assert [r.details[0].type for r in nested] == [
        "hierarchyRowsProcessedWithFailures",
        "lineItemRowsProcessedWithFailures",
        "deleteFromSelectionSucceeded",
        "exportSucceeded",
    ]
    assert "duration" not in task.result.to_wire()
    # The export ran after the deletes: the header and one row per remaining cell row.
    assert len(exported(dev)) == len(dev.cells()) + 1
    assert {row[0] for row in exported(dev)[1:]} <= {item[0] for item in dev.items()}
    # Each failing import keeps its own dump, fetched by its objectId.
    for name in ("Load Employees", "Load Headcount"):
        chunks = dev.engine.dump_chunks(
            dev.principal,
            dev.model_id,
            "processes",
            dev.ids["Nightly Load"],
            task.id,
            dev.ids[name],
        )
        assert [c.id for c in chunks] == ["0"]
    dump = dev.engine.read_dump_chunk(
        dev.principal,
        dev.model_id,
        "processes",
        dev.ids["Nightly Load"],
        task.id,
        dev.ids["Load Employees"],
        0,
    )
    lines = [row[-2] for row in csv.reader(io.StringIO(dump.decode()))][1:]
    expected = [n + 1 for n, kind in bad_rows_of(rows, bad).items() if kind != "malformed number"]
    assert [int(line) for line in lines] == expected


def test_process_details_add_duration_and_start_time(dev: DemoModel) -> None:
    task_id = dev.run("processes", "Nightly Load").id
    detailed = dev.status("processes", "Nightly Load", task_id, include_process_details=True)
    wire = detailed.to_wire()["result"]
    assert isinstance(wire["duration"], str)
    assert isinstance(wire["startTime"], str)
    assert all("duration" in nested for nested in wire["nestedResults"])


def test_process_stops_at_an_action_that_cannot_run(dev: DemoModel) -> None:
    task = dev.run("processes", "Nightly Load")  # nothing uploaded: the first import fails
    assert task.current_step == "Failed."
    assert task.result.successful is False
    assert len(task.result.nested_results) == 1
    assert task.result.nested_results[0].details[0].type == "uploadedFileNoLongerAvailable"


def test_only_the_users_latest_task_of_an_import_keeps_its_dump(dev: DemoModel) -> None:
    bad_file = HEADER + b"E1,Ada,Nowhere,2020-01-01,true,1,1\n"
    dev.upload(bad_file)
    first = dev.run("imports", "Load Employees")
    second = dev.run("imports", "Load Employees")
    import_id = dev.ids["Load Employees"]

    assert first.result.failure_dump_available is True  # stays true on the old task
    with pytest.raises(errors.NotFound):
        dev.engine.dump_chunks(dev.principal, dev.model_id, "imports", import_id, first.id, None)
    assert dev.engine.dump_chunks(
        dev.principal, dev.model_id, "imports", import_id, second.id, None
    )

    dev.upload(SMALL)
    dev.run("imports", "Load Employees")  # a clean run drops the dump
    with pytest.raises(errors.NotFound):
        dev.engine.dump_chunks(dev.principal, dev.model_id, "imports", import_id, second.id, None)


def test_another_users_dump_is_not_served(dev: DemoModel) -> None:
    dev.upload(HEADER + b"E1,Ada,Nowhere,2020-01-01,true,1,1\n")
    task = dev.run("imports", "Load Employees")
    viewer = dev.engine.authenticate_basic("viewer@example.com", "viewer")
    assert viewer is not None
    with pytest.raises(errors.NotFound):
        dev.engine.dump_chunks(
            viewer, dev.model_id, "imports", dev.ids["Load Employees"], task.id, None
        )


def test_catalogue_metadata(dev: DemoModel) -> None:
    engine, principal, model_id = dev.engine, dev.principal, dev.model_id
    meta = engine.import_metadata(principal, model_id, dev.ids["Load Employees"])
    assert meta.type == "FILE"
    assert meta.source is not None
    assert meta.source.header_names == ["Employee ID", "Name", "Region", "Start Date", "Active"]
    process = engine.process_metadata(principal, model_id, dev.ids["Nightly Load"])
    assert [a.action_type for a in process.actions] == [
        "IMPORT",
        "IMPORT",
        "DELETE_BY_SELECTION",
        "EXPORT",
    ]
    action = engine.action(principal, model_id, dev.ids["Remove Inactive Employees"])
    assert action.action_type == "DELETE_BY_SELECTION"
    assert [i.import_type for i in engine.imports(principal, model_id, Page()).items] == [
        "HIERARCHY_DATA",
        "MODULE_DATA",
    ]
    with pytest.raises(errors.NotFound):
        engine.import_metadata(principal, model_id, "112999999999")
