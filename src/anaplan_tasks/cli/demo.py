"""`anaplan-tasks demo`: the whole product on an in-process emulator, one step at a time.

Everything Anaplan-side goes through the public client, exactly as against the real Anaplan;
only two things use the emulator's own control surface, because Anaplan has no API for them:
changing the dev model's structure (a modeller's work in Anaplan's UI) and slowing tasks down
so that one can be cancelled while it runs.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._core.chunks import MIN_CHUNK_SIZE
from ..client import Client, TaskRef
from ..emulator.demo import (
    DEMO_PASSWORD,
    DEMO_USER,
    DEMO_WORKSPACE,
    DEV_MODEL,
    PROD_MODEL,
    bad_rows_of,
    write_employees_csv,
)
from ..emulator.engine.contract import Progression
from ..emulator.server import RunningEmulator, run_emulator
from ..errors import TaskCancelledError
from ..models import CancelledTask, CompletedTask, WireModel
from . import render

EMPLOYEE_IMPORT = "Load Employees"
NIGHTLY_PROCESS = "Nightly Load"
HEADCOUNT_EXPORT = "Headcount Export"
LONG_TASK_SECONDS = 30.0
"""How long the task that gets cancelled would run (the emulator's `fixed` progression)."""

DEV_CHANGES: list[dict[str, Any]] = [
    {
        "op": "addList",
        "list": {"name": "Channels", "items": [{"code": "WEB"}, {"code": "RETAIL"}]},
    },
    {"op": "addLineItem", "module": "Headcount", "lineItem": {"name": "Bonus", "format": "number"}},
]
"""What the "modeller" changes in dev before the release (one list, one line item)."""


@dataclass
class Step:
    """One step of the story: what happened, in a line, and its figures."""

    name: str
    outcome: str
    seconds: float
    figures: dict[str, Any] = field(default_factory=dict)
    task: WireModel | None = None

    def to_json(self) -> dict[str, Any]:
        """The step for `--json`: tasks as Anaplan's wire models."""
        document: dict[str, Any] = {
            "step": self.name,
            "outcome": self.outcome,
            "seconds": round(self.seconds, 3),
            "figures": self.figures,
        }
        if self.task is not None:
            document["task"] = self.task.to_wire()
        return document


class Story:
    """Prints the story as it goes (or keeps quiet for --json) and keeps every step."""

    def __init__(self, console: Console, *, quiet: bool):
        self.console = console
        self.quiet = quiet
        self.steps: list[Step] = []

    def say(self, message: Any = "") -> None:
        """Print a line, a table or a text (nothing in --json mode)."""
        if not self.quiet:
            self.console.print(message)

    def heading(self, number: int, title: str) -> None:
        """The start of a step."""
        self.say(Text(f"\n{number}. {title}", style="bold cyan"))

    def done(self, step: Step) -> Step:
        """Record a step and print its one-line outcome."""
        self.steps.append(step)
        self.say(Text(f"   → {step.outcome}", style="bold green"))
        return step

    @contextmanager
    def progress(self, description: str) -> Iterator[Callable[..., None]]:
        """A progress bar for a wait (on the story's console)."""
        with render.progress_callback(
            description, enabled=not self.quiet, console=self.console
        ) as on_progress:
            yield on_progress


def run_demo(
    *,
    rows: int = 50_000,
    bad_rows: int = 7,
    keep_running: bool = False,
    json_output: bool = False,
    console: Console | None = None,
    data_dir: Path | None = None,
) -> int:
    """Run the whole story on an in-process emulator; returns the exit code (0 when every step
    told its story).

    Args:
        rows: Rows of the generated employees.csv.
        bad_rows: How many of them are deliberately wrong (rejected by the import).
        keep_running: Leave the emulator up afterwards (until Ctrl-C) and say how to reach it.
        json_output: Print one JSON document (the steps) instead of the story.
        console: Where the story goes (default: stdout).
        data_dir: Keep the emulator's data here (default: in memory).
    """
    story = Story(console or render.console, quiet=json_output)
    began = time.monotonic()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="anaplan-demo-")))
        story.say(Text("anaplan-tasks demo: Anaplan's tasks, end to end, on a local emulator",
                       style="bold"))  # fmt: skip
        emulator = stack.enter_context(run_emulator(demo=True, data_dir=data_dir))
        story.say(f"emulator listening on {emulator.base_url} (workspace {DEMO_WORKSPACE!r})")
        client = stack.enter_context(
            Client(base_url=emulator.base_url, email=DEMO_USER, password=DEMO_PASSWORD)
        )
        workspace = next(w.id for w in client.workspaces.list() if w.name == DEMO_WORKSPACE)
        model_ids = {model.name: model.id for model in client.models.list(workspace)}
        dev = stack.enter_context(client.with_model(model_ids[DEV_MODEL], workspace))
        prod = stack.enter_context(client.with_model(model_ids[PROD_MODEL], workspace))

        source = _generate(story, workdir, rows, bad_rows)
        _upload(story, dev, source)
        _import(story, dev, workdir, bad_rows)
        _process(story, dev)
        _export(story, dev, workdir)
        _cancel(story, dev, emulator)
        _alm(story, emulator, dev, prod)
        elapsed = time.monotonic() - began
        if json_output:
            render.emit_json(
                {"steps": [step.to_json() for step in story.steps], "seconds": round(elapsed, 3)}
            )
        else:
            story.say()
            story.say(_summary_table(story.steps, elapsed))
        if keep_running:
            _keep_running(story, emulator, workspace, model_ids)
    return 0


