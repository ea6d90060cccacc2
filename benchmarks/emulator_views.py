"""Benchmark: building a view's grid in the emulator's engine, with and without aggregates.

A module "Grid" by a list "Items" of N items (default 99,999) with ten number line items, every
cell stored: its default view is N rows x 10 columns. Three models, side by side in one run:

- flat: the list has no top level, so every row is a leaf and each row's cells are looked up;
- top level: the list has a top-level item, so the grid rolls the cells up (one total row);
- by month: a module by Items (N / 12 items) and Time, Time on columns (12 months, 4 quarters,
  the year and All Periods) and a version on pages: every cell rolled into its totals.

Times `Modules.grid()` and the grid's CSV, in-process (no HTTP), and prints the peak RSS.

    PYTHONPATH=src python benchmarks/emulator_views.py [--items N]
"""

from __future__ import annotations

import argparse
import resource
import time

from anaplan_tasks.emulator.definitions import parse_definition
from anaplan_tasks.emulator.engine import create_engine
from anaplan_tasks.emulator.engine.contract import Page
from anaplan_tasks.emulator.engine.modules import Modules
from anaplan_tasks.emulator.engine.timescale import periods

LINE_ITEMS = [f"M{n}" for n in range(10)]


def _definition(kind: str) -> str:
    top = 'top_level = "All Items"' if kind == "top level" else ""
    dimensions = '["Items", "Time", "Versions"]' if kind == "by month" else '["Items"]'
    view = (
        '\nviews = [{ name = "By Month", rows = ["Items"], columns = ["Time"], '
        'pages = ["Versions", "Line Items"] }]'
        if kind == "by month"
        else ""
    )
    return f"""
[[users]]
email = "a@example.com"
password = "a"
[[workspaces]]
name = "W"
admins = ["a@example.com"]
[[workspaces.models]]
name = "G"
[[workspaces.models.lists]]
name = "Items"
{top}
[[workspaces.models.modules]]
name = "Grid"
dimensions = {dimensions}
line_items = [{", ".join(f'{{ name = "{name}" }}' for name in LINE_ITEMS)}]{view}
[workspaces.models.calendar]
past_years = 0
future_years = 0
"""


def measure(kind: str, items: int) -> None:
    engine = create_engine(memory=True, definitions=[parse_definition(_definition(kind))])
    try:
        who = engine.authenticate_basic("a@example.com", "a")
        assert who is not None
        model_id = engine.models(who, None, Page()).items[0].id
        data = engine.store.model_data(model_id)
        count = items // 12 if kind == "by month" else items
        data.add_initial_items(
            "Items", [{"code": f"I{n}", "name": f"Item {n}"} for n in range(count)]
        )
        if kind == "by month":
            structure = engine.catalog_of(model_id).structure
            months = [p.label for p in periods(structure.calendar) if not p.is_total]
            keys = [f"I{n}\x1f{month}\x1fActual" for n in range(count) for month in months]
        else:
            keys = [f"I{n}" for n in range(count)]
        with data.transaction() as txn:
            txn.write_cells(
                "Grid",
                line_items=[(name, "json") for name in LINE_ITEMS],
                rows=((key, *[float(n + j) for j in range(10)]) for n, key in enumerate(keys)),
            )
        modules = Modules(engine, model_id)
        views = modules.views(None)
        view_id = views[-1]["id"]  # the saved view when there is one, else the default
        start = time.perf_counter()
        grid = modules.grid(view_id)
        body = grid.csv_bytes()
        seconds = time.perf_counter() - start
        cells = sum(len(cells) for _, cells in grid.rows)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{kind:10} {len(keys):>9,} stored rows {cells:>10,} cells shown "
            f"{seconds:6.2f} s {cells / seconds:>10,.0f} cells/s  CSV {len(body) / 1e6:5.1f} MB  "
            f"peak RSS {rss:5.0f} MB"
        )
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=99_999)
    args = parser.parse_args()
    for kind in ("flat", "top level", "by month"):
        measure(kind, args.items)


if __name__ == "__main__":
    main()
