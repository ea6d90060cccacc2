"""Benchmark: structural diff, comparison report (render + parse) and summary of a big model.

Builds a model with N lists (3 properties each) and N modules (20 line items each), changes a
tenth of everything (adds, deletes, format changes), then times the diff, the report's rendering,
its parsing and the summary. Prints seconds and the report's size.

    PYTHONPATH=src python benchmarks/alm_report.py [--objects N]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from anaplan_tasks.emulator.alm.diff import diff_structures
from anaplan_tasks.emulator.alm.report import comparison_report, summary_report
from anaplan_tasks.emulator.definitions import ModelDef
from anaplan_tasks.models.alm_report import ReportSide, parse_comparison_report


def model(objects: int, *, changed: bool) -> ModelDef:
    """A model of `objects` lists and modules; `changed` alters every tenth object."""
    lists: list[dict[str, Any]] = []
    modules: list[dict[str, Any]] = []
    for number in range(objects):
        touched = changed and number % 10 == 0
        if touched and number % 20 == 0:
            continue  # deleted
        lists.append(
            {
                "name": f"List {number}",
                "top_level": "All" if not touched else "Total",
                "properties": [{"name": f"P{p}", "format": "text"} for p in range(3)],
            }
        )
        line_items = [
            {"name": f"Item {i}", "format": "text" if touched and i == 0 else "number"}
            for i in range(20)
        ]
        if touched:
            line_items.append({"name": "Added"})
        modules.append(
            {"name": f"Module {number}", "dimensions": [f"List {number}"], "line_items": line_items}
        )
    if changed:
        lists += [{"name": f"New List {n}"} for n in range(objects // 10)]
    return ModelDef.model_validate({"name": "Big", "lists": lists, "modules": modules})


def main() -> None:
    """Build the two structures and time each step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args()
    old, new = model(args.objects, changed=False), model(args.objects, changed=True)
    side = ReportSide("ws", "Workspace", "Big", "R", None)

    began = time.perf_counter()
    diff = diff_structures(old, new)
    diffed = time.perf_counter()
    text = comparison_report(diff, source=side, target=side).to_bytes()
    rendered = time.perf_counter()
    parsed = parse_comparison_report(text)
    read = time.perf_counter()
    summary = summary_report(diff, target_revision_id="T", source_revision_id="S")
    summarised = time.perf_counter()

    rows = sum(len(section.rows) for section in parsed.sections)
    print(f"objects: {args.objects} lists + {args.objects} modules x 20 line items")
    print(f"changes: {len(diff)} ({summary.totals.to_wire()})")
    print(f"diff:    {diffed - began:.3f} s")
    print(f"render:  {rendered - diffed:.3f} s ({len(text) / 1e6:.2f} MB, {rows} rows)")
    print(f"parse:   {read - rendered:.3f} s")
    print(f"summary: {summarised - read:.3f} s")


if __name__ == "__main__":
    main()
