"""`anaplan-tasks cloudworks …`: CloudWorks integrations, their runs, connections and flows.

CloudWorks needs no workspace or model: these commands run without `--workspace`/`--model`.
`run` waits like `anaplan-tasks run` (a bar, Ctrl-C cancels the run, the same exit codes) and
explains a failed run: CloudWorks' message, the actions' errors, and the first rejected rows,
with each failure dump saved under `--dump-dir`.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..client import RunDumps, RunRef
from ..errors import (
    ConfigurationError,
    IntegrationRunFailedError,
    NotFoundError,
    TaskCancelledError,
)
from ..models.cloudworks import Integration, RunErrors, RunStatus
from . import render
from .context import connected, note, say, settings, show
from .exit_codes import ExitCode
from .options import common_options

DUMP_PREVIEW_ROWS = 10


@click.group()
@common_options
def cloudworks() -> None:
    """CloudWorks: integrations and their runs, connections and integration flows.

    Integrations, connections and flows are named by id or by name. Settings as for the
    other commands; CloudWorks' own root comes from ANAPLAN_CLOUDWORKS_BASE_URL (default: the
    emulator's under --base-url, else Anaplan's).
    """


def _latest(item: Integration) -> tuple[str | None, str]:
    run = item.latest_run
    if run is None or run.start_date is None:
        return None, ""
    return run.start_date, run.outcome


@cloudworks.command()
@click.option("--mine", is_flag=True, help="Only the integrations you created.")
@common_options
def integrations(mine: bool) -> None:
    """List the integrations you can see, with their latest run."""
    with connected(need_workspace=False, need_model=False) as client:
        items = client.cloudworks.list(mine=mine)
    rows = [
        (item.integration_id, item.name, item.kind, item.model_id, *_latest(item)) for item in items
    ]
    headers = ("Id", "Name", "Type", "Model id", "Latest run", "Outcome")
    show(items, render.rows_table("Integrations", headers, rows))


@cloudworks.command()
@common_options
def connections() -> None:
    """List the connections to cloud storage (secrets are never shown)."""
    with connected(need_workspace=False, need_model=False) as client:
        items = client.cloudworks.connections.list()
    rows = [
        (item.connection_id, item.name, item.connection_type, "yes" if item.status else "no")
        for item in items
    ]
    show(items, render.rows_table("Connections", ("Id", "Name", "Type", "Valid"), rows))


@cloudworks.command()
@common_options
def flows() -> None:
    """List the integration flows."""
    with connected(need_workspace=False, need_model=False) as client:
        items = client.cloudworks.flows.list()
    rows = [(item.id, item.name, item.steps_count, item.modification_date) for item in items]
    show(items, render.rows_table("Integration flows", ("Id", "Name", "Steps", "Modified"), rows))


@cloudworks.command()
@click.argument("integration")
@common_options
def runs(integration: str) -> None:
    """List an integration's runs (newest first) with their outcomes."""
    with connected(need_workspace=False, need_model=False) as client:
        history = client.cloudworks.runs(integration)
    rows = [
        (
            record.id,
            record.start_date,
            record.end_date,
            record.outcome,
            record.message,
            record.trigger_source,
        )
        for record in history.runs
    ]
    headers = ("Run id", "Started", "Ended", "Outcome", "Message", "Trigger")
    show(history, render.rows_table(f"Runs of {history.name or integration}", headers, rows))


@cloudworks.command(name="run")
@click.argument("integration")
@click.option("--no-wait", is_flag=True, help="Start the run, print its id and return.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop waiting after this long (exit 3); the run goes on unless --cancel-on-timeout.",
)
@click.option("--cancel-on-timeout", is_flag=True, help="Cancel the run when --timeout passes.")
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Exit 0 when the run loaded rows but rejected some (its dumps are still saved).",
)
@click.option(
    "--dump-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where failure dumps are saved.",
)
@common_options
def run_integration(
    integration: str,
    no_wait: bool,
    timeout: float | None,
    cancel_on_timeout: bool,
    allow_partial: bool,
    dump_dir: Path,
) -> int:
    """Run an integration (by id or name), wait, and explain its outcome.

    Ctrl-C cancels the run in CloudWorks. A failed run shows CloudWorks' message, the
    actions' errors and the first rejected rows; the failure dumps are saved under --dump-dir.
    """
    json_output = settings().json_output
    with connected(need_workspace=False, need_model=False) as client:
        ref = client.cloudworks.start(integration)
        note(f"started {ref.describe()}")
        if no_wait:
            show(client.cloudworks.run_status(ref))
            say(ref.run_id)
            return ExitCode.OK
        try:
            with render.run_progress(
                ref.name or ref.integration_id, enabled=not json_output
            ) as bar:
                status = client.cloudworks.wait(
                    ref,
                    timeout=timeout,
                    on_progress=bar,
                    cancel_on_timeout=cancel_on_timeout,
                    cancel_on_interrupt=True,
                    allow_partial=allow_partial,
                )
        except IntegrationRunFailedError as failure:
            _explain_failure(failure, ref, dump_dir)
            return ExitCode.TASK_FAILED
        except TaskCancelledError as cancelled:
            show(cancelled.task)
            if cancelled.cancelled_by_us:
                render.print_error(f"interrupted: cancelled {ref.describe()} in CloudWorks")
                return ExitCode.INTERRUPTED
            render.print_error(f"{ref.describe()} was cancelled in CloudWorks")
            return ExitCode.TASK_FAILED
        saved: list[tuple[Path, int]] = []
        if not status.success:  # a partial success, allowed
            dumps = client.cloudworks.dumps(ref)
            saved = _save_dumps(dumps, ref, dump_dir)
            if saved and not json_output:
                say(render.dump_table(dumps.iter_rows(), limit=DUMP_PREVIEW_ROWS))
    show(status)
    say(f"{ref.describe()}: {status.message or 'Success'}")
    for path, size in saved:
        say(f"failure dump saved to {path} ({render.human_bytes(size)})")
    return ExitCode.OK


