"""Transactional reads and writes: 100,000 list items, a 1,000,000-cell view, 100,000 cells
written; rows per second and peak memory, anaplan-tasks vs anaplan-sdk in the same run.

One emulator process serves a model with a list "Items" (100,000 items, two properties) and a
module "Grid" by Items with ten line items: its default view is 100,000 rows x 10 columns. Each
measurement runs in a fresh process, so peak memory is that call's alone:

- items: anaplan-tasks `lists.iter_items(include_all=True)` (streamed CSV, typed rows one by
  one); anaplan-sdk `tr.get_list_items()` (one JSON answer, `includeAll=true`, typed rows).
- view: anaplan-tasks `views.iter_rows()` (streamed grid CSV); anaplan-sdk `tr.get_view_data()`
  as JSON (its default) and as CSV bytes.
- write: 100,000 cells in one call each way (`cells.write`, `tr.update_module_data`).

Run from the repository root in the benchmarks' venv (`benchmarks/client_venv.sh`):

    PYTHONPATH=src /tmp/tx-sdk-venv/bin/python benchmarks/client_transactional.py \
        --emulator-python .venv/bin/python [--items 100000]
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
from _client_common import (
    DEMO_PASSWORD,
    DEMO_USER,
    ROOT,
    Emulator,
    _free_port,
    arguments,
    cpu_seconds,
    our_client,
    peak_rss_mb,
    process_cpu_seconds,
    sdk_client,
)

LINE_ITEMS = [f"M{n}" for n in range(10)]

DEFINITION = f"""
[[users]]
email = "{DEMO_USER}"
password = "{DEMO_PASSWORD}"

[[workspaces]]
name = "Bench"
admins = ["{DEMO_USER}"]

[[workspaces.models]]
name = "Grid Model"

[[workspaces.models.lists]]
name = "Items"
properties = [{{ name = "Weight", format = "number" }}, {{ name = "Colour", format = "text" }}]

[[workspaces.models.modules]]
name = "Grid"
dimensions = ["Items"]
line_items = [{", ".join(f'{{ name = "{name}" }}' for name in LINE_ITEMS)}]
"""


@contextlib.contextmanager
def grid_emulator(python: str, scratch: Path) -> Iterator[Emulator]:
    """The emulator with the benchmark's model, in its own process."""
    definition = scratch / "grid.toml"
    definition.write_text(DEFINITION)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [python, "-m", "anaplan_tasks.emulator", "--memory", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--definition", str(definition)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{base_url}/_emulator/health").raise_for_status()
                break
            except httpx2.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.1)
        token = httpx2.post(
            f"{base_url}/token/authenticate", auth=(DEMO_USER, DEMO_PASSWORD)
        ).json()["tokenInfo"]["tokenValue"]
        headers = {"Authorization": f"AnaplanAuthToken {token}"}
        workspace = httpx2.get(f"{base_url}/2/0/workspaces", headers=headers).json()
        workspace_id = workspace["workspaces"][0]["id"]
        models = httpx2.get(f"{base_url}/2/0/workspaces/{workspace_id}/models", headers=headers)
        model_id = models.json()["models"][0]["id"]
        yield Emulator(base_url, workspace_id, model_id, model_id, process.pid)
    finally:
        process.terminate()
        process.wait(10)


def _cells(items: int, line_item: str, offset: float = 0.0) -> list[dict[str, Any]]:
    return [
        {
            "lineItemName": line_item,
            "dimensions": [{"dimensionName": "Items", "itemCode": f"I{n:06d}"}],
            "value": n + offset,
        }
        for n in range(items)
    ]


