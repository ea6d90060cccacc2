"""Benchmark: a 1,000,000-row list import and module import through the emulator's engine.

Uploads the demo's employees.csv in chunks, starts "Load Employees" (list) then "Load Headcount"
(module), and times each task from start to COMPLETE. Prints rows/s.

Then, in a fresh store of the same kind, times the store's own bulk statement alone (the same
`upsert_items` / `write_cells` the imports end in) fed the same rows already parsed and
converted, and prints each import's speed as a fraction of it ("of bulk").

    PYTHONPATH=src python benchmarks/emulator_import.py [--rows N] [--memory]
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
from pathlib import Path

from anaplan_tasks.emulator.demo import DEV_MODEL, generate_employees_csv
from anaplan_tasks.emulator.engine import EmulatorEngine, create_engine
from anaplan_tasks.emulator.engine.contract import Page, TaskStart
from anaplan_tasks.emulator.engine.values import to_boolean, to_date, to_number

CHUNK_BYTES = 25 * 1024 * 1024


def main() -> None:
    """Parse arguments and run the benchmark in a fresh data directory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory", action="store_true", help="ephemeral store (no fsync)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as tmp:
        engine = create_engine(
            data_dir=None if args.memory else Path(tmp), memory=args.memory, demo=True
        )
        try:
            timings = run(engine, args.rows)
        finally:
            engine.close()
    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as tmp:
        engine = create_engine(
            data_dir=None if args.memory else Path(tmp), memory=args.memory, demo=True
        )
        try:
            bulk = bulk_statements(engine, args.rows)
        finally:
            engine.close()
    for name, elapsed in timings.items():
        print(
            f"{name}: import {elapsed:.2f} s, bulk statement {bulk[name]:.2f} s: "
            f"{bulk[name] / elapsed:.2f} of bulk"
        )


def run(engine: EmulatorEngine, rows: int) -> dict[str, float]:
    """Upload the file, then run both imports and print their rates; returns their times."""
    principal = engine.authenticate_basic("demo@example.com", "demo")
    assert principal is not None
    model = next(m for m in engine.models(principal, None, Page()).items if m.name == DEV_MODEL)
    file_id = next(
        f.id for f in engine.files(principal, model.id, Page()).items if f.name == "employees.csv"
    )
    started = time.perf_counter()
    chunks: list[bytes] = []
    pending = bytearray()
    for block in generate_employees_csv(rows):
        pending += block
        if len(pending) >= CHUNK_BYTES:
            chunks.append(bytes(pending))
            pending.clear()
    if pending:
        chunks.append(bytes(pending))
    generated = time.perf_counter()
    engine.set_chunk_count(principal, model.id, file_id, len(chunks))
    for index, chunk in enumerate(chunks):
        engine.put_chunk(principal, model.id, file_id, index, chunk)
    uploaded = time.perf_counter()
    size = sum(len(c) for c in chunks)
    print(
        f"generated {rows:,} rows ({size / 1e6:.1f} MB) in {generated - started:.2f} s; "
        f"uploaded {len(chunks)} chunks in {uploaded - generated:.2f} s"
    )
    imports = {i.name: i.id for i in engine.imports(principal, model.id, Page()).items}
    timings: dict[str, float] = {}
    for name in ("Load Employees", "Load Headcount"):
        import_id = imports[name]
        begin = time.perf_counter()
        task = engine.start_task(
            principal, model.id, "imports", import_id, TaskStart(locale_name="en_US")
        )
        # Woken when the task ends (no status reads competing with the import for the CPU).
        if not engine.wait_idle(timeout=3600):
            raise SystemExit(f"{name} did not finish within an hour")
        elapsed = time.perf_counter() - begin
        status = engine.task(principal, model.id, "imports", import_id, task.id)
        if status.task_state != "COMPLETE" or status.current_step != "Complete.":
            raise SystemExit(f"{name} did not run: {status.current_step}")
        summary = status.result.details[0].text
        print(
            f"{name}: {rows:,} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s ({summary})"
        )
        timings[name] = elapsed
    return timings


def bulk_statements(engine: EmulatorEngine, rows: int) -> dict[str, float]:
    """Time the store's bulk statements alone on the rows the two imports write."""
    principal = engine.authenticate_basic("demo@example.com", "demo")
    assert principal is not None
    model = next(m for m in engine.models(principal, None, Page()).items if m.name == DEV_MODEL)
    text = b"".join(generate_employees_csv(rows)).decode("utf-8")
    records = list(csv.reader(io.StringIO(text)))[1:]
    # Employee ID, Name, Region, Start Date, Active, Salary, FTE -> what the converters yield.
    items = [(r[0], r[1], r[2] or None, to_date(r[3]), to_boolean(r[4])) for r in records]
    cells = [(r[0], to_number(r[5]), to_number(r[6]), to_date(r[3])) for r in records]
    del records, text
    data = engine._store.model_data(model.id)  # the store under the engine
    timings: dict[str, float] = {}
    begin = time.perf_counter()
    with data.transaction() as txn:
        txn.upsert_items(
            "Employees",
            with_name=True,
            with_parent=False,
            properties=[("Region", "json"), ("Start Date", "json"), ("Active", "boolean")],
            rows=items,
        )
    timings["Load Employees"] = time.perf_counter() - begin
    begin = time.perf_counter()
    with data.transaction() as txn:
        txn.write_cells(
            "Headcount",
            line_items=[("Salary", "json"), ("FTE", "json"), ("Start Date", "json")],
            rows=cells,
        )
    timings["Load Headcount"] = time.perf_counter() - begin
    return timings


if __name__ == "__main__":
    main()