@cloudworks.command(name="status")
@click.argument("run_id")
@common_options
def run_status(run_id: str) -> int:
    """Show a run's status (exit 1 when it failed or was cancelled)."""
    with connected(need_workspace=False, need_model=False) as client:
        status = client.cloudworks.run_status(run_id)
    show(status)
    say(status.describe())
    return ExitCode.OK if status.outcome in ("ok", "running") else ExitCode.TASK_FAILED


@cloudworks.command()
@click.argument("integration")
@common_options
def cancel(integration: str) -> None:
    """Cancel the integration's running run in CloudWorks."""
    with connected(need_workspace=False, need_model=False) as client:
        client.cloudworks.cancel(integration)
    say(f"asked CloudWorks to cancel the running run of {integration!r}")


@cloudworks.command()
@click.argument("run_id")
@click.option(
    "--dump-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where the dumps are saved.",
)
@common_options
def dump(run_id: str, dump_dir: Path) -> int:
    """Save a finished run's failure dumps (the rejected rows) and show the first rows."""
    with connected(need_workspace=False, need_model=False) as client:
        status = client.cloudworks.run_status(run_id)
        if not status.finished:
            raise ConfigurationError(f"{status.describe()}: it has not finished")
        dumps = client.cloudworks.dumps(run_id)
        saved = _save_dumps(dumps, dumps.run, dump_dir)
        if settings().json_output:
            render.emit_json(
                {"dumps": [{"path": str(path), "bytes": size} for path, size in saved]}
            )
            return ExitCode.OK if saved else ExitCode.TASK_FAILED
        if not saved:
            render.print_error(f"{status.describe()}: no failure dump")
            return ExitCode.TASK_FAILED
        say(render.dump_table(dumps.iter_rows(), limit=DUMP_PREVIEW_ROWS))
    for path, size in saved:
        say(f"failure dump saved to {path} ({render.human_bytes(size)})")
    return ExitCode.OK


def dump_path(dump_dir: Path, ref: RunRef, action_id: str | None) -> Path:
    """Where a run's dump is saved: `<integration>-<run id>[-<import id>]-dump.csv`."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", ref.name or ref.integration_id).strip("_")
    suffix = f"-{action_id}" if action_id else ""
    return dump_dir / f"{name or ref.integration_id}-{ref.run_id}{suffix}-dump.csv"


def _save_dumps(dumps: RunDumps, ref: RunRef, dump_dir: Path) -> list[tuple[Path, int]]:
    saved: list[tuple[Path, int]] = []
    for action_id in dumps.available:
        dump_dir.mkdir(parents=True, exist_ok=True)
        path = dump_path(dump_dir, ref, action_id)
        try:
            saved.append((path, dumps.save(path, action_id)))
        except NotFoundError:
            path.unlink(missing_ok=True)
    return saved


def _explain_failure(failure: IntegrationRunFailedError, ref: RunRef, dump_dir: Path) -> None:
    run: RunStatus = failure.run
    errors: RunErrors | None = failure.errors
    dumps: RunDumps | None = failure.dumps
    saved = [] if dumps is None else _save_dumps(dumps, ref, dump_dir)
    if settings().json_output:
        render.emit_json(
            {
                "run": run.to_wire(),
                "errors": None if errors is None else errors.to_wire(),
                "dumps": [{"path": str(path), "bytes": size} for path, size in saved],
            }
        )
    else:
        say(run.describe())
        if errors is not None and errors.error_messages:
            rows = [
                (
                    action.action_name or action.action_id,
                    message.local_message_text or message.type,
                    "yes" if action.failure_dump_generated else "no",
                )
                for action in errors.error_messages
                for message in action.error_message
            ]
            say(render.rows_table("Errors", ("Action", "Message", "Dump"), rows))
        if dumps is not None and saved:
            say(render.dump_table(dumps.iter_rows(), limit=DUMP_PREVIEW_ROWS))
            for path, size in saved:
                say(f"failure dump saved to {path} ({render.human_bytes(size)})")
    message = " ".join(str(failure).split())
    message = re.sub(r"\s*\[failure dump available: [^]]*\]", "", message)
    if saved:
        message += " (rejected rows in " + ", ".join(str(path) for path, _ in saved) + ")"
    render.print_error(message)
