"""Imports: real CSV parsing into list items and module cells, row validation and dumps."""

from __future__ import annotations

import csv
import gzip
import io

from anaplan_tasks.emulator.demo import bad_rows_of, generate_employees_csv
from anaplan_tasks.emulator.engine import EmulatorEngine
from anaplan_tasks.emulator.engine.context import ActionContext, LiveTask
from anaplan_tasks.emulator.engine.contract import MappingParameter, Page, TaskStart
from anaplan_tasks.emulator.engine.imports import run_import
from anaplan_tasks.models import CompletedTask

from .conftest import DemoModel, another_member

HEADER = b"Employee ID,Name,Region,Start Date,Active,Salary,FTE\n"


def employees(rows: int, bad_rows: int = 0, seed: int = 0) -> bytes:
    return b"".join(generate_employees_csv(rows, bad_rows, seed))


def dump_rows(
    dev: DemoModel, name: str, task_id: str, object_id: str | None = None
) -> list[list[str]]:
    engine = dev.engine
    chunks = engine.dump_chunks(
        dev.principal, dev.model_id, "imports", dev.ids[name], task_id, object_id
    )
    data = b"".join(
        engine.read_dump_chunk(
            dev.principal, dev.model_id, "imports", dev.ids[name], task_id, object_id, int(c.id)
        )
        for c in chunks
    )
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_list_import_creates_items_with_properties(dev: DemoModel) -> None:
    dev.upload(
        HEADER + b"E1,Ada Ng,EMEA,2020-01-31,true,50000,1\n"
        b'E2,"Ng, Ben",Asia Pacific,2021-02-01,FALSE,60000,0.5\n'
    )

    task = dev.run("imports", "Load Employees")

    assert task.current_step == "Complete."
    assert task.result.successful is True
    assert task.result.failure_dump_available is False
    summary = task.result.details[0]
    assert summary.type == "hierarchyRowsProcessed"
    assert summary.value_map["successCreateCount"] == 2
    assert len(summary.values) == 32  # 16 pairs incl. hierarchyName: Anaplan's key set
    assert dev.items() == [
        (
            "E1",
            "Ada Ng",
            None,
            (("Active", True), ("Region", "EMEA"), ("Start Date", "2020-01-31")),
        ),
        (
            "E2",
            "Ng, Ben",
            None,
            (("Active", False), ("Region", "Asia Pacific"), ("Start Date", "2021-02-01")),
        ),
    ]


def test_reimport_updates_and_counts_renames(dev: DemoModel) -> None:
    dev.upload(HEADER + b"E1,Ada,NA,2020-01-01,true,1,1\n")
    dev.run("imports", "Load Employees")
    dev.upload(HEADER + b"E1,Ada Lovelace,NA,2020-01-01,true,1,1\nE2,Ben,NA,2020-01-01,true,1,1\n")

    task = dev.run("imports", "Load Employees")

    values = task.result.details[0].value_map
    assert values["successCreateCount"] == 1
    assert values["successUpdateCount"] == 1
    assert values["renamedCount"] == 1
    assert [item[:2] for item in dev.items()] == [("E1", "Ada Lovelace"), ("E2", "Ben")]


def test_bad_rows_give_exact_counts_and_a_dump_of_exactly_those_rows(dev: DemoModel) -> None:
    rows, bad = 1000, 8
    dev.upload(employees(rows, bad), chunk_size=7_000)  # chunk boundaries fall mid-row
    kinds = bad_rows_of(rows, bad)
    list_failures = {n: k for n, k in kinds.items() if k != "malformed number"}

    task = dev.run("imports", "Load Employees")

    assert task.result.successful is True  # rows loaded; the failures are in the dump
    assert task.result.failure_dump_available is True
    summary = task.result.details[0]
    assert summary.type == "hierarchyRowsProcessedWithFailures"
    assert summary.value_map["failedCount"] == len(list_failures) == 6
    assert summary.value_map["successRowCount"] == rows - 6
    assert summary.value_map["totalRowCount"] == rows
    errors = {
        d.type + ": " + (d.local_message_text or ""): d.occurrences for d in task.result.details[1:]
    }
    assert errors == {
        "hierarchyImportDuplicateKeyInSource: Duplicate code in source": 2,
        "hierarchyImportPropertyChangeFailed: Invalid date": 2,
        "hierarchyImportPropertyChangeFailed: Item not located in Regions list": 2,
    }
    dump = dump_rows(dev, "Load Employees", task.id)
    assert dump[0] == [
        "_Status_",
        "Employee ID",
        "Name",
        "Region",
        "Start Date",
        "Active",
        "Salary",
        "FTE",
        "_Line_",
        "_Error_1_",
    ]
    assert [int(row[8]) for row in dump[1:]] == [n + 1 for n in sorted(list_failures)]
    assert all(row[0] == "E" for row in dump[1:])
    assert len(dev.items()) == rows - 6


