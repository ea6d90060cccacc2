"""Large-volume reads: a 5,000,000-cell view read to disk with a read request (wall time, MB/s,
peak memory, pages read while the request still worked), against the transactional read of the
same view where that is possible (not past 1,000,000 cells: a 1,000,000-cell view too) and
against anaplan-sdk's nearest equivalents in the same run.

One emulator process serves a model with a list "Items" (--items, 500,000) and a module "Grid"
by Items with ten line items (5,000,000 cells), and a list "Few" (a fifth of it) with a module
"Small" (1,000,000 cells); both are loaded by bulk imports, and each module has a bulk export.
anaplan-sdk 0.5.22 has no read requests: its nearest equivalents are the bulk export
(`export_and_download`, the whole file in memory; or `run_action` and `get_file_stream`, chunk
by chunk to disk), and for the 1,000,000-cell view its transactional read (`tr.get_view_data`,
CSV). Each measurement runs in a fresh process, so peak
memory is that call's alone.

Run from the repository root in the benchmarks' venv (`benchmarks/client_venv.sh`):

    PYTHONPATH=src /tmp/anaplan-bench-venv/bin/python benchmarks/client_large_read.py \
        --emulator-python .venv/bin/python [--items 500000]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _client_common import (
    DEMO_USER,
    Emulator,
    arguments,
    cpu_seconds,
    emulator,
    our_client,
    peak_rss_mb,
    process_cpu_seconds,
    sdk_client,
)

LINE_ITEMS = [f"M{n}" for n in range(10)]
SMALL_SHARE = 5  # "Few" holds items // 5 items: 1,000,000 cells at the default size


def definition() -> str:
    mapping = ", ".join(f'{name} = "{name}"' for name in LINE_ITEMS)
    line_items = ", ".join(f'{{ name = "{name}" }}' for name in LINE_ITEMS)
    blocks = [
        f"""
[[workspaces]]
name = "Large Reads"
admins = ["{DEMO_USER}"]

[[workspaces.models]]
name = "Volume"
"""
    ]
    for list_name, module, export in (
        ("Items", "Grid", "Grid Export"),
        ("Few", "Small", "Small Export"),
    ):
        blocks.append(
            f"""
[[workspaces.models.lists]]
name = "{list_name}"

[[workspaces.models.modules]]
name = "{module}"
dimensions = ["{list_name}"]
line_items = [{line_items}]

[[workspaces.models.files]]
name = "{list_name.lower()}.csv"

[[workspaces.models.files]]
name = "{module.lower()}.csv"

[[workspaces.models.imports]]
name = "Load {list_name}"
file = "{list_name.lower()}.csv"
target_list = "{list_name}"
mapping = {{ code = "Code", name = "Name" }}

[[workspaces.models.imports]]
name = "Load {module}"
file = "{module.lower()}.csv"
target_module = "{module}"
mapping = {{ {list_name} = "Code", {mapping} }}

