"""`anaplan-tasks demo`: the whole product, told step by step on an in-process emulator.

The emulator runs in a background thread with the demo workspace; everything the story does to
it goes through the public client (`anaplan_tasks.Client` and `client.alm`), except the two
things no Anaplan API offers: editing the dev model's structure (the emulator's
`/_emulator/models/{id}/structure` control route stands in for the modelling UI) and slowing
tasks down so one can be cancelled while it runs (the emulator's progression setting).

Every step checks its own figures against what the story planted (which rows are bad, which
structure changed) and prints one line `<step>: <outcome>`; the run ends with a summary table
and exit code 0 when every step told its story.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import Client
from ..client import ProgressUpdate, TaskRef
from ..emulator import demo as demo_workspace
from ..emulator.engine.contract import Progression
from ..emulator.server import RunningEmulator, run_emulator
from ..errors import TaskCancelledError
from ..models import CancelledTask, CompletedTask, WireModel
from . import render
from .exit_codes import ExitCode

BAD_ROWS_OUTSIDE_THE_LIST: frozenset[str] = frozenset({"malformed number"})
"""Bad-row kinds the list import does not see (salaries are loaded into a module, not the list)."""

NEW_LINE_ITEM = "Bonus"
"""The line item the ALM step adds to the dev model's Headcount module."""

NEW_LIST = "Channels"
"""The list the ALM step adds to the dev model."""

UPLOAD_CHUNK_SIZE = 1_000_000
"""Anaplan's smallest chunk (1 MB): from about 20,000 rows the demo's file goes up in several."""

_CANCEL_TASK_SECONDS = 60.0
_CANCEL_AFTER_SECONDS = 1.0


class StepFailed(Exception):
    """A step ran but its figures are not the story's (the message says what differs)."""


