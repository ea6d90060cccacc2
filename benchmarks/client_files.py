"""Uploading and downloading a 200 MB CSV: speed and peak memory, anaplan-tasks vs anaplan-sdk.

Each measurement runs in a fresh process (so peak memory is that client's alone), against one
emulator process. Upload: the file on disk to the import data source `employees.csv`
(anaplan-tasks: `files.upload(path)`; anaplan-sdk: `upload_file(bytes)`, its usual call).
Download: the same file's chunks streamed to disk (anaplan-tasks: `files.download(file, path)`;
anaplan-sdk: `get_file_stream`, its streaming call). Export download: a ~200 MB export (the
emulator cuts it into 10 MB chunks, like Anaplan) built by importing a larger employees file and
running "Headcount Export", then downloaded to disk the same two ways.

"client CPU" is the CPU time the client process used (all threads): on this 2-core machine the
emulator shares the CPU, so wall time is bounded by the server, CPU time shows the client's cost.

Run (from the repository root, in the benchmarks' venv made by `benchmarks/client_venv.sh`):

    PYTHONPATH=src /tmp/anaplan-bench-venv/bin/python benchmarks/client_files.py \
        --emulator-python /work/.venv/bin/python [--megabytes 200]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _client_common import (
    Emulator,
    arguments,
    cpu_seconds,
    emulator,
    our_client,
    peak_rss_mb,
    same_content,
    sdk_client,
    write_employees_csv,
)


def _measure(kind: str, emu: Emulator, csv_path: Path, out_path: Path) -> dict[str, float]:
    cpu_before = cpu_seconds()
    if kind == "tasks-upload":
        client = our_client(emu, emu.dev_model_id)
        began = time.perf_counter()
        client.files.upload("employees.csv", csv_path)
    elif kind == "sdk-upload":
        client = sdk_client(emu, emu.dev_model_id)
        file_id = 113000000000
        began = time.perf_counter()
        client.upload_file(file_id, csv_path.read_bytes())
    elif kind.startswith("tasks-"):
        client = our_client(emu, emu.dev_model_id)
        file = "Headcount Export" if kind == "tasks-export-download" else "employees.csv"
        began = time.perf_counter()
        client.files.download(file, out_path)
    else:
        client = sdk_client(emu, emu.dev_model_id)
        file_id = 116000000000 if kind == "sdk-export-download" else 113000000000
        began = time.perf_counter()
        with out_path.open("wb") as handle:
            for chunk in client.get_file_stream(file_id):
                handle.write(chunk)
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "cpu": cpu_seconds() - cpu_before}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument(
        "--export-megabytes", type=int, default=200, help="size of the export to download; 0: skip"
    )
    parser.add_argument("--worker", help=argparse_hidden())
    parser.add_argument("--base-url")
    parser.add_argument("--ids")
    parser.add_argument("--csv")
    parser.add_argument("--out")
    options = parser.parse_args()
    if options.worker:
        workspace, dev, prod = options.ids.split(",")
        emu = Emulator(options.base_url, workspace, dev, prod)
        result = _measure(options.worker, emu, Path(options.csv), Path(options.out))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as scratch, emulator(options.emulator_python) as emu:
        csv_path = Path(scratch) / "employees.csv"
        size = write_employees_csv(csv_path, options.megabytes)
        print(f"file: {size / 1e6:.0f} MB")
        # One untimed upload first: the emulator's first 200 MB cost it about 0.9 s more than
        # later ones (its store grows), which would count against whichever client went first.
        warm_up = our_client(emu, emu.dev_model_id)
        warm_up.files.upload("employees.csv", csv_path)
        warm_up.close()
        kinds = ["tasks-upload", "tasks-download"]
        if not options.no_sdk:
            kinds = ["tasks-upload", "sdk-upload", "tasks-download", "sdk-download"]
        for kind in kinds:
            _report(kind, emu, csv_path, Path(scratch), size, compare_with=csv_path)
        if options.export_megabytes:
            export_size = _build_export(emu, Path(scratch), options.export_megabytes)
            print(f"export: {export_size / 1e6:.0f} MB")
            expected = Path(scratch) / "expected-export.csv"
            client = our_client(emu, emu.dev_model_id)
            client.files.download("Headcount Export", expected)
            client.close()
            kinds = ["tasks-export-download"]
            if not options.no_sdk:
                kinds.append("sdk-export-download")
            for kind in kinds:
                _report(kind, emu, csv_path, Path(scratch), export_size, compare_with=expected)


def _build_export(emu: Emulator, scratch: Path, megabytes: int) -> int:
    """Import enough employees that "Headcount Export" writes about `megabytes` MB."""
    source = scratch / "export-source.csv"
    write_employees_csv(source, int(megabytes * 1.65), seed=2)
    client = our_client(emu, emu.dev_model_id)
    client.imports.run("Load Employees", source=source)
    client.imports.run("Load Headcount")
    client.exports.run("Headcount Export")
    source.unlink()
    client.close()
    return _export_bytes(emu)


def _export_bytes(emu: Emulator) -> int:
    client = our_client(emu, emu.dev_model_id)
    total = sum(len(chunk) for chunk in client.files.iter_download("Headcount Export"))
    client.close()
    return total


def _report(
    kind: str, emu: Emulator, csv_path: Path, scratch: Path, size: int, *, compare_with: Path
) -> None:
    out_path = scratch / f"{kind}.out"
    command = [
        sys.executable,
        __file__,
        "--worker", kind,
        "--base-url", emu.base_url,
        "--ids", f"{emu.workspace_id},{emu.dev_model_id},{emu.prod_model_id}",
        "--csv", str(csv_path),
        "--out", str(out_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
    if done.returncode != 0:
        print(f"{kind}: failed\n{done.stderr[-2000:]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    speed = size / 1e6 / result["seconds"]
    note = ""
    if "download" in kind:
        same = same_content(out_path, compare_with)
        note = "  content identical" if same else "  CONTENT DIFFERS"
        out_path.unlink()
    print(
        f"{kind:<20} {result['seconds']:7.2f} s  {speed:7.1f} MB/s  "
        f"client CPU {result['cpu']:6.2f} s  "
        f"peak RSS {result['peak_rss_mb']:6.1f} MB{note}",
        flush=True,
    )


def argparse_hidden() -> str:
    """Help text of the internal worker option."""
    return "internal: run one measurement in this process"


if __name__ == "__main__":
    main()