def test_dump_is_fully_quoted(dev: DemoModel) -> None:
    dev.upload(HEADER + b"E1,Ada,Nowhere,2020-01-01,true,1,1\n")
    task = dev.run("imports", "Load Employees")
    raw = dev.engine.read_dump_chunk(
        dev.principal, dev.model_id, "imports", dev.ids["Load Employees"], task.id, None, 0
    ).decode()
    assert raw.splitlines()[1] == (
        '"E","E1","Ada","Nowhere","2020-01-01","true","1","1","2",'
        '"Item not located in Regions list: Nowhere"'
    )


def test_module_import_writes_cells_and_rejects_unknown_items(dev: DemoModel) -> None:
    rows, bad = 400, 4
    data = employees(rows, bad)
    dev.upload(data)
    dev.run("imports", "Load Employees")

    task = dev.run("imports", "Load Headcount")

    kinds = bad_rows_of(rows, bad)
    # The employee with the unknown region was never created; dates and numbers are checked;
    # a repeated employee id just writes the same cells again.
    failing = sorted(n for n, k in kinds.items() if k != "duplicate id")
    details = {d.type: d for d in task.result.details}
    salary = task.result.details[0]
    assert salary.type == "lineItemRowsProcessedWithFailures"
    assert salary.value_map == {"lineItemName": "Salary", "rowCount": rows - 3, "failureCount": 3}
    assert details["moduleImportInvalidListIdentifier"].occurrences == 2
    assert details["moduleImportNumberFormat"].occurrences == 1
    assert details["moduleImportDateFormat"].occurrences == 1
    dump = dump_rows(dev, "Load Headcount", task.id)
    assert [int(row[8]) for row in dump[1:]] == [n + 1 for n in failing]
    assert "_Error_2_" in dump[0]  # the bad-date employee is also unknown: two errors
    assert len(dev.cells()) == rows - 4  # 3 failed, 1 repeated id


def test_module_import_values_are_typed(dev: DemoModel) -> None:
    dev.upload(HEADER + b"E1,Ada,NA,2020-01-01,true,50000.5,1\n")
    dev.run("imports", "Load Employees")
    dev.run("imports", "Load Headcount")
    assert dev.cells() == [
        (("E1",), (("FTE", 1.0), ("Salary", 50000.5), ("Start Date", "2020-01-01")))
    ]


def test_wrong_column_count_and_blank_lines(dev: DemoModel) -> None:
    dev.upload(
        HEADER + b"E1,Ada,NA,2020-01-01,true,1,1\n\nE2,Ben,NA\nE3,Cy,NA,2020-01-01,true,1,1,extra\n"
    )
    task = dev.run("imports", "Load Employees")
    values = task.result.details[0].value_map
    assert values["failedCount"] == 2
    assert values["ignoredCount"] == 1
    dump = dump_rows(dev, "Load Employees", task.id)
    assert [row[-2:] for row in dump[1:]] == [
        ["4", "Expected 7 columns, found 3"],
        ["5", "Expected 7 columns, found 8"],
    ]


def test_gzip_is_the_http_layers_job_but_any_bytes_are_parsed_safely(dev: DemoModel) -> None:
    dev.upload(gzip.compress(b"not,csv"))
    task = dev.run("imports", "Load Employees")
    assert task.current_step == "Failed."
    assert task.result.successful is False
    assert task.result.details[0].type == "importFailedGeneralError"  # gzip is not UTF-8
    assert "not valid UTF-8: bytes that cannot be decoded on line" in task.result.details[0].text


def test_import_without_upload_fails_to_run(dev: DemoModel) -> None:
    task = dev.run("imports", "Load Employees")
    assert task.current_step == "Failed."
    assert task.result.details[0].type == "uploadedFileNoLongerAvailable"


def test_open_upload_is_not_imported(dev: DemoModel) -> None:
    dev.engine.set_chunk_count(dev.principal, dev.model_id, dev.file_id, -1)
    dev.engine.put_chunk(dev.principal, dev.model_id, dev.file_id, 0, b"Employee ID\n")
    task = dev.run("imports", "Load Employees")
    assert task.current_step == "Failed."
    assert "/complete" in (task.result.details[0].local_message_text or "")