@dataclass
class StepRecord:
    """What one step did: its one-line outcome, figures, time and the task it showed."""

    step: str
    ok: bool
    outcome: str
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    task: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data (the task in Anaplan's wire form)."""
        return {
            "step": self.step,
            "ok": self.ok,
            "outcome": self.outcome,
            "figures": self.figures,
            "seconds": round(self.seconds, 3),
            "task": self.task,
        }


@dataclass
class _Result:
    outcome: str
    figures: dict[str, Any] = field(default_factory=dict)
    task: WireModel | None = None


def expected_rejected_lines(rows: int, bad_rows: int) -> list[int]:
    """File lines of the planted bad rows that the list import must reject."""
    planted = demo_workspace.bad_rows_of(rows, bad_rows)
    return sorted(
        number + 1 for number, kind in planted.items() if kind not in BAD_ROWS_OUTSIDE_THE_LIST
    )


class _Story:
    def __init__(
        self,
        emulator: RunningEmulator,
        workdir: Path,
        *,
        rows: int,
        bad_rows: int,
        console: Console,
        json_output: bool,
    ):
        self.emulator = emulator
        self.workdir = workdir
        self.rows = rows
        self.bad_rows = bad_rows
        self.console = console
        self.json_output = json_output
        self.records: list[StepRecord] = []
        self.csv_path = workdir / "employees.csv"
        self.export_path = workdir / "headcount-export.csv"
        self.dump_path = workdir / "employees-rejected.csv"
        self.report_path = workdir / "release-1-comparison.tsv"
        self.client = Client(
            base_url=emulator.base_url,
            email=demo_workspace.DEMO_USER,
            password=demo_workspace.DEMO_PASSWORD,
        )
        self.workspace_id = ""
        self.dev_id = ""
        self.prod_id = ""
        self.revision_id = ""
        self.revision_name = ""
        self._model_clients: dict[str, Client] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def say(self, renderable: Any) -> None:
        if not self.json_output:
            self.console.print(renderable)

    def run_step(self, step: str, title: str, action: Callable[[], _Result]) -> None:
        self.say(Text(f"\n▶ {title}", style="bold cyan"))
        started = time.monotonic()
        try:
            result = action()
        except TaskCancelledError as error:
            if error.cancelled_by_us:  # Ctrl-C during a wait: the task is cancelled, stop here
                raise
            record = StepRecord(step, False, f"{type(error).__name__}: {error}")
        except Exception as error:  # a demo step reports any failure and the story goes on
            record = StepRecord(step, False, f"{type(error).__name__}: {error}")
        else:
            task = result.task.to_wire() if result.task is not None else None
            record = StepRecord(step, True, result.outcome, result.figures, task=task)
        record.seconds = time.monotonic() - started
        self.records.append(record)
        mark = Text("✔ ", style="green") if record.ok else Text("✘ ", style="bold red")
        if not self.json_output:  # one line, never wrapped: scripts and tests look for it
            self.console.print(mark + Text(f"{step}: {record.outcome}"), soft_wrap=True)

    @contextmanager
    def progress(self, description: str) -> Iterator[render.TaskProgress]:
        """A bar for one step, shown full when the step's work succeeded."""
        with render.task_progress(description, enabled=not self.json_output) as bar:
            yield bar
            bar.update(1.0, "done")

    @staticmethod
    def follow(bar: render.TaskProgress) -> Callable[[ProgressUpdate], None]:
        def on_progress(update: ProgressUpdate) -> None:
            bar.update(update.progress, update.current_step, update.estimated_remaining)

        return on_progress

    def dev(self) -> Client:
        return self._model_client(self.dev_id)

    def prod(self) -> Client:
        return self._model_client(self.prod_id)

    def _model_client(self, model_id: str) -> Client:
        # Copies share the connection, which closes with the last of them: keep one per model.
        if model_id not in self._model_clients:
            self._model_clients[model_id] = self.client.with_model(model_id, self.workspace_id)
        return self._model_clients[model_id]

    def close(self) -> None:
        for copy in self._model_clients.values():
            copy.close()
        self.client.close()

    # -- the story --------------------------------------------------------------------------
    def tell(self) -> None:
        self.run_step("connect", "Sign in and find the demo models", self.connect)
        self.run_step("generate", f"Generate employees.csv ({self.rows:,} rows)", self.generate)
        self.run_step("upload", "Upload employees.csv", self.upload)
        self.run_step("import", "Import into the Employees list", self.run_import)
        self.run_step("process", 'Run the process "Nightly Load"', self.run_process)
        self.run_step("export", "Export Headcount and download it", self.run_export)
        self.run_step("cancel", "Start a long task and cancel it", self.cancel_task)
        self.run_step("alm-change", "ALM: change the dev model's structure", self.change_dev)
        self.run_step("alm-revision", "ALM: tag dev with a revision", self.create_revision)
        self.run_step("alm-compare", "ALM: comparison report (prod ← dev)", self.compare)
        self.run_step("alm-summary", "ALM: summary report", self.summarize)
        self.run_step("alm-sync", "ALM: sync the revision into prod", self.sync)
        self.run_step("alm-check", "ALM: prod now has the change", self.check_prod)

    def connect(self) -> _Result:
        workspaces = self.client.workspaces.list()
        workspace = next(w for w in workspaces if w.name == demo_workspace.DEMO_WORKSPACE)
        self.workspace_id = workspace.id
        models = {model.name: model.id for model in self.client.models.list(workspace.id)}
        self.dev_id = models[demo_workspace.DEV_MODEL]
        self.prod_id = models[demo_workspace.PROD_MODEL]
        return _Result(
            f"signed in as {demo_workspace.DEMO_USER}, workspace {workspace.id}, "
            f"dev {self.dev_id}, prod {self.prod_id}",
            {"workspaceId": workspace.id, "devModelId": self.dev_id, "prodModelId": self.prod_id},
        )

    def generate(self) -> _Result:
        written = 0
        with self.progress("generate") as bar, self.csv_path.open("wb") as out:
            for block in demo_workspace.generate_employees_csv(self.rows, self.bad_rows):
                out.write(block)
                written += block.count(b"\n")
                bar.update(written / (self.rows + 1), f"{written - 1:,} rows")
        size = self.csv_path.stat().st_size
        kinds = sorted(set(demo_workspace.bad_rows_of(self.rows, self.bad_rows).values()))
        planted = f" ({', '.join(kinds)})" if kinds else ""
        return _Result(
            f"employees.csv: {self.rows:,} rows, {self.bad_rows} of them bad{planted}, "
            f"{render.human_bytes(size)}",
            {
                "rows": self.rows,
                "badRows": self.bad_rows,
                "bytes": size,
                "path": str(self.csv_path),
            },
        )

    def upload(self) -> _Result:
        size = self.csv_path.stat().st_size
        with self.progress("upload") as bar:

            def stored(sent: int, total: int | None) -> None:
                bar.update(sent / max(total or size, 1), f"{sent:,} / {size:,} bytes")

            self.dev().files.upload(
                "employees.csv", self.csv_path, chunk_size=UPLOAD_CHUNK_SIZE, on_progress=stored
            )
            bar.update(1.0, "complete")
        info = self.dev().files.get("employees.csv")
        return _Result(
            f"uploaded {render.human_bytes(size)} to {info.name!r} ({info.id}) in "
            f"{info.chunk_count} chunk(s)",
            {"bytes": size, "chunks": info.chunk_count, "fileId": info.id},
        )

    def run_import(self) -> _Result:
        dev = self.dev()
        with self.progress("import") as bar:
            task = dev.imports.run("Load Employees", on_progress=self.follow(bar))
        self.say(render.task_line(task))
        self.say(render.result_table(task.result, names=self.action_names()))
        dumps = dev.tasks.dumps(task)
        dumps.save(self.dump_path)
        dump = dumps.rows()
        self.say(
            Text(
                f"First rows of the failure dump ({len(dump)} rows, saved to {self.dump_path}):",
                style="bold",
            )
        )
        self.say(render.dump_table(dump, limit=5))
        counts = _row_counts(task)
        rejected = task.result.failed_row_count
        expected = expected_rejected_lines(self.rows, self.bad_rows)
        lines = sorted(row.line for row in dump if row.line is not None)
        if rejected != len(expected) or lines != expected:
            raise StepFailed(
                f"{rejected} rows rejected at lines {lines}, expected the planted bad rows "
                f"at lines {expected}"
            )
        outside = self.bad_rows - len(expected)
        note = (
            f"; {outside} bad row(s) only have a malformed Salary, which the Headcount load rejects"
            if outside
            else ""
        )
        return _Result(
            f"{counts.get('successRowCount', 0):,} rows loaded, {rejected} rejected of "
            f"{counts.get('totalRowCount', self.rows):,} (failure dump: {len(dump)} rows, "
            f"exactly the planted bad ones){note}",
            {
                "rowsLoaded": counts.get("successRowCount", 0),
                "rowsRejected": rejected,
                "dumpRows": len(dump),
                "rejectedLines": lines,
                "badRowsGenerated": self.bad_rows,
                "dumpPath": str(self.dump_path),
                **counts,
            },
            task,
        )

    def action_names(self) -> dict[str, str]:
        dev = self.dev()
        names: dict[str, str] = {}
        for namespace in (dev.imports, dev.exports, dev.actions, dev.processes):
            names.update({action.id: action.name for action in namespace.list()})
        return names

    def run_process(self) -> _Result:
        with self.progress("Nightly Load") as bar:
            task = self.dev().processes.run("Nightly Load", on_progress=self.follow(bar))
        self.say(render.task_line(task))
        self.say(render.result_table(task.result, names=self.action_names()))
        nested = task.result.nested_results
        if not task.result.successful:
            raise StepFailed(task.describe())
        successful = sum(1 for part in nested if part.successful)
        return _Result(
            f"{len(nested)} actions ran, {successful} successful, "
            f"{task.result.failed_row_count} rows rejected on the way",
            {
                "actions": len(nested),
                "successful": successful,
                "rowsRejected": task.result.failed_row_count,
            },
            task,
        )

    def run_export(self) -> _Result:
        with self.progress("export") as bar:
            task = self.dev().exports.run(
                "Headcount Export", self.export_path, on_progress=self.follow(bar)
            )
        self.say(render.task_line(task))
        size = self.export_path.stat().st_size
        with self.export_path.open("rb") as exported:
            data_rows = sum(1 for _ in exported) - 1
        if data_rows <= 0:
            raise StepFailed(f"the export has no data rows ({size} bytes)")
        return _Result(
            f"exported and downloaded {data_rows:,} rows ({render.human_bytes(size)}) to "
            f"{self.export_path}",
            {"rows": data_rows, "bytes": size, "path": str(self.export_path)},
            task,
        )

    def cancel_task(self) -> _Result:
        control = self.emulator.control
        before = control.progression
        control.set_progression(Progression(mode="fixed", seconds=_CANCEL_TASK_SECONDS))
        try:
            dev = self.dev()
            ref = dev.processes.start("Nightly Load")
            with self.progress("long task") as bar:
                final = self._run_then_cancel(dev, ref, bar)
        finally:
            control.set_progression(before)
        self.say(Text(final.describe(), style="yellow"))
        if not isinstance(final, CancelledTask) or final.task_state != "CANCELLED":
            raise StepFailed(f"the task did not end cancelled: {final.describe()}")
        return _Result(
            f"task {final.id} CANCELLED at {final.progress:.0%}",
            {"taskId": final.id, "state": final.task_state, "progress": final.progress},
            final,
        )

    def _run_then_cancel(self, dev: Client, ref: TaskRef, bar: render.TaskProgress) -> Any:
        started = time.monotonic()
        status: Any = dev.tasks.status(ref)
        while time.monotonic() - started < _CANCEL_AFTER_SECONDS:
            status = dev.tasks.status(ref)
            bar.update(getattr(status, "progress", 0.0), getattr(status, "current_step", None))
            if status.is_terminal:
                return status
            time.sleep(0.2)
        bar.update(getattr(status, "progress", 0.0), "cancelling…")
        status = dev.tasks.cancel(ref)
        deadline = time.monotonic() + 10.0
        while not (isinstance(status, CancelledTask) and status.task_state == "CANCELLED"):
            if isinstance(status, CompletedTask) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
            status = dev.tasks.status(ref)
        bar.update(getattr(status, "progress", 0.0), getattr(status, "task_state", ""))
        return status

    def change_dev(self) -> _Result:
        edits = [
            {
                "op": "addLineItem",
                "module": "Headcount",
                "lineItem": {"name": NEW_LINE_ITEM, "format": "number"},
            },
            {"op": "addList", "list": {"name": NEW_LIST}},
        ]
        structure = _control(self.emulator, f"/_emulator/models/{self.dev_id}/structure", edits)
        if not _has_line_item(structure, "Headcount", NEW_LINE_ITEM):
            raise StepFailed("the dev structure does not show the new line item")
        return _Result(
            f"added line item Headcount.{NEW_LINE_ITEM} and list {NEW_LIST} to dev (which "
            f"already had list {demo_workspace.UNRELEASED_LIST}, in no revision yet)",
            {"lineItemsAdded": [f"Headcount.{NEW_LINE_ITEM}"], "listsAdded": [NEW_LIST]},
        )

    def create_revision(self) -> _Result:
        revision = self.dev().alm.create_revision(
            "Release 1", "Bonus line item, Scenarios and Channels lists"
        )
        self.revision_id = revision.id
        self.revision_name = revision.name
        return _Result(
            f"revision {revision.name!r} ({revision.id}) created on dev",
            {"revisionId": revision.id, "name": revision.name},
        )

    def compare(self) -> _Result:
        with self.progress("comparison report") as bar:
            compared = self.prod().alm.compare(
                self.dev_id, dest=self.report_path, on_progress=self.follow(bar)
            )
        table = Table(title="Comparison report", title_justify="left", header_style="bold")
        table.add_column("Section")
        table.add_column("Rows", justify="right")
        table.add_column("Names", overflow="fold")
        sections: dict[str, list[str]] = {}
        for section in compared.report.sections:
            if not section.rows:
                continue
            sections[section.title] = [_object_name(row) for row in section.rows]
            shown = sections[section.title][:5]
            table.add_row(section.title, str(len(section.rows)), ", ".join(shown))
        self.say(table)
        expected = {
            "LISTS ADDED": sorted([demo_workspace.UNRELEASED_LIST, NEW_LIST]),
            "LINE ITEMS ADDED": [f"Headcount.{NEW_LINE_ITEM}"],
        }
        if sections != expected:
            raise StepFailed(f"the report shows {sections}, expected {expected}")
        changes = "; ".join(f"{title}: {', '.join(names)}" for title, names in sections.items())
        return _Result(
            f"{changes} (report saved to {self.report_path})",
            {"sections": sections, "path": str(self.report_path)},
            compared.task,
        )

    def summarize(self) -> _Result:
        with self.progress("summary report") as bar:
            summarized = self.prod().alm.summarize(self.dev_id, on_progress=self.follow(bar))
        summary = summarized.summary
        table = Table(title="Summary report", title_justify="left", header_style="bold")
        for header in ("Category", "Created", "Modified", "Deleted"):
            table.add_column(header, justify="left" if header == "Category" else "right")
        for category, counts in summary.differences.items():
            table.add_row(category, str(counts.created), str(counts.modified), str(counts.deleted))
        self.say(table)
        totals = summary.totals
        if totals.created < 3:
            raise StepFailed(f"the summary counts {totals.created} created objects, expected 3")
        return _Result(
            f"{totals.created} created, {totals.modified} modified, {totals.deleted} deleted",
            {
                "totals": totals.to_wire(),
                "differences": {k: v.to_wire() for k, v in summary.differences.items()},
            },
            summarized.task,
        )

    def sync(self) -> _Result:
        prod = self.prod()
        prod.alm.set_offline()
        try:
            with self.progress("sync") as bar:
                task = prod.alm.sync(
                    self.dev_id,
                    source_revision_id=self.revision_id or None,
                    on_progress=self.follow(bar),
                )
        finally:
            prod.alm.set_online()
        self.say(Text(task.describe(), style="green"))
        return _Result(
            f"revision {self.revision_name!r} synced to prod "
            f"({task.result.source_revision_id} over {task.result.target_revision_id})",
            {
                "sourceRevisionId": task.result.source_revision_id,
                "targetRevisionId": task.result.target_revision_id,
            },
            task,
        )

    def check_prod(self) -> _Result:
        latest = self.prod().alm.latest_revision()
        structure = _control(self.emulator, f"/_emulator/models/{self.prod_id}/structure", None)
        has_line_item = _has_line_item(structure, "Headcount", NEW_LINE_ITEM)
        if latest is None or latest.id != self.revision_id or not has_line_item:
            raise StepFailed(
                f"prod's latest revision is {latest.id if latest else None}, "
                f"line item {NEW_LINE_ITEM} present: {has_line_item}"
            )
        return _Result(
            f"prod's latest revision is {latest.name!r} and Headcount has {NEW_LINE_ITEM}",
            {"latestRevisionId": latest.id, "lineItemPresent": has_line_item},
        )

    # -- the end ----------------------------------------------------------------------------
    def summary_table(self) -> Table:
        table = Table(title="Demo summary", title_justify="left", header_style="bold")
        table.add_column("Step")
        table.add_column("Outcome")
        table.add_column("Figures", overflow="fold")
        table.add_column("Time", justify="right")
        for record in self.records:
            outcome = Text("ok", style="green") if record.ok else Text("failed", style="bold red")
            figures = ", ".join(
                f"{key}={_figure_text(value)}"
                for key, value in record.figures.items()
                if not key.lower().endswith("path")  # the outcome line names the files
            )
            table.add_row(record.step, outcome, figures, f"{record.seconds:.2f} s")
        return table


def _figure_text(value: Any) -> str:
    """A figure for the summary table: nested counts and lists flattened onto one line."""
    if isinstance(value, dict):
        return "(" + " ".join(f"{key}={_figure_text(item)}" for key, item in value.items()) + ")"
    if isinstance(value, list):
        return "[" + " ".join(_figure_text(item) for item in value) + "]"
    return str(value)


def _object_name(row: Mapping[str, str]) -> str:
    """What a comparison report row is about: `Module.Line Item`, `List.Property`, or a name."""
    for owner, member in (("Module", "Line Item"), ("List", "Property")):
        if row.get(member):
            return f"{row.get(owner, '')}.{row[member]}"
    return row.get("Name") or next(iter(row.values()), "") or ""


def _row_counts(task: CompletedTask) -> dict[str, int]:
    for detail in task.result.details:
        values = detail.value_map
        if "totalRowCount" in values:
            return {
                key: int(value)
                for key, value in values.items()
                if key in ("totalRowCount", "successRowCount", "failedCount", "ignoredCount")
                and value is not None
            }
    return {}


def _control(emulator: RunningEmulator, path: str, body: Any) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        emulator.base_url + path,
        data=data,
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            result: dict[str, Any] = json.load(answer)
    except urllib.error.HTTPError as error:
        raise StepFailed(f"{request.method} {path}: {error.code} {_error_text(error)}") from None
    return result


def _error_text(error: urllib.error.HTTPError) -> str:
    body = error.read().decode("utf-8", "replace")
    try:
        status = json.loads(body).get("status", {})
        return str(status.get("message") or body)
    except (ValueError, AttributeError):
        return body


def _has_line_item(structure: dict[str, Any], module: str, line_item: str) -> bool:
    for candidate in structure.get("modules", []):
        if candidate.get("name") == module:
            return any(item.get("name") == line_item for item in candidate.get("line_items", []))
    return False


def run_demo(
    *,
    rows: int = 50_000,
    bad_rows: int = 7,
    keep_running: bool = False,
    json_output: bool = False,
    console: Console | None = None,
    data_dir: Path | None = None,
) -> int:
    """Run the whole story on an in-process emulator; returns the exit code.

    The exit code is 0 when every step told its story, 1 when one did not, 2 when the
    figures are impossible (more bad rows than `rows` can hold).

    Args:
        rows: Data rows in the generated employees.csv.
        bad_rows: Deliberately wrong rows among them.
        keep_running: Afterwards, print how to reach the emulator and serve until Ctrl-C.
        json_output: Print one JSON document (the step records) instead of bars and tables.
        console: Where the story goes (default: stdout).
        data_dir: Keep the emulator's data (and the demo's files) here instead of in memory.
    """
    out = console or render.console
    try:
        demo_workspace.bad_rows_of(rows, bad_rows)
    except ValueError as error:
        render.print_error(f"--rows {rows} --bad-rows {bad_rows}: {error}")
        return int(ExitCode.USAGE)
    with ExitStack() as stack:
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            workdir = data_dir / "demo-files"
            workdir.mkdir(exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="anaplan-demo-")))
        emulator = stack.enter_context(run_emulator(demo=True, data_dir=data_dir))
        if data_dir is not None:
            # A kept data directory remembers the last run's release: start the story afresh.
            emulator.control.reset()
        story = _Story(
            emulator, workdir, rows=rows, bad_rows=bad_rows, console=out, json_output=json_output
        )
        stack.callback(story.close)
        started = time.monotonic()
        story.tell()
        elapsed = time.monotonic() - started
        ok = all(record.ok for record in story.records)
        if json_output:
            document: dict[str, Any] = {
                "ok": ok,
                "seconds": round(elapsed, 3),
                "steps": [record.to_json() for record in story.records],
            }
            if keep_running:
                document["emulator"] = emulator_access(story)
            out.file.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            out.file.flush()
        else:
            out.print()
            out.print(story.summary_table())
            verdict = "every step told its story" if ok else "some steps failed"
            out.print(Text(f"demo finished in {elapsed:.1f} s: {verdict}", style="bold"))
            if data_dir is None and not keep_running:
                out.print(
                    Text(
                        f"(the demo's files in {workdir} are removed now; --keep-running keeps "
                        "them, and the emulator, until Ctrl-C)",
                        style="dim",
                    )
                )
        if keep_running:
            _serve_until_interrupted(story, out)
        return int(ExitCode.OK if ok else ExitCode.TASK_FAILED)
    raise AssertionError("unreachable")  # pragma: no cover


