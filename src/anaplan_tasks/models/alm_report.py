"""The ALM comparison report: Anaplan's tab-separated text, as a typed object and back.

`GET /models/{target}/alm/comparisonReports/{targetRevisionId}/{sourceRevisionId}` answers the
same report the UI offers, as `application/octet-stream`. Its layout:

```text
Source Workspace<TAB>8a81b08e…<TAB>FP&A
Source Model<TAB>FP&A Dev
Source Revision<TAB>Release 12<TAB>null
Target Workspace<TAB>8a81b08e…<TAB>FP&A
Target Model<TAB>FP&A Prod
Target Revision<TAB>Baseline<TAB>Initial revision
<empty line>
=== LISTS ADDED ===
Name<TAB>Position<TAB>Relative To<TAB>…
Products<TAB>End<TAB>-<TAB>…
<empty line>
=== LINE ITEMS ADDED ===
…
```

A header block of `key<TAB>value…` lines (workspace: id then name; model: name; revision: name then
description, `null` when there is none), then sections. Each section starts with a
`=== TITLE ===` line, then one header row naming the columns, then one data row per object.
Sections are separated by empty lines.

[`parse_comparison_report`][anaplan_tasks.models.alm_report.parse_comparison_report] is tolerant:
unknown header keys are kept, unknown sections are kept with their rows, `\\r\\n` line ends and a
byte-order mark are accepted, and rows shorter or longer than their header are padded or keep the
extra cells under positional keys (`"#10"` for the tenth cell). Anaplan's own example has a row one
cell longer than its header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import AnaplanError

SECTION_LINE = re.compile(r"^===\s*(?P<title>.*?)\s*===$")
"""A line that opens a section, `=== LISTS ADDED ===`."""

NULL = "null"
"""How the report writes an absent value (a revision without description)."""


class ReportFormatError(AnaplanError, ValueError):
    """A comparison report that cannot be read as text at all (not UTF-8)."""


@dataclass(frozen=True)
class ReportSide:
    """One side of a comparison: where the model lives and which revision was compared.

    Attributes:
        workspace_id: The workspace's id (`None` when the report does not say).
        workspace_name: The workspace's name.
        model_name: The model's name.
        revision_name: The revision's name.
        revision_description: The revision's description; `None` when it has none.
    """

    workspace_id: str | None = None
    workspace_name: str | None = None
    model_name: str | None = None
    revision_name: str | None = None
    revision_description: str | None = None


@dataclass(frozen=True)
class ReportSection:
    """One `=== TITLE ===` section: its columns and its rows.

    Attributes:
        title: The title between the `===` markers, e.g. `LISTS ADDED`.
        columns: The names in the section's header row.
        rows: One mapping per data row, column name → cell. Missing cells are `""`; cells beyond
            the header are kept under `"#<position>"` (1-based).
    """

    title: str
    columns: tuple[str, ...] = ()
    rows: tuple[Mapping[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Mapping[str, str]]:
        return iter(self.rows)

    def column(self, name: str) -> list[str]:
        """Every row's cell in one column (`""` where a row has none)."""
        return [row.get(name, "") for row in self.rows]


@dataclass(frozen=True)
class ComparisonReport:
    """A parsed comparison report.

    Attributes:
        source: The source model and revision (the one that would be synced).
        target: The target model and revision (the one that would change).
        sections: The sections in report order.
        header: Every header line as key → its values, including keys this version does not know.
    """

    source: ReportSide = field(default_factory=ReportSide)
    target: ReportSide = field(default_factory=ReportSide)
    sections: tuple[ReportSection, ...] = ()
    header: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def titles(self) -> list[str]:
        """The section titles, in order."""
        return [section.title for section in self.sections]

    def section(self, title: str) -> ReportSection | None:
        """The section with this title (case-insensitive, `===` optional), or None."""
        wanted = _normal_title(title)
        for section in self.sections:
            if _normal_title(section.title) == wanted:
                return section
        return None

    def rows(self, title: str) -> tuple[Mapping[str, str], ...]:
        """The rows of a section; empty when the report has no such section."""
        found = self.section(title)
        return found.rows if found is not None else ()

    @property
    def is_empty(self) -> bool:
        """True when the report lists no change at all."""
        return not any(section.rows for section in self.sections)

    def to_text(self) -> str:
        """Write the report in Anaplan's layout (the inverse of `parse_comparison_report`)."""
        lines: list[str] = []
        written: set[str] = set()
        for prefix, side in (("Source", self.source), ("Target", self.target)):
            for key, values in _side_lines(prefix, side):
                lines.append(_join((key, *values)))
                written.add(key)
        for key, values in self.header.items():
            if key not in written:
                lines.append(_join((key, *values)))
        for section in self.sections:
            lines.append("")
            lines.append(f"=== {_cell(section.title)} ===")
            lines.append(_join(section.columns))
            for row in section.rows:
                lines.append(_join(_cells_of(row, section.columns)))
        return "\n".join(lines) + "\n"

    def to_bytes(self) -> bytes:
        """The report as UTF-8 bytes, as the download endpoint serves it."""
        return self.to_text().encode("utf-8")