def _generate(story: Story, workdir: Path, rows: int, bad_rows: int) -> Path:
    story.heading(1, f"Generate employees.csv: {rows:,} rows, {bad_rows} of them bad")
    started = time.monotonic()
    path = write_employees_csv(workdir / "employees.csv", rows, bad_rows)
    kinds = sorted(set(bad_rows_of(rows, bad_rows).values()))
    size = path.stat().st_size
    story.say(f"   bad rows: {', '.join(kinds)}")
    story.done(
        Step(
            "generate",
            f"employees.csv: {rows:,} rows, {render.human_bytes(size)}",
            time.monotonic() - started,
            {"rows": rows, "badRows": bad_rows, "bytes": size},
        )
    )
    return path


def _upload(story: Story, dev: Client, source: Path) -> None:
    story.heading(2, "Upload it to the model's import file (chunked, compressed)")
    started = time.monotonic()
    with render.working("uploading", enabled=not story.quiet):
        # Small chunks, so that even the demo's file travels in several (Anaplan allows 1-50 MB).
        info = dev.files.upload("employees.csv", source, chunk_size=MIN_CHUNK_SIZE)
    seconds = time.monotonic() - started
    size = source.stat().st_size
    story.done(
        Step(
            "upload",
            f"uploaded {render.human_bytes(size)} to {info.name!r} ({info.id}) in "
            f"{info.chunk_count} chunk(s), {seconds:.2f} s",
            seconds,
            {"bytes": size, "chunks": info.chunk_count, "fileId": info.id},
        )
    )


def _import(story: Story, dev: Client, workdir: Path, bad_rows: int) -> None:
    story.heading(3, f"Import into the Employees list ({EMPLOYEE_IMPORT!r})")
    started = time.monotonic()
    with story.progress(EMPLOYEE_IMPORT) as on_progress:
        task = dev.imports.run(EMPLOYEE_IMPORT, on_progress=on_progress)
    seconds = time.monotonic() - started
    story.say(render.task_line(task))
    story.say(render.result_table(task.result, names={"112000000000": EMPLOYEE_IMPORT}))
    dumps = dev.tasks.dumps(task)
    dump_path = workdir / "employees-rejected.csv"
    dumps.save(dump_path)
    rejected = list(dumps.iter_rows())
    story.say(render.dump_table(rejected, limit=5))
    loaded = _detail_value(task, "successRowCount")
    kinds = bad_rows_of(_detail_value(task, "totalRowCount"), bad_rows).values()
    salary_only = sum(1 for kind in kinds if kind == "malformed number")
    if salary_only:
        story.say(
            f"   ({salary_only} bad row(s) only have a malformed Salary, which this list import "
            "does not read; the module import in the next step rejects them)"
        )
    story.done(
        Step(
            "import",
            f"{loaded:,} rows loaded, {task.result.failed_row_count} rejected "
            f"(failure dump: {len(rejected)} rows, each with its reason)",
            seconds,
            {
                "rowsLoaded": loaded,
                "rowsRejected": task.result.failed_row_count,
                "dumpRows": len(rejected),
                "badRowsGenerated": bad_rows,
            },
            task,
        )
    )