def test_every_row_failing_is_unsuccessful(dev: DemoModel) -> None:
    dev.upload(HEADER + b"E1,Ada,Mars,2020-01-01,true,1,1\n")
    task = dev.run("imports", "Load Employees")
    assert task.result.successful is False
    assert task.current_step == "Complete."
    assert task.result.failure_dump_available is True


def test_file_uploaded_by_another_user_is_not_seen(dev: DemoModel) -> None:
    dev.upload(HEADER + b"E1,Ada,NA,2020-01-01,true,1,1\n")
    other = another_member(dev.engine)
    task = dev.engine.start_task(
        other, dev.model_id, "imports", dev.ids["Load Employees"], TaskStart("en_US")
    )
    dev.engine.wait_idle()
    status = dev.engine.task(other, dev.model_id, "imports", dev.ids["Load Employees"], task.id)
    assert status.current_step == "Failed."


def test_latin1_and_tab_separated_sources(engine: EmulatorEngine) -> None:
    engine.load_definition(
        """
[[users]]
email = "t@example.com"
password = "t"
[[workspaces]]
name = "W"
admins = ["t@example.com"]
[[workspaces.models]]
name = "M"
[[workspaces.models.lists]]
name = "Cities"
[[workspaces.models.files]]
name = "cities.tsv"
separator = "\\t"
encoding = "ISO-8859-1"
header_row = 2
first_data_row = 4
[[workspaces.models.imports]]
name = "Load Cities"
file = "cities.tsv"
target_list = "Cities"
mapping = { name = "City" }
""",
        source="cities.toml",
    )
    principal = engine.authenticate_basic("t@example.com", "t")
    assert principal is not None

    model_id = engine.models(principal, None, Page()).items[0].id
    file_id = engine.files(principal, model_id, Page()).items[0].id
    import_id = engine.imports(principal, model_id, Page()).items[0].id
    engine.set_chunk_count(principal, model_id, file_id, 1)
    engine.put_chunk(
        principal,
        model_id,
        file_id,
        0,
        "title line\nCity\tCountry\nskipped\tx\nMünchen\tDE\nZürich\tCH\n".encode("latin-1"),
    )
    task = engine.start_task(principal, model_id, "imports", import_id, TaskStart("en_US"))
    engine.wait_idle()
    status = engine.task(principal, model_id, "imports", import_id, task.id)
    assert isinstance(status, CompletedTask)
    assert status.result.details[0].value_map["successCreateCount"] == 2
    names = [name for _, name, _, _ in engine.model_data(model_id).items("Cities")]
    assert names == ["München", "Zürich"]


def test_mapping_parameter_supplies_an_unmapped_dimension(engine: EmulatorEngine) -> None:
    # The model's Versions dimension (Actual, Forecast by default), unmapped in the file.
    engine.load_definition(
        """
{"users": [{"email": "v@example.com", "password": "v"}],
 "workspaces": [{"name": "V", "admins": ["v@example.com"], "models": [{
   "name": "Plan",
   "lists": [{"name": "Products", "items": [{"code": "P1"}]}],
   "modules": [{"name": "Sales", "dimensions": ["Products", "Versions"],
                "line_items": [{"name": "Units"}]}],
   "files": [{"name": "sales.csv"}],
   "imports": [{"name": "Load Sales", "file": "sales.csv", "target_module": "Sales",
                "mapping": {"Products": "Product", "Units": "Units"}}]}]}]}
""",
        source="sales.json",
    )
    principal = engine.authenticate_basic("v@example.com", "v")
    assert principal is not None
    model_id = engine.models(principal, None, Page()).items[0].id
    file_id = engine.files(principal, model_id, Page()).items[0].id
    import_id = engine.imports(principal, model_id, Page()).items[0].id
    engine.set_chunk_count(principal, model_id, file_id, 1)
    engine.put_chunk(principal, model_id, file_id, 0, b"Product,Units\nP1,7\n")

    without = engine.start_task(principal, model_id, "imports", import_id, TaskStart("en_US"))
    engine.wait_idle()
    failed = engine.task(principal, model_id, "imports", import_id, without.id)
    assert isinstance(failed, CompletedTask)
    assert failed.current_step == "Failed."
    assert failed.result.details[0].type == "moduleImportDimensionIdentifiersUnmapped"

    with_parameter = engine.start_task(
        principal,
        model_id,
        "imports",
        import_id,
        TaskStart("en_US", mapping_parameters=[MappingParameter("Versions", "Forecast")]),
    )
    engine.wait_idle()
    done = engine.task(principal, model_id, "imports", import_id, with_parameter.id)
    assert done.current_step == "Complete."
    cells = list(engine.model_data(model_id).cells("Sales"))
    assert cells == [(("P1", "Forecast"), {"Units": 7.0})]


