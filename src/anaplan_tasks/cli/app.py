"""The `anaplan-tasks` command: the group, its commands and how errors become exit codes."""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from .. import __version__
from . import render
from .alm_commands import alm
from .catalog_commands import actions, exports, files, imports, models, processes, workspaces
from .data_commands import items, lists_command, period, users, view
from .exit_codes import ExitCode, exit_code_for
from .options import common_options, current_settings, output_options
from .task_commands import cancel, download, dump, run, status, tasks, upload

EPILOG = """\b
Settings: flags, then ANAPLAN_* variables, then a profile (--profile, ANAPLAN_PROFILE).
Exit codes: 0 ok, 1 task failed or cancelled, 2 usage or configuration error,
3 deadline passed, 4 authentication failed, 5 Anaplan or the network unavailable,
130 interrupted (the running task is cancelled on the server).
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="anaplan-tasks")
@common_options
def cli() -> None:
    """Run and understand Anaplan's asynchronous tasks.

    Try `anaplan-tasks demo`: the whole story on a local emulator, no account needed.
    """


for command in (
    workspaces,
    models,
    files,
    imports,
    exports,
    processes,
    actions,
    upload,
    download,
    run,
    status,
    tasks,
    cancel,
    dump,
    alm,
    lists_command,
    items,
    view,
    period,
    users,
):
    cli.add_command(command)


@cli.command()
@output_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to bind; 0 picks a free one.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory (SQLite and chunks); default: a per-user directory.",
)
@click.option("--memory", is_flag=True, help="Keep everything in memory (lost on exit).")
@click.option(
    "--definition",
    "definitions",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load workspaces and models from this TOML definition (repeatable).",
)
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Load the demo workspace (default: when no --definition is given).",
)
@click.option(
    "--token-lifetime",
    type=click.FloatRange(min=0, min_open=True),
    default=2100.0,
    show_default=True,
    help="Seconds an auth token lives.",
)
def serve(
    host: str,
    port: int,
    data: Path | None,
    memory: bool,
    definitions: tuple[Path, ...],
    demo: bool | None,
    token_lifetime: float,
) -> int:
    """Serve the Anaplan emulator (Anaplan's API on the wire) until Ctrl-C.

    With --json, the line saying where it listens is a JSON object on stdout:
    `{"baseUrl": …, "email": …, "password": …}` (the demo user's sign-in when --demo).
    """
    try:
        from ..emulator.demo import DEMO_PASSWORD, DEMO_USER
        from ..emulator.server import serve as serve_emulator
    except ImportError as error:
        raise click.UsageError(
            f"the emulator needs the 'emulator' extra: pip install 'anaplan-tasks[emulator]' "
            f"({error})"
        ) from None
    load_demo = not definitions if demo is None else demo
    sign_in = {"email": DEMO_USER, "password": DEMO_PASSWORD} if load_demo else {}
    if memory and data is not None:
        raise click.BadParameter("--memory and --data exclude each other", param_hint="--memory")
    try:
        serve_emulator(
            host=host,
            port=port,
            data_dir=data,
            memory=memory,
            demo=load_demo,
            definitions=definitions,
            token_lifetime=token_lifetime,
            announce=_announcer(sign_in),
        )
    except ValueError as error:  # a definition that does not load names its file and path
        render.print_error(str(error))
        return ExitCode.USAGE
    except KeyboardInterrupt:  # Ctrl-C is how a server is stopped: a clean exit
        return ExitCode.OK
    return ExitCode.OK


@cli.command()
@click.option(
    "--rows",
    type=click.IntRange(min=100),
    default=50_000,
    show_default=True,
    help="Rows of the generated employees.csv.",
)
@click.option(
    "--bad-rows",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="How many of them are deliberately wrong.",
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave the emulator up afterwards and print how to reach it.",
)
@output_options
def demo(rows: int, bad_rows: int, keep_running: bool) -> int:
    """The whole story on a local emulator: upload, import with rejected rows, a process,
    an export, a cancelled task, and a release promoted from dev to prod with ALM."""
    if bad_rows and rows < 2 * bad_rows + 1:
        raise click.BadParameter(
            f"{bad_rows} bad rows need at least {2 * bad_rows + 1} rows", param_hint="--rows"
        )
    try:
        from .demo import run_demo
    except ImportError as error:
        raise click.UsageError(
            f"the demo needs the 'emulator' extra: pip install 'anaplan-tasks[all]' ({error})"
        ) from None
    return run_demo(
        rows=rows,
        bad_rows=bad_rows,
        keep_running=keep_running,
        json_output=current_settings().json_output,
    )


def _announcer(sign_in: dict[str, str]) -> Callable[[str], None]:
    json_output = current_settings().json_output

    def announce(line: str) -> None:
        where = re.search(r"listening on (http://\S+)", line)
        if json_output and where:
            render.emit_json({"baseUrl": where.group(1), **sign_in})
        else:
            click.echo(line, err=True)

    return announce


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises, unless --debug)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments or os.environ.get("ANAPLAN_DEBUG") not in (None, "", "0")
    try:
        code = cli.main(arguments, prog_name="anaplan-tasks", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        render.print_error("interrupted")
        return ExitCode.INTERRUPTED
    except click.ClickException as error:
        error.show()
        return ExitCode.USAGE
    except Exception as error:
        if debug:
            traceback.print_exc()
        render.print_error(_one_line(error))
        return exit_code_for(error)
    return int(code or 0) if isinstance(code, int) else ExitCode.OK


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return "; ".join(line.strip(" -") for line in text.splitlines() if line.strip())