def parse_comparison_report(data: bytes | str) -> ComparisonReport:
    """Read a comparison report (the download's bytes, or text) into a `ComparisonReport`.

    Raises:
        ReportFormatError: The bytes are not UTF-8 text.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ReportFormatError(
                f"comparison report is not UTF-8 text (byte {error.start}: {error.reason})"
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    header: dict[str, tuple[str, ...]] = {}
    sections: list[ReportSection] = []
    index = 0
    while index < len(lines) and not SECTION_LINE.match(lines[index].strip()):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        key, *values = line.split("\t")
        header[key.strip()] = tuple(values)

    while index < len(lines):
        opener = SECTION_LINE.match(lines[index].strip())
        index += 1
        if opener is None:  # stray text between sections: skip it
            continue
        columns: tuple[str, ...] = ()
        rows: list[Mapping[str, str]] = []
        while index < len(lines) and not SECTION_LINE.match(lines[index].strip()):
            line = lines[index]
            index += 1
            if not line.strip():
                continue
            cells = line.split("\t")
            if not columns:
                columns = tuple(cell.strip() for cell in cells)
            else:
                rows.append(_row(columns, cells))
        sections.append(ReportSection(opener.group("title"), columns, tuple(rows)))

    return ComparisonReport(
        source=_side_of("Source", header),
        target=_side_of("Target", header),
        sections=tuple(sections),
        header=header,
    )


def _row(columns: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    row = {
        column: (cells[position] if position < len(cells) else "")
        for position, column in enumerate(columns)
    }
    for position in range(len(columns), len(cells)):
        row[f"#{position + 1}"] = cells[position]
    return row


def _cells_of(row: Mapping[str, str], columns: Sequence[str]) -> list[str]:
    cells = [row.get(column, "") for column in columns]
    extra = sorted(
        (int(key[1:]), value)
        for key, value in row.items()
        if key.startswith("#") and key[1:].isdigit() and key not in columns
    )
    for position, value in extra:
        while len(cells) < position - 1:
            cells.append("")
        cells.append(value)
    return cells


def _side_of(prefix: str, header: Mapping[str, tuple[str, ...]]) -> ReportSide:
    workspace = header.get(f"{prefix} Workspace", ())
    model = header.get(f"{prefix} Model", ())
    revision = header.get(f"{prefix} Revision", ())
    return ReportSide(
        workspace_id=_value(workspace, 0),
        workspace_name=_value(workspace, 1),
        model_name=_value(model, 0),
        revision_name=_value(revision, 0),
        revision_description=_value(revision, 1),
    )


def _side_lines(prefix: str, side: ReportSide) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (f"{prefix} Workspace", (_out(side.workspace_id), _out(side.workspace_name))),
        (f"{prefix} Model", (_out(side.model_name),)),
        (f"{prefix} Revision", (_out(side.revision_name), _out(side.revision_description))),
    ]


def _value(values: Sequence[str], position: int) -> str | None:
    if position >= len(values):
        return None
    value = values[position].strip()
    return None if value in ("", NULL) else value


def _out(value: str | None) -> str:
    return NULL if value is None else value


def _cell(value: str) -> str:
    # A tab or line break inside a name would break the layout; Anaplan's UI forbids them.
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _join(cells: Sequence[str]) -> str:
    return "\t".join(_cell(cell) for cell in cells)


def _normal_title(title: str) -> str:
    match = SECTION_LINE.match(title.strip())
    inner = match.group("title") if match else title
    return " ".join(inner.split()).upper()


__all__ = [
    "ComparisonReport",
    "ReportFormatError",
    "ReportSection",
    "ReportSide",
    "parse_comparison_report",
]