[[workspaces.models.exports]]
name = "{export}"
source_module = "{module}"
"""
        )
    return "".join(blocks)


def _write_sources(scratch: Path, prefix: str, items: int) -> tuple[Path, Path]:
    listing = scratch / f"{prefix}-items.csv"
    cells = scratch / f"{prefix}-cells.csv"
    with listing.open("w") as names, cells.open("w") as values:
        names.write("Code,Name\n")
        values.write("Code," + ",".join(LINE_ITEMS) + "\n")
        for n in range(items):
            names.write(f"{prefix}{n:07d},{prefix} item {n}\n")
            values.write(
                f"{prefix}{n:07d}," + ",".join(f"{n * 10 + m}.25" for m in range(10)) + "\n"
            )
    return listing, cells


def _fill(emu: Emulator, model_id: str, items: int, scratch: Path) -> dict[str, Any]:
    client = our_client(emu, model_id)
    try:
        for list_name, module, count in (
            ("Items", "Grid", items),
            ("Few", "Small", items // SMALL_SHARE),
        ):
            listing, cells = _write_sources(scratch, list_name[0], count)
            for action, source in ((f"Load {list_name}", listing), (f"Load {module}", cells)):
                task = client.imports.run(action, source=source, timeout=3600)
                assert task.result is not None, task
                assert task.result.successful, task
        modules = {m.name: m.id for m in client.modules.list()}
        exports = {e.name: e.id for e in client.exports.list()}
        return {"modules": modules, "exports": exports}
    finally:
        client.close()


def _measure(
    kind: str, emu: Emulator, model_id: str, ids: dict[str, Any], out: Path
) -> dict[str, Any]:
    size = "Grid" if kind.endswith("-5m") else "Small"
    view_id = ids["modules"][size]
    export_id = ids["exports"][f"{size} Export"]
    cpu_before = cpu_seconds()
    extra: dict[str, Any] = {}
    began = time.perf_counter()
    written = 0
    try:
        if kind.startswith("tasks-"):
            client = our_client(emu, model_id)
            client.modules.list()  # sign in before the clock starts
            began = time.perf_counter()
            if kind.startswith("tasks-large"):
                seen: list[int | None] = []
                written = client.views.read_large(
                    view_id, out, on_progress=lambda done, total: seen.append(total)
                )
                extra = {
                    "pages": len(seen) and (seen[-1] or 0),
                    "pages_while_in_progress": sum(1 for total in seen if total is None),
                }
            else:
                written = client.views.download(view_id, out)
            client.close()
        else:
            client = sdk_client(emu, model_id)
            client.tr.get_lists()
            began = time.perf_counter()
            if kind.startswith("sdk-stream"):
                client.run_action(int(export_id))
                with out.open("wb") as handle:
                    for chunk in client.get_file_stream(int(export_id), batch_size=4):
                        handle.write(chunk)
                        written += len(chunk)
            elif kind.startswith("sdk-export"):
                data = client.export_and_download(int(export_id))
            else:
                data = client.tr.get_view_data(int(view_id), data_format="text/csv")
            if not kind.startswith("sdk-stream"):
                out.write_bytes(data)
                written = len(data)
                del data
    except Exception as error:  # the transactional reads refuse the 5M view: say how
        extra = {"error": f"{type(error).__name__}: {str(error)[:120]}"}
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "bytes": written,
        "peak_rss_mb": peak_rss_mb(),
        "cpu": cpu_seconds() - cpu_before,
        **extra,
    }


KINDS = {
    "tasks-large-5m": "anaplan-tasks `views.read_large()` (read request)",
    "tasks-transactional-5m": "anaplan-tasks `views.download()` (transactional)",
    "sdk-export-5m": "anaplan-sdk `export_and_download()` (bulk export)",
    "sdk-stream-5m": "anaplan-sdk `run_action()` + `get_file_stream(batch_size=4)` (bulk export)",
    "sdk-view-5m": "anaplan-sdk `tr.get_view_data()` (CSV)",
    "tasks-large-1m": "anaplan-tasks `views.read_large()` (read request)",
    "tasks-transactional-1m": "anaplan-tasks `views.download()` (transactional)",
    "sdk-export-1m": "anaplan-sdk `export_and_download()` (bulk export)",
    "sdk-stream-1m": "anaplan-sdk `run_action()` + `get_file_stream(batch_size=4)` (bulk export)",
    "sdk-view-1m": "anaplan-sdk `tr.get_view_data()` (CSV)",
}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--worker")
    parser.add_argument("--base-url")
    parser.add_argument("--ids")
    parser.add_argument("--out")
    parser.add_argument("--only", nargs="*", help="measure only these kinds (names as printed)")
    options = parser.parse_args()
    if options.worker:
        ids = json.loads(options.ids)
        emu = Emulator(options.base_url, ids["workspace"], ids["model"], ids["model"])
        result = _measure(options.worker, emu, ids["model"], ids, Path(options.out))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        spec = scratch / "volume.toml"
        spec.write_text(definition())
        with emulator(options.emulator_python, spec) as emu:
            model_id = (emu.models or {})["Volume"]
            began = time.perf_counter()
            ids = _fill(emu, model_id, options.items, scratch)
            cells = options.items * len(LINE_ITEMS)
            print(
                f"loaded {cells:,} + {cells // SMALL_SHARE:,} cells by bulk imports in "
                f"{time.perf_counter() - began:.1f} s"
            )
            ids.update(workspace=emu.workspace_id, model=model_id)
            kinds = [k for k in KINDS if not (options.no_sdk and k.startswith("sdk-"))]
            if options.only:
                kinds = [k for k in kinds if k in options.only]
            print(
                f"{'measurement':<24}{'MB':>8}{'seconds':>9}{'MB/s':>8}{'peak MB':>9}"
                f"{'client CPU':>12}{'emulator CPU':>14}  notes"
            )
            for kind in kinds:
                out = scratch / f"{kind}.csv"
                emulator_before = process_cpu_seconds(emu.pid)
                output = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        kind,
                        "--base-url",
                        emu.base_url,
                        "--ids",
                        json.dumps(ids),
                        "--out",
                        str(out),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(output.splitlines()[-1])
                emulator_after = process_cpu_seconds(emu.pid)
                served = (
                    f"{emulator_after - emulator_before:.1f}"
                    if emulator_before is not None and emulator_after is not None
                    else "-"
                )
                megabytes = result["bytes"] / 1e6
                notes = result.get("error") or (
                    f"{result['pages']} pages, {result['pages_while_in_progress']} read while "
                    "IN_PROGRESS"
                    if "pages" in result
                    else ""
                )
                print(
                    f"{kind:<24}{megabytes:>8.1f}{result['seconds']:>9.2f}"
                    f"{megabytes / result['seconds']:>8.1f}{result['peak_rss_mb']:>9.0f}"
                    f"{result['cpu']:>12.1f}{served:>14}  {notes}",
                    flush=True,
                )
                out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
