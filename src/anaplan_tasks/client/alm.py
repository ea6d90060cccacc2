"""What ALM's reports return: the results of `client.alm.compare()` and `client.alm.summarize()`.

The namespace itself is `Alm` on a `Client` and `AsyncAlm` on an `AsyncClient` (every method
awaitable), both thin over the flows in `anaplan_tasks._core.alm`.

Example:
    ```python
    with Client(model_id=prod_id, ...) as client:
        release = client.with_model(dev_id).alm.create_revision("Release 12")
        report = client.alm.compare(dev_id)  # newest syncable revision vs prod's latest
        for row in report.report.rows("LINE ITEMS ADDED"):
            print(row["Module"], row["Line Item"])
        client.alm.sync(dev_id)  # raises AlmTaskFailedError with Anaplan's title/message
    ```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..models import CompletedReportTask, SummaryReport
from ..models.alm_report import ComparisonReport, parse_comparison_report

Destination = str | os.PathLike[str]
"""Where a report is written: a path."""


@dataclass(frozen=True)
class ComparisonReportResult:
    """A generated comparison report.

    Attributes:
        task: The finished report task.
        content: The report's bytes, as Anaplan serves them (tab-separated UTF-8 text).
        report: The report parsed: header, sections, rows by column.
        path: Where the report was written, when a destination was given.
    """

    task: CompletedReportTask
    content: bytes
    report: ComparisonReport
    path: Path | None = None


@dataclass(frozen=True)
class SummaryReportResult:
    """A generated summary report and the task that made it."""

    task: CompletedReportTask
    summary: SummaryReport


def comparison_result(
    task: CompletedReportTask, content: bytes, dest: Destination | None
) -> ComparisonReportResult:
    """Parse a downloaded comparison report, writing it to `dest` when given."""
    return ComparisonReportResult(
        task, content, parse_comparison_report(content), write_report(content, dest)
    )


def write_report(content: bytes, dest: Destination | None) -> Path | None:
    """Write a report through `<name>.part`, renamed when complete; the path, if any."""
    if dest is None:
        return None
    path = Path(dest)
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(content)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return path
