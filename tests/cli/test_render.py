"""What the command line shows for results, failures and dumps."""

from __future__ import annotations

from rich.console import Console

from anaplan_tasks.cli.render import detail_counts, dump_table, result_table, task_line
from anaplan_tasks.client import DumpRow
from anaplan_tasks.models import CompletedTask, TaskResultDetail, parse_task

PROCESS_WITH_FAILED_IMPORT = {
    "taskId": "7E6D5C4B3A2948F1A0B9C8D7E6F5A4B3",
    "taskState": "COMPLETE",
    "creationTime": 1767180600000,
    "progress": 1,
    "currentStep": "Complete.",
    "result": {
        "successful": True,
        "failureDumpAvailable": True,
        "objectId": "118000000005",
        "nestedResults": [
            {
                "successful": True,
                "failureDumpAvailable": True,
                "objectId": "112000000021",
                "details": [
                    {
                        "localMessageText": "Employees: 118 (18/100) rows successful, 3 failed",
                        "occurrences": 0,
                        "type": "hierarchyRowsProcessedWithFailures",
                        "values": ["hierarchyName", "Employees", "failedCount", "3"],
                    }
                ],
            },
            {
                "successful": True,
                "failureDumpAvailable": False,
                "objectId": "116000000007",
                "details": [
                    {
                        "localMessageText": "Export completed. 52311 bytes written.",
                        "occurrences": 0,
                        "type": "exportSucceeded",
                        "values": ["exportName", "Headcount.csv", "fileSize", "52311"],
                    }
                ],
            },
        ],
    },
}


def _text(renderable: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_result_table_shows_every_nested_action_and_its_detail() -> None:
    task = parse_task(PROCESS_WITH_FAILED_IMPORT)
    assert isinstance(task, CompletedTask)
    text = _text(result_table(task.result, names={"112000000021": "Load Employees"}))
    assert "Load Employees" in text
    assert "rows rejected" in text
    assert "3 failed" in text
    assert "116000000007" in text
    assert "fileSize=52.3 kB" in text


def test_task_line_names_failed_rows() -> None:
    task = parse_task(PROCESS_WITH_FAILED_IMPORT)
    assert isinstance(task, CompletedTask)
    line = task_line(task)
    assert "3 rows failed" in line.plain
    assert line.style == "yellow"


def test_detail_counts_keep_the_counts_that_are_not_zero() -> None:
    detail = TaskResultDetail(
        type="hierarchyRowsProcessed",
        values=["successRowCount", "12", "hierarchyName", "Employees", "failedCount", "0"],
    )
    assert detail_counts(detail) == "successRow=12"


def test_dump_table_stops_at_the_limit_and_says_so() -> None:
    rows = [
        DumpRow(status="E", line=n + 2, errors=[f"bad {n}"], columns={"Code": f"C{n}"})
        for n in range(25)
    ]
    table = dump_table(rows, limit=5)
    text = _text(table)
    assert "first 5 rows shown" in text
    assert "bad 4" in text
    assert "C4" in text
    assert "bad 5" not in text
    assert table.row_count == 5