def _process(story: Story, dev: Client) -> None:
    story.heading(4, f"Run the process {NIGHTLY_PROCESS!r} (imports, a delete, an export)")
    started = time.monotonic()
    with story.progress(NIGHTLY_PROCESS) as on_progress:
        task = dev.processes.run(NIGHTLY_PROCESS, on_progress=on_progress)
    seconds = time.monotonic() - started
    names = {definition.id: definition.name for definition in _definitions(dev)}
    story.say(render.result_table(task.result, names=names))
    nested = task.result.nested_results
    ok = sum(1 for part in nested if part.successful)
    story.done(
        Step(
            "process",
            f"{len(nested)} actions ran, {ok} successful, "
            f"{task.result.failed_row_count} rows rejected on the way",
            seconds,
            {"actions": len(nested), "successful": ok},
            task,
        )
    )


def _export(story: Story, dev: Client, workdir: Path) -> None:
    story.heading(5, f"Export {HEADCOUNT_EXPORT!r} and download it")
    started = time.monotonic()
    target = workdir / "headcount.csv"
    with story.progress(HEADCOUNT_EXPORT) as on_progress:
        task = dev.exports.run(HEADCOUNT_EXPORT, dest=target, on_progress=on_progress)
    seconds = time.monotonic() - started
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        data_rows = sum(1 for _ in reader)
    size = target.stat().st_size
    story.say(f"   columns: {', '.join(header)}")
    story.done(
        Step(
            "export",
            f"exported and downloaded {data_rows:,} rows ({render.human_bytes(size)})",
            seconds,
            {"rows": data_rows, "bytes": size, "columns": len(header)},
            task,
        )
    )


def _cancel(story: Story, dev: Client, emulator: RunningEmulator) -> None:
    story.heading(6, f"Start a long import ({LONG_TASK_SECONDS:.0f} s) and cancel it")
    started = time.monotonic()
    emulator.control.set_progression(Progression(mode="fixed", seconds=LONG_TASK_SECONDS))
    try:
        ref: TaskRef = dev.imports.start(EMPLOYEE_IMPORT)
        status = dev.tasks.status(ref)
        while status.task_state != "IN_PROGRESS" or status.progress < 0.03:
            time.sleep(0.1)
            status = dev.tasks.status(ref)
        story.say(f"   {status.describe()}")
        dev.tasks.cancel(ref)
        try:
            final: CompletedTask | CancelledTask = dev.tasks.wait(ref)
        except TaskCancelledError as cancelled:
            final = cancelled.task
    finally:
        emulator.control.set_progression(Progression())
    seconds = time.monotonic() - started
    story.done(
        Step(
            "cancel",
            f"task {ref.task_id} {final.task_state} at {final.progress:.0%}: its changes "
            "rolled back",
            seconds,
            {"taskState": final.task_state, "progress": final.progress},
            final,
        )
    )


