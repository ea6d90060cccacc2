"""`anaplan-tasks alm …`: revisions, syncs and the comparison and summary reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import click
from rich.table import Table

from ..client import ProgressUpdate
from ..errors import ConfigurationError, NoSyncableRevisionError
from ..models import CompletedSyncTask, SummaryReport
from ..models.alm_report import ComparisonReport
from . import render
from .context import connected, say, settings, show
from .options import common_options
from .settings import resolve_model


@click.group()
@common_options
def alm() -> None:
    """Application lifecycle: revisions, syncs, comparison and summary reports.

    The model (--model) is the target; --source names the model whose revision is synced
    or compared (usually development).
    """


@alm.command()
@click.option(
    "--syncable-from",
    "source",
    metavar="ID|NAME",
    help="Only the source model's revisions that can be synced into this model.",
)
@common_options
def revisions(source: str | None) -> None:
    """List the model's revisions (or those of --syncable-from that can be synced here)."""
    with connected() as client:
        if source is None:
            items = client.alm.revisions()
        else:
            items = client.alm.syncable_revisions(resolve_model(client, source))
    columns = [
        ("Id", "id"),
        ("Name", "name"),
        ("Created", "created_on"),
        ("Applied", "applied_on"),
        ("Description", "description"),
    ]
    show(items, render.object_table("Revisions", items, columns))


@alm.command(name="create-revision")
@click.argument("name")
@click.option("--description", help="At most 250 characters.")
@common_options
def create_revision(name: str, description: str | None) -> None:
    """Tag the model's current structure as revision NAME (at most 60 characters)."""
    with connected() as client:
        revision = client.alm.create_revision(name, description)
    show(revision)
    say(f"created revision {revision.name!r} ({revision.id})")


def _source_option(function: click.decorators.FC) -> click.decorators.FC:
    function = click.option(
        "--target-revision", metavar="ID", help="Default: the model's latest revision."
    )(function)
    function = click.option(
        "--source-revision", metavar="ID", help="Default: the newest syncable revision."
    )(function)
    return click.option(
        "--source", required=True, metavar="ID|NAME", help="The source model (e.g. development)."
    )(function)


@alm.command()
@_source_option
@common_options
def sync(source: str, source_revision: str | None, target_revision: str | None) -> None:
    """Apply a revision of the source model to this model's structure (and wait)."""
    with _said_with_names(source), connected() as client, _bar("sync") as on_progress:
        task: CompletedSyncTask = client.alm.sync(
            resolve_model(client, source),
            source_revision_id=source_revision,
            target_revision_id=target_revision,
            on_progress=on_progress,
        )
    show(task)
    result = task.result
    say(
        f"synced revision {result.source_revision_id} onto {result.target_revision_id}: "
        f"task {task.id} COMPLETE"
    )


@alm.command()
@_source_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Save the report text here.",
)
@common_options
def compare(
    source: str, source_revision: str | None, target_revision: str | None, out: Path | None
) -> None:
    """Generate the comparison report: every change a sync would make, by section."""
    with (
        _said_with_names(source),
        connected() as client,
        _bar("comparison report") as on_progress,
    ):
        outcome = client.alm.compare(
            resolve_model(client, source),
            source_revision_id=source_revision,
            target_revision_id=target_revision,
            dest=out,
            on_progress=on_progress,
        )
    show(outcome.task)
    for table in comparison_tables(outcome.report):
        say(table)
    if outcome.report.is_empty:
        say("no differences")
    if out is not None:
        say(f"report saved to {out}")


@alm.command()
@_source_option
@common_options
def summary(source: str, source_revision: str | None, target_revision: str | None) -> None:
    """Generate the summary report: how many objects a sync would create, modify, delete."""
    with (
        _said_with_names(source),
        connected() as client,
        _bar("summary report") as on_progress,
    ):
        outcome = client.alm.summarize(
            resolve_model(client, source),
            source_revision_id=source_revision,
            target_revision_id=target_revision,
            on_progress=on_progress,
        )
    show(outcome.summary)
    say(summary_table(outcome.summary))


def comparison_tables(report: ComparisonReport) -> list[Table]:
    """One table per non-empty section of a comparison report."""
    tables = []
    for section in report.sections:
        if not section.rows:
            continue
        name, *others = section.columns or ("",)
        rows = [
            (
                row.get(name, ""),
                ", ".join(
                    f"{column}: {row[column]}"
                    for column in others
                    if row.get(column, "") not in ("", "-", "null")
                ),
            )
            for row in section.rows
        ]
        tables.append(render.rows_table(section.title, (name, "Details"), rows))
    return tables


def summary_table(report: SummaryReport) -> Table:
    """Created/modified/deleted per category, totals last."""
    rows = [
        (category, counts.created, counts.modified, counts.deleted)
        for category, counts in report.differences.items()
    ]
    totals = report.totals
    rows.append(("total", totals.created, totals.modified, totals.deleted))
    return render.rows_table(
        "Summary of changes", ("Category", "Created", "Modified", "Deleted"), rows
    )


@contextmanager
def _said_with_names(source: str) -> Iterator[None]:
    """Nothing to sync, in the names the user typed, with the next step."""
    try:
        yield
    except NoSyncableRevisionError as error:
        target = settings().model or error.target_model_id
        raise ConfigurationError(
            f'"{source}" has no revision that can be synced into "{target}": tag its changes '
            f'first (anaplan-tasks -m "{source}" alm create-revision NAME), then run this again'
        ) from None


def _bar(title: str) -> AbstractContextManager[Callable[[ProgressUpdate], None]]:
    return render.progress_callback(title, enabled=not settings().json_output)