def emulator_access(story: _Story) -> dict[str, str]:
    """How to reach the demo's emulator: base URL, ids and the demo user's credentials."""
    return {
        "baseUrl": story.emulator.base_url,
        "workspaceId": story.workspace_id,
        "devModelId": story.dev_id,
        "prodModelId": story.prod_id,
        "email": demo_workspace.DEMO_USER,
        "password": demo_workspace.DEMO_PASSWORD,
        "files": str(story.workdir),
    }


def _serve_until_interrupted(story: _Story, out: Console) -> None:
    access = emulator_access(story)
    if not story.json_output:
        base, user, password = access["baseUrl"], access["email"], access["password"]
        common = (
            f"anaplan-tasks --base-url {base} --email {user} --password {password} "
            f"--workspace {access['workspaceId']}"
        )
        dev = f"{common} --model {access['devModelId']}"
        prod = f"{common} --model {access['prodModelId']}"
        lines = [
            "",
            f"The emulator keeps running at {base}",
            f"  workspace   {access['workspaceId']}",
            f"  dev model   {access['devModelId']} ({demo_workspace.DEV_MODEL})",
            f"  prod model  {access['prodModelId']} ({demo_workspace.PROD_MODEL})",
            f"  user        {user}  password {password}",
            f"  demo files  {access['files']}",
            "Try, in another terminal:",
            f"  {dev} tasks import 'Load Employees'",
            f"  {dev} run import 'Load Employees' --file {story.csv_path}",
            f"  {dev} run export 'Headcount Export' --out headcount.csv",
            f"  {prod} alm revisions",
            "or set the connection once:",
            f"  export ANAPLAN_BASE_URL={base} ANAPLAN_EMAIL={user} ANAPLAN_PASSWORD={password}",
            f"  export ANAPLAN_WORKSPACE_ID={access['workspaceId']} "
            f"ANAPLAN_MODEL_ID={access['devModelId']}",
            "  anaplan-tasks imports",
            "  anaplan-tasks run process 'Nightly Load'",
            "Press Ctrl-C to stop.",
        ]
        for line in lines:
            out.print(line, highlight=False, soft_wrap=True, markup=False)
    else:
        render.print_note(f"the emulator keeps running at {access['baseUrl']}: Ctrl-C stops it")
    stop = threading.Event()
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        render.print_note("stopped")