class _RecordingLive(LiveTask):
    """A live task that remembers every progress it was given."""

    def __init__(self) -> None:
        super().__init__("T" * 32, "M" * 32)
        self.seen: list[tuple[float, str | None]] = []

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name == "current_step" and hasattr(self, "seen"):
            self.seen.append((self.progress, self.current_step))


def test_progress_follows_the_rows_parsed(engine: EmulatorEngine, dev: DemoModel) -> None:
    dev.upload(employees(10_000), chunk_size=50_000)
    catalog = engine.catalog_of(dev.model_id)
    definition = catalog.import_(dev.ids["Load Employees"])
    assert definition is not None
    live = _RecordingLive()
    with engine.store.model_data(dev.model_id).transaction() as txn:
        ctx = ActionContext(
            task_id=live.task_id,
            model_id=dev.model_id,
            user_id=dev.principal.user_id,
            catalog=catalog,
            store=engine.store,
            txn=txn,
            live=live,
        )
        run_import(ctx, dev.ids["Load Employees"], definition)
    progress = [value for value, _ in live.seen]
    assert progress == sorted(progress)
    assert len(set(progress)) >= 8  # it moved as rows were read, not in one jump
    assert 0 < progress[0] < 0.2
    assert progress[-1] == 1.0
    assert live.seen[0][1] == "Processing row 1024"


def test_a_process_imports_cells_by_the_names_of_items_its_list_import_just_made(
    engine: EmulatorEngine,
) -> None:
    # One task, one transaction: the module import's parser (a thread of its own) looks the
    # item names up while they are still uncommitted; codes and names mix, and a name that is
    # another item's code means that code.
    engine.load_definition(
        """
{"users": [{"email": "p@example.com", "password": "p"}],
 "workspaces": [{"name": "P", "admins": ["p@example.com"], "models": [{
   "name": "Plan",
   "lists": [{"name": "Products"}],
   "modules": [{"name": "Sales", "dimensions": ["Products"],
                "line_items": [{"name": "Units"}]}],
   "files": [{"name": "products.csv"}, {"name": "sales.csv"}],
   "imports": [
     {"name": "Load Products", "file": "products.csv", "target_list": "Products",
      "mapping": {"code": "Code", "name": "Name"}},
     {"name": "Load Sales", "file": "sales.csv", "target_module": "Sales",
      "mapping": {"Products": "Product", "Units": "Units"}}],
   "processes": [{"name": "Nightly", "actions": ["Load Products", "Load Sales"]}]}]}]}
""",
        source="process.json",
    )
    principal = engine.authenticate_basic("p@example.com", "p")
    assert principal is not None
    model_id = engine.models(principal, None, Page()).items[0].id
    files = {f.name: f.id for f in engine.files(principal, model_id, Page()).items}
    products = b"Code,Name\n" + b"".join(b"P%d,Product %d\n" % (n, n) for n in range(5000))
    products += b"X1,P7\n"  # X1's name is P7's code
    sales = b"Product,Units\nProduct 12,12\nP13,13\nP7,7\nProduct 4999,4999\nNo Such,1\n"
    for name, data in (("products.csv", products), ("sales.csv", sales)):
        engine.set_chunk_count(principal, model_id, files[name], 1)
        engine.put_chunk(principal, model_id, files[name], 0, data)
    process_id = engine.processes(principal, model_id, Page()).items[0].id

    task = engine.start_task(principal, model_id, "processes", process_id, TaskStart("en_US"))
    engine.wait_idle()
    done = engine.task(principal, model_id, "processes", process_id, task.id)
    assert isinstance(done, CompletedTask)
    cells = dict(engine.model_data(model_id).cells("Sales"))
    assert cells == {
        ("P12",): {"Units": 12.0},
        ("P13",): {"Units": 13.0},
        ("P7",): {"Units": 7.0},
        ("P4999",): {"Units": 4999.0},
    }
    sales_result = done.result.nested_results[1]
    assert sales_result.details[0].value_map["failureCount"] == 1