def _alm(story: Story, emulator: RunningEmulator, dev: Client, prod: Client) -> None:
    dev_id = dev.config.model_id or ""
    story.heading(7, "ALM: change dev, tag a revision, compare, summarise, sync to prod")
    started = time.monotonic()
    _edit_structure(emulator, dev_id, DEV_CHANGES)
    story.say("   dev changed: a list 'Channels', a line item 'Headcount.Bonus'")
    revision = dev.alm.create_revision("Release 1", "Channels and bonus")
    story.say(f"   revision {revision.name!r} ({revision.id}) created in dev")
    syncable = prod.alm.syncable_revisions(dev_id)
    story.say(f"   prod can sync: {', '.join(repr(r.name) for r in syncable)}")
    with story.progress("comparison report") as on_progress:
        comparison = prod.alm.compare(dev_id, on_progress=on_progress)
    changed = [section for section in comparison.report.sections if section.rows]
    for section in changed:
        names = ", ".join(_change_label(row) for row in section.rows)
        story.say(f"   {section.title}: {names}")
    with story.progress("summary report") as on_progress:
        summary = prod.alm.summarize(dev_id, on_progress=on_progress)
    totals = summary.summary.totals
    story.say(
        f"   summary: {totals.created} created, {totals.modified} modified, "
        f"{totals.deleted} deleted"
    )
    with story.progress("sync") as on_progress:
        synced = prod.alm.sync(dev_id, on_progress=on_progress)
    prod_structure = _structure(emulator, prod.config.model_id or "")
    has_channels = any(item["name"] == "Channels" for item in prod_structure["lists"])
    seconds = time.monotonic() - started
    story.done(
        Step(
            "alm",
            f"revision {revision.name!r} synced to prod: {totals.created} created, "
            f"{totals.modified} modified, {totals.deleted} deleted; prod has 'Channels': "
            f"{'yes' if has_channels else 'no'}",
            seconds,
            {
                "revisionId": revision.id,
                "sectionsChanged": [section.title for section in changed],
                "created": totals.created,
                "modified": totals.modified,
                "deleted": totals.deleted,
                "prodHasChange": has_channels,
            },
            synced,
        )
    )


def _summary_table(steps: list[Step], elapsed: float) -> Table:
    table = Table(title="What happened", title_justify="left", header_style="bold")
    table.add_column("Step", no_wrap=True)
    table.add_column("Outcome", overflow="fold")
    table.add_column("Time", justify="right", no_wrap=True)
    for step in steps:
        table.add_row(step.name, step.outcome, f"{step.seconds:.2f} s")
    table.caption = f"total {elapsed:.1f} s"
    return table


def _keep_running(
    story: Story, emulator: RunningEmulator, workspace: str, model_ids: dict[str, str]
) -> None:
    lines = [
        "",
        "The emulator keeps running; try the command line against it:",
        f"  export ANAPLAN_BASE_URL={emulator.base_url}",
        f"  export ANAPLAN_EMAIL={DEMO_USER} ANAPLAN_PASSWORD={DEMO_PASSWORD}",
        f"  export ANAPLAN_WORKSPACE_ID={workspace} ANAPLAN_MODEL_ID={model_ids[DEV_MODEL]}",
        "  anaplan-tasks imports",
        f'  anaplan-tasks run process "{NIGHTLY_PROCESS}"',
        f'  anaplan-tasks -m "{PROD_MODEL}" alm revisions',
        "Ctrl-C stops it.",
    ]
    render.error_console.print("\n".join(lines))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        render.error_console.print("stopped")


def _change_label(row: Mapping[str, str]) -> str:
    """`Module.Line Item`, `List.Property` or the object's name, for one report row."""
    for owner, member in (("Module", "Line Item"), ("List", "Property")):
        if row.get(member):
            return f"{row.get(owner, '')}.{row[member]}"
    return next(iter(row.values()), "")


def _definitions(client: Client) -> list[Any]:
    found: list[Any] = []
    for namespace in (client.imports, client.exports, client.actions, client.processes):
        found.extend(namespace.list())
    return found


def _detail_value(task: CompletedTask, key: str) -> int:
    for detail in task.result.details:
        value = detail.value_map.get(key)
        if isinstance(value, int):
            return value
    return 0


def _control(emulator: RunningEmulator, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{emulator.base_url}/_emulator{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _edit_structure(emulator: RunningEmulator, model_id: str, edits: list[dict[str, Any]]) -> None:
    _control(emulator, f"/models/{model_id}/structure", edits)


def _structure(emulator: RunningEmulator, model_id: str) -> Any:
    return _control(emulator, f"/models/{model_id}/structure")
