"""The comparison report lists exactly the changes; the summary's totals equal them."""

from __future__ import annotations

from anaplan_tasks.emulator.alm.diff import diff_structures
from anaplan_tasks.emulator.alm.report import SECTION_TITLES, comparison_report, summary_report
from anaplan_tasks.models import SummaryReport
from anaplan_tasks.models.alm_report import ComparisonReport, ReportSide, parse_comparison_report

from .structures import EXPECTED, base_model, changed_model

SOURCE = ReportSide("8a81b08e6f3c2d1a016f4b7c9e2d0a55", "FP&A", "FP&A Dev", "Release 12", None)
TARGET = ReportSide(
    "8a81b08e6f3c2d1a016f4b7c9e2d0a55", "FP&A", "FP&A Prod", "Baseline", "Initial revision"
)


def _downloaded() -> ComparisonReport:
    diff = diff_structures(base_model(), changed_model())
    text = comparison_report(diff, source=SOURCE, target=TARGET).to_bytes()
    return parse_comparison_report(text)


def _pairs(report: ComparisonReport, title: str, *columns: str) -> set[tuple[str, ...]]:
    return {tuple(row[column] for column in columns) for row in report.rows(title)}


def test_header_names_both_sides() -> None:
    report = _downloaded()
    assert report.source == SOURCE
    assert report.target == TARGET
    assert report.header["Source Revision"] == ("Release 12", "null")


def test_added_and_deleted_sections_list_exactly_the_objects() -> None:
    report = _downloaded()
    assert _pairs(report, "LISTS ADDED", "Name") == {("Channels",)}
    assert _pairs(report, "LISTS DELETED", "Name") == {("Cost Centers",)}
    assert _pairs(report, "MODULES ADDED", "Name", "Applies To") == {
        ("Pricing", "Products, Channels")
    }
    assert _pairs(report, "MODULES DELETED", "Name") == {("Headcount",)}
    assert _pairs(report, "LINE ITEMS ADDED", "Module", "Line Item", "Data Type") == {
        ("Pricing", "List Price", "Number"),
        ("Pricing", "Discount", "Number"),
        ("Revenue", "Margin", "Number"),
    }
    assert _pairs(report, "LINE ITEMS DELETED", "Module", "Line Item") == {
        ("Revenue", "Units"),
        ("Headcount", "FTE"),
    }
    assert _pairs(report, "ACTIONS ADDED", "Name", "Type", "Source", "Target") == {
        ("Pricing Export", "Export", "Pricing", "TSV")
    }
    assert _pairs(report, "ACTIONS DELETED", "Name", "Type") == {("Clear Products", "Delete")}
    assert _pairs(report, "PROCESSES ADDED", "Name", "Actions") == {("Weekly", "Pricing Export")}
    assert report.section("PROCESSES DELETED") is None
    assert _pairs(report, "IMPORT DATA SOURCES ADDED", "Name", "Separator") == {("Prices.csv", ",")}


def test_changed_sections_give_old_and_new_values() -> None:
    report = _downloaded()
    change = ("Change", "Old Value", "New Value")
    assert _pairs(report, "LISTS CHANGED", "Name", *change) == {
        ("Regions", "Top Level", "Total Region", "All Regions")
    }
    assert _pairs(report, "LIST PROPERTIES ADDED", "List", "Property", "Data Type") == {
        ("Regions", "Currency", "Text")
    }
    assert _pairs(report, "LIST PROPERTIES CHANGED", "List", "Property", *change) == {
        ("Regions", "Manager", "Data Type", "Text", "List (Employees)")
    }
    (within,) = report.rows("CHANGES WITHIN LISTS")
    assert within["List"] == "Regions"
    assert (within["Properties Added"], within["Properties Changed"]) == ("1", "1")
    assert within["Properties Deleted"] == within["Items Added/Moved"] == "0"
    assert _pairs(report, "MODULES CHANGED", "Name", *change) == {
        ("Revenue", "Applies To", "Regions, Products", "Regions, Products, Channels")
    }
    assert _pairs(report, "LINE ITEMS CHANGED", "Module", "Line Item", *change) == {
        ("Revenue", "Price", "Data Type", "Number", "Text")
    }
    assert _pairs(report, "ACTIONS CHANGED", "Name", "Type", "Change") == {
        ("Load Sales", "Import", "Mapping")
    }
    assert _pairs(report, "PROCESSES CHANGED", "Name", *change) == {
        ("Nightly", "Actions", "Load Sales, Revenue Export", "Load Sales")
    }
    assert _pairs(report, "IMPORT DATA SOURCES CHANGED", "Name", *change) == {
        ("Sales.csv", "Separator", ",", ";")
    }


def test_positions_follow_the_source_order() -> None:
    report = _downloaded()
    positions = _pairs(report, "LINE ITEMS ADDED", "Line Item", "Position", "Relative To")
    assert positions == {
        ("List Price", "Before", "Discount"),
        ("Discount", "End", "-"),
        ("Margin", "End", "-"),
    }


def test_added_and_deleted_rows_match_the_summary_counts() -> None:
    report = _downloaded()
    sections = {"lists": "LISTS", "modules": "MODULES", "lineItems": "LINE ITEMS"}
    for category, prefix in sections.items():
        assert len(report.rows(f"{prefix} ADDED")) == len(EXPECTED[category]["created"])
        assert len(report.rows(f"{prefix} DELETED")) == len(EXPECTED[category]["deleted"])


def test_sections_come_in_the_documented_order_with_no_empty_one() -> None:
    report = _downloaded()
    assert report.titles == [title for title in SECTION_TITLES if title in report.titles]
    assert all(section.rows for section in report.sections)
    assert all(len(row) == len(section.columns) for section in report.sections for row in section)


def test_no_change_gives_a_header_and_no_section() -> None:
    diff = diff_structures(base_model(), base_model())
    report = parse_comparison_report(
        comparison_report(diff, source=SOURCE, target=TARGET).to_text()
    )
    assert report.sections == ()
    assert report.is_empty
    assert report.target.model_name == "FP&A Prod"


def test_summary_report_totals_equal_the_changes_and_omit_zeros() -> None:
    diff = diff_structures(base_model(), changed_model())
    summary = summary_report(diff, target_revision_id="T" * 32, source_revision_id="S" * 32)
    wire = summary.to_wire()
    assert wire == {
        "targetRevisionId": "T" * 32,
        "sourceRevisionId": "S" * 32,
        "totals": {"created": 8, "modified": 6, "deleted": 5},
        "differences": {
            "lists": {"created": 1, "modified": 1, "deleted": 1},
            "modules": {"created": 1, "modified": 1, "deleted": 1},
            "lineItems": {"created": 3, "modified": 1, "deleted": 2},
            "actions": {"created": 1, "modified": 1, "deleted": 1},
            "processes": {"created": 1, "modified": 1},
            "importDataSources": {"created": 1, "modified": 1},
        },
    }
    for kind in ("created", "modified", "deleted"):
        assert wire["totals"][kind] == sum(
            counts.get(kind, 0) for counts in wire["differences"].values()
        )
    assert SummaryReport.model_validate(wire) == summary


def test_summary_of_no_change_is_empty() -> None:
    diff = diff_structures(base_model(), base_model())
    wire = summary_report(diff, target_revision_id="T", source_revision_id="S").to_wire()
    assert wire == {
        "targetRevisionId": "T",
        "sourceRevisionId": "S",
        "totals": {},
        "differences": {},
    }
