"""Failure dump rows parsed from chunks, and which dumps a task offers."""

from __future__ import annotations

from anaplan_tasks._core.dumps import DumpRowParser, dumps_of, parse_dump_rows
from anaplan_tasks._core.types import TaskRef
from anaplan_tasks.models import parse_task

DUMP = (
    b'"_Status_","Account","Parent","Note","_Line_","_Error_1_","_Error_2_"\n'
    b'"E","North Retail","Reigon East","multi\nline","17","Invalid parent",""\n'
    b'"W","South","Region South","","42","Invalid date: 31/02/2025","Name too long"\n'
)


def test_rows_are_parsed_across_arbitrary_chunk_boundaries() -> None:
    for size in (1, 7, 64, len(DUMP)):
        chunks = [DUMP[i : i + size] for i in range(0, len(DUMP), size)]
        rows = list(parse_dump_rows(chunks, object_id="112000000001"))
        assert [row.status for row in rows] == ["E", "W"]
        assert rows[0].line == 17
        assert rows[0].errors == ["Invalid parent"]
        assert rows[0].columns == {
            "Account": "North Retail",
            "Parent": "Reigon East",
            "Note": "multi\nline",
        }
        assert rows[1].errors == ["Invalid date: 31/02/2025", "Name too long"]
        assert rows[1].object_id == "112000000001"


def test_utf8_split_inside_a_character_and_a_bom() -> None:
    data = '\ufeff"_Status_","Name","_Line_","_Error_1_"\n"E","Zürich","3","Ungültig"\n'.encode()
    chunks = [data[i : i + 3] for i in range(0, len(data), 3)]
    (row,) = parse_dump_rows(chunks)
    assert row.status == "E"
    assert row.columns == {"Name": "Zürich"}
    assert row.errors == ["Ungültig"]


def test_empty_dump_has_no_rows() -> None:
    assert list(parse_dump_rows([])) == []


def _completed(result: dict[str, object]) -> object:
    return parse_task(
        {
            "taskId": "T" * 32,
            "taskState": "COMPLETE",
            "progress": 1,
            "creationTime": 1,
            "result": result,
        }
    )


def test_an_import_offers_its_own_dump_a_process_one_per_nested_import() -> None:
    import_task = _completed(
        {"successful": False, "failureDumpAvailable": True, "objectId": "112000000001"}
    )
    ref = TaskRef("imports", "112000000001", "T" * 32)
    assert [d.object_id for d in dumps_of(ref, import_task)] == [None]  # type: ignore[arg-type]

    process_task = _completed(
        {
            "successful": True,
            "failureDumpAvailable": True,
            "objectId": "118000000001",
            "nestedResults": [
                {"successful": True, "failureDumpAvailable": True, "objectId": "112000000001"},
                {"successful": True, "failureDumpAvailable": False, "objectId": "116000000001"},
                {"successful": False, "failureDumpAvailable": True, "objectId": "112000000002"},
            ],
        }
    )
    process = TaskRef("processes", "118000000001", "T" * 32)
    dumps = dumps_of(process, process_task)  # type: ignore[arg-type]
    assert [d.object_id for d in dumps] == ["112000000001", "112000000002"]


def test_the_push_parser_gives_rows_as_soon_as_they_are_complete() -> None:
    parser = DumpRowParser(object_id="112000000001")
    assert parser.feed(DUMP[:80]) == []  # the header and part of a quoted multi-line field
    rows = parser.feed(DUMP[80:])
    assert [row.line for row in rows] == [17, 42]
    assert parser.close() == []


def test_a_last_line_without_newline_is_still_a_row() -> None:
    parser = DumpRowParser()
    assert parser.feed(b'"_Status_","_Line_"\n"E","9"') == []
    (row,) = parser.close()
    assert (row.status, row.line) == ("E", 9)


def test_a_line_number_in_other_digits_is_no_line_number() -> None:
    parser = DumpRowParser()
    rows = parser.feed('"_Status_","_Line_"\n"E","\u0661"\n"E","\u00b2"\n"E"," 7 "\n'.encode())
    assert [row.line for row in rows + parser.close()] == [None, None, 7]
