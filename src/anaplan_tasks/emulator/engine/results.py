"""Task results with Anaplan's detail types and flat key/value `values` (§6.5, §6.7)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ...models import TaskResult, TaskResultDetail


def _values(pairs: Sequence[tuple[str, object]]) -> list[str | None]:
    flat: list[str | None] = []
    for key, value in pairs:
        flat.append(key)
        flat.append(None if value is None else str(value))
    return flat


def detail(
    type_: str, text: str, pairs: Sequence[tuple[str, object]] = (), occurrences: int = 0
) -> TaskResultDetail:
    """One detail entry with every field set (so it is always on the wire)."""
    return TaskResultDetail(
        local_message_text=text, occurrences=occurrences, type=type_, values=_values(pairs)
    )


def hierarchy_summary(
    list_name: str, *, created: int, updated: int, renamed: int, failed: int, ignored: int
) -> TaskResultDetail:
    """`hierarchyRowsProcessed` (or `…WithFailures`) with the 18 keys Anaplan sends."""
    success = created + updated
    pairs: list[tuple[str, object]] = [
        ("hierarchyName", list_name),
        ("successRowCount", success),
        ("successCreateCount", created),
        ("successUpdateCount", updated),
        ("warningsRowCount", 0),
        ("warningsCreateCount", 0),
        ("warningsUpdateCount", 0),
        ("failedCount", failed),
        ("ignoredCount", ignored),
        ("totalRowCount", success + failed + ignored),
        ("totalCreateCount", created),
        ("totalUpdateCount", updated),
        ("invalidCount", 0),
        ("updatedCount", updated),
        ("renamedCount", renamed),
        ("createdCount", created),
    ]
    if failed:
        text = (
            f"{list_name}: {success} ({created}/{updated}) rows successful, "
            f"0 (0/0) rows has warnings, {failed} failed, {ignored} ignored"
        )
        return detail("hierarchyRowsProcessedWithFailures", text, pairs)
    text = f"{list_name}: {success} ({created}/{updated}) rows successful, {ignored} ignored "
    return detail("hierarchyRowsProcessed", text, pairs)


def line_item_summary(line_item: str, *, rows: int, failed: int, ignored: int) -> TaskResultDetail:
    """`lineItemRowsProcessed[WithFailures][AndIgnored|WithIgnored]` for one line item."""
    pairs: list[tuple[str, object]] = [("lineItemName", line_item), ("rowCount", rows)]
    text = f"{line_item} cells: {rows}"
    suffix = ""
    if failed:
        pairs.append(("failureCount", failed))
        text += f", {failed} failed"
        suffix = "WithFailures"
    if ignored:
        pairs.append(("ignoredCount", ignored))
        text += f", {ignored} ignored"
        suffix = "WithFailuresAndIgnored" if failed else "WithIgnored"
    return detail(f"lineItemRowsProcessed{suffix}", text, pairs)


def data_errors(
    problems: Counter[tuple[str, str]], pairs: Sequence[tuple[str, object]]
) -> list[TaskResultDetail]:
    """One data-error entry per (type, message) with the number of rows it hit."""
    return [
        detail(type_, text, pairs, occurrences=count)
        for (type_, text), count in sorted(problems.items())
    ]


def failed_to_run(object_id: str, type_: str, text: str) -> TaskResult:
    """The result of an action that could not run (`currentStep` "Failed.")."""
    return TaskResult.build(
        successful=False,
        failure_dump_available=False,
        object_id=object_id,
        details=[detail(type_, text)],
    )
