"""Reading Anaplan's comparison report text, and writing it back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anaplan_tasks.errors import AnaplanError
from anaplan_tasks.models.alm_report import (
    ComparisonReport,
    ReportFormatError,
    ReportSection,
    ReportSide,
    parse_comparison_report,
)

# Anaplan's documented layout with invented values; the LISTS ADDED row has one cell more than
# its header, as in Anaplan's own example.
ANAPLAN_LAYOUT = "\n".join(
    [
        "Source Workspace\t8a81b08e6f3c2d1a016f4b7c9e2d0a55\tPlanning",
        "Source Model\tSales Dev",
        "Source Revision\tSprint 3\tnull",
        "Target Workspace\t8a81b08e6f3c2d1a016f4b7c9e2d0a56\tPlanning Prod",
        "Target Model\tSales Prod",
        "Target Revision\tSprint 2\tPricing changes",
        "",
        "=== LISTS ADDED ===",
        "Name\tPosition\tRelative To\tHas Workflow",
        "Channels\tEnd\t-\tfalse\tfalse",
        "",
        "=== ROLES CHANGED ===",
        "Name\tChanges",
        "Full Access\t1",
        "",
        "=== CHANGES WITHIN LISTS ===",
        "List\tItems Added/Moved\tItems Deleted",
        "Channels\t2",
        "",
    ]
)


def test_reads_the_header_block() -> None:
    report = parse_comparison_report(ANAPLAN_LAYOUT.encode())
    assert report.source == ReportSide(
        workspace_id="8a81b08e6f3c2d1a016f4b7c9e2d0a55",
        workspace_name="Planning",
        model_name="Sales Dev",
        revision_name="Sprint 3",
        revision_description=None,
    )
    assert report.target.workspace_name == "Planning Prod"
    assert report.target.revision_description == "Pricing changes"


def test_reads_sections_as_rows_by_header_tolerating_short_and_long_rows() -> None:
    report = parse_comparison_report(ANAPLAN_LAYOUT)
    assert report.titles == ["LISTS ADDED", "ROLES CHANGED", "CHANGES WITHIN LISTS"]
    (channels,) = report.rows("LISTS ADDED")
    assert channels == {
        "Name": "Channels",
        "Position": "End",
        "Relative To": "-",
        "Has Workflow": "false",
        "#5": "false",
    }
    assert report.rows("roles changed") == ({"Name": "Full Access", "Changes": "1"},)
    (within,) = report.rows("=== CHANGES WITHIN LISTS ===")
    assert within == {"List": "Channels", "Items Added/Moved": "2", "Items Deleted": ""}
    assert report.section("MODULES ADDED") is None
    assert report.rows("MODULES ADDED") == ()
    assert report.section("LISTS ADDED") is not None
    assert report.section("LISTS ADDED").column("Name") == ["Channels"]  # type: ignore[union-attr]


def test_accepts_crlf_a_byte_order_mark_unknown_keys_and_stray_lines() -> None:
    text = (
        "\ufeffSource Model\tDev\r\nGenerated On\t2026-01-05\r\n\r\n"
        "stray text before a section is ignored\r\n"
        "=== SOMETHING NEW ===\r\nA\tB\r\n1\t2\r\n"
    )
    report = parse_comparison_report(text.encode("utf-8"))
    assert report.source.model_name == "Dev"
    assert report.header["Generated On"] == ("2026-01-05",)
    assert report.rows("SOMETHING NEW") == ({"A": "1", "B": "2"},)


def test_a_report_without_sections_is_empty() -> None:
    report = parse_comparison_report(b"Source Model\tDev\nTarget Model\tProd\n")
    assert report.sections == ()
    assert report.is_empty
    assert parse_comparison_report(b"").is_empty


def test_a_section_without_rows_keeps_its_columns() -> None:
    report = parse_comparison_report("=== LISTS DELETED ===\nName\n")
    section = report.section("LISTS DELETED")
    assert section == ReportSection("LISTS DELETED", ("Name",), ())
    assert report.is_empty


def test_bytes_that_are_not_utf8_raise_a_clear_error() -> None:
    with pytest.raises(ReportFormatError, match="not UTF-8") as caught:
        parse_comparison_report(b"Source Model\t\xff\xfe\x00")
    assert isinstance(caught.value, AnaplanError)
    assert isinstance(caught.value, ValueError)


def test_the_anaplan_layout_round_trips() -> None:
    report = parse_comparison_report(ANAPLAN_LAYOUT)
    again = parse_comparison_report(report.to_bytes())
    assert again == report


def test_to_text_writes_anaplans_layout() -> None:
    report = ComparisonReport(
        source=ReportSide("ws1", "W", "Dev", "R2", None),
        target=ReportSide("ws1", "W", "Prod", "R1", "first"),
        sections=(ReportSection("LISTS DELETED", ("Name",), ({"Name": "Old"},)),),
    )
    assert report.to_text() == (
        "Source Workspace\tws1\tW\nSource Model\tDev\nSource Revision\tR2\tnull\n"
        "Target Workspace\tws1\tW\nTarget Model\tProd\nTarget Revision\tR1\tfirst\n"
        "\n=== LISTS DELETED ===\nName\nOld\n"
    )


def test_tabs_and_line_breaks_inside_values_cannot_break_the_layout() -> None:
    report = ComparisonReport(
        sections=(ReportSection("LISTS DELETED", ("Name",), ({"Name": "a\tb\nc"},)),)
    )
    assert parse_comparison_report(report.to_text()).rows("LISTS DELETED") == ({"Name": "a b c"},)


_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
).filter(lambda text: text.strip() == text and text not in ("null",) and "===" not in text)


@st.composite
def _sections(draw: st.DrawFn) -> ReportSection:
    title = draw(_cell.map(str.upper))
    columns = tuple(draw(st.lists(_cell, min_size=1, max_size=4, unique=True)))
    rows = draw(st.lists(st.fixed_dictionaries(dict.fromkeys(columns, _cell)), max_size=3))
    return ReportSection(title, columns, tuple(rows))


@given(
    side=st.builds(ReportSide, _cell, _cell, _cell, _cell, st.none() | _cell),
    sections=st.lists(_sections(), max_size=4),
)
def test_render_then_parse_gives_the_same_report(
    side: ReportSide, sections: list[ReportSection]
) -> None:
    report = ComparisonReport(source=side, target=side, sections=tuple(sections))
    parsed = parse_comparison_report(report.to_bytes())
    assert parsed.source == report.source
    assert parsed.target == report.target
    assert parsed.sections == report.sections