def _measure(kind: str, emu: Emulator, items: int, ids: dict[str, str]) -> dict[str, float]:
    cpu_before = cpu_seconds()
    began = time.perf_counter()
    rows = 0
    if kind.startswith("tasks-"):
        client = our_client(emu, emu.dev_model_id)
        client.lists.list()  # sign in before the clock starts
        began = time.perf_counter()
        if kind == "tasks-items":
            rows = sum(1 for _ in client.lists.iter_items(ids["list"], include_all=True))
        elif kind == "tasks-view":
            rows = sum(len(row.cells) for row in client.views.iter_rows(ids["module"]))
        else:
            cells = _cells(items, "M9", 0.5)
            began = time.perf_counter()
            rows = client.cells.write(ids["module"], cells).number_of_cells_changed
    else:
        client = sdk_client(emu, emu.dev_model_id)
        tr = client.tr
        tr.get_lists()
        began = time.perf_counter()
        if kind == "sdk-items":
            rows = len(tr.get_list_items(int(ids["list"])))
        elif kind == "sdk-view-json":
            data = tr.get_view_data(int(ids["module"]))
            rows = sum(len(row["cells"]) for row in data["rows"])
        elif kind == "sdk-view-csv":
            body = tr.get_view_data(int(ids["module"]), data_format="text/csv")
            rows = (body.count(b"\n") - 1) * len(LINE_ITEMS)
        else:
            cells = _cells(items, "M9", 0.25)
            began = time.perf_counter()
            answer = tr.update_module_data(int(ids["module"]), cells)
            rows = answer if isinstance(answer, int) else answer["numberOfCellsChanged"]
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "rows": rows,
        "peak_rss_mb": peak_rss_mb(),
        "cpu": cpu_seconds() - cpu_before,
    }


def _fill(emu: Emulator, items: int) -> dict[str, str]:
    client = our_client(emu, emu.dev_model_id)
    try:
        result = client.lists.add(
            "Items",
            (
                {
                    "name": f"Item {n}",
                    "code": f"I{n:06d}",
                    "properties": {"Weight": str(n % 97), "Colour": "red"},
                }
                for n in range(items)
            ),
        )
        assert result.added == items, result
        for line_item in LINE_ITEMS:
            written = client.cells.write("Grid", _cells(items, line_item))
            assert written.number_of_cells_changed == items, written
        return {
            "list": client.lists.get("Items").id,
            "module": client.modules.list()[0].id,
        }
    finally:
        client.close()


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--worker")
    parser.add_argument("--base-url")
    parser.add_argument("--ids")
    options = parser.parse_args()
    if options.worker:
        ids = json.loads(options.ids)
        emu = Emulator(options.base_url, ids["workspace"], ids["model"], ids["model"])
        print(json.dumps(_measure(options.worker, emu, options.items, ids)))
        return
    with (
        tempfile.TemporaryDirectory() as scratch,
        grid_emulator(options.emulator_python, Path(scratch)) as emu,
    ):
        began = time.perf_counter()
        ids = _fill(emu, options.items)
        print(
            f"filled {options.items} items and {options.items * 10} cells in "
            f"{time.perf_counter() - began:.1f} s"
        )
        ids.update(workspace=emu.workspace_id, model=emu.dev_model_id)
        kinds = ["tasks-items", "tasks-view", "tasks-write"]
        if not options.no_sdk:
            kinds = [
                "tasks-items",
                "sdk-items",
                "tasks-view",
                "sdk-view-json",
                "sdk-view-csv",
                "tasks-write",
                "sdk-write",
            ]
        print(
            f"{'measurement':<16}{'rows':>10}{'seconds':>9}{'rows/s':>11}{'peak MB':>9}"
            f"{'client CPU':>12}{'emulator CPU':>14}"
        )
        for kind in kinds:
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
                    "--items",
                    str(options.items),
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
            print(
                f"{kind:<16}{result['rows']:>10}{result['seconds']:>9.2f}"
                f"{result['rows'] / result['seconds']:>11,.0f}{result['peak_rss_mb']:>9.0f}"
                f"{result['cpu']:>12.1f}{served:>14}"
            )


if __name__ == "__main__":
    main()
