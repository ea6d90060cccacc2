"""The `anaplan-tasks` command: the group, its commands and how errors become exit codes."""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..errors import TransportError
from .exit_codes import ExitCode, exit_code_for
from .options import common_options, current_settings, output_options

if TYPE_CHECKING:
    from types import ModuleType

# Commands live in modules that import the client and rich; they are imported when a command
# runs (or its own --help is asked for), so `anaplan-tasks --help` stays fast.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "workspaces": ("catalog_commands", "workspaces", "List the workspaces you can see."),
    "models": ("catalog_commands", "models", "List the models of the workspace (or all)."),
    "files": ("catalog_commands", "files", "List the model's files."),
    "imports": ("catalog_commands", "imports", "List the model's imports."),
    "exports": ("catalog_commands", "exports", "List the model's exports."),
    "processes": ("catalog_commands", "processes", "List the model's processes."),
    "actions": ("catalog_commands", "actions", "List the model's actions."),
    "upload": ("task_commands", "upload", "Upload PATH as the content of FILE."),
    "download": ("task_commands", "download", "Download FILE to PATH, streamed."),
    "run": ("task_commands", "run", "Run an import, export, process or action."),
    "status": ("task_commands", "status", "Show a task's status (and result)."),
    "tasks": ("task_commands", "tasks", "List an action's tasks, oldest first."),
    "cancel": ("task_commands", "cancel", "Cancel a task on the server."),
    "dump": ("task_commands", "dump", "Save a finished task's failure dump."),
    "alm": ("alm_commands", "alm", "Revisions, syncs, comparison and summary reports."),
    "cloudworks": (
        "cloudworks_commands",
        "cloudworks",
        "CloudWorks integrations: run, runs, status, dump, cancel; connections, flows.",
    ),
    "lists": ("data_commands", "lists_command", "List the model's lists."),
    "items": ("data_commands", "items", "Show or save the items of a list."),
    "view": ("data_commands", "view", "Show or save the data of a view."),
    "period": ("data_commands", "period", "Show or set the model's current period."),
    "users": ("data_commands", "users", "List the tenant's users (or yourself)."),
    "login": ("login_commands", "login", "Sign in with OAuth 2.0; later commands use it."),
    "logout": ("login_commands", "logout", "Forget the saved OAuth sign-in."),
}
"""Command name: (module in this package, attribute, short help for the group's --help)."""


class _LazyGroup(click.Group):
    """A group whose commands are imported when used; --help lists them from LAZY_COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module_name, attribute, _ = LAZY_COMMANDS[cmd_name]
            module: ModuleType = importlib.import_module(f".{module_name}", __package__)
            self.add_command(getattr(module, attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, LAZY_COMMANDS[name][2]))
            else:
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _render() -> Any:
    from . import render

    return render


EPILOG = """\b
Settings: flags, then ANAPLAN_* variables, then a profile (--profile, ANAPLAN_PROFILE).
Exit codes: 0 ok, 1 task failed or cancelled, 2 usage or configuration error,
3 deadline passed, 4 authentication failed, 5 Anaplan or the network unavailable,
130 interrupted (the running task is cancelled on the server).
"""


@click.group(
    cls=_LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="anaplan-tasks")
@common_options
def cli() -> None:
    """Run and understand Anaplan's asynchronous tasks.

    Try `anaplan-tasks demo`: the whole story on a local emulator, no account needed.
    """


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
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="info logs every request; warning only problems.",
)
@click.option("--quiet", "-q", is_flag=True, help="No request log (--log-level warning).")
@click.option(
    "--control-token",
    envvar="ANAPLAN_EMULATOR_CONTROL_TOKEN",
    metavar="TOKEN",
    help="Require 'Authorization: Bearer TOKEN' on the /_emulator control routes (needed to "
    "reach them from other hosts; without it they answer loopback only, and are off when "
    "--host is not a loopback address).",
)
def serve(
    host: str,
    port: int,
    data: Path | None,
    memory: bool,
    definitions: tuple[Path, ...],
    demo: bool | None,
    token_lifetime: float,
    log_level: str,
    quiet: bool,
    control_token: str | None,
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
            log_level="warning" if quiet else log_level,
            control_token=control_token,
        )
    except ValueError as error:  # a definition that does not load names its file and path
        _render().print_error(str(error))
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
@click.option(
    "--write-sample",
    "sample",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Only write the demo's employees.csv (--rows, --bad-rows) to FILE and exit.",
)
@output_options
def demo(rows: int, bad_rows: int, keep_running: bool, sample: Path | None) -> int:
    """The whole story on a local emulator: upload, import with rejected rows, a process,
    an export, a cancelled task, and a release promoted from dev to prod with ALM.

    With --write-sample FILE, only writes the sample employees.csv that "Load Employees" reads
    (header: Employee ID,Name,Region,Start Date,Active,Salary,FTE).
    """
    if bad_rows and rows < 2 * bad_rows + 1:
        raise click.BadParameter(
            f"{bad_rows} bad rows need at least {2 * bad_rows + 1} rows", param_hint="--rows"
        )
    if sample is not None:
        return _write_sample(sample, rows, bad_rows)
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


def _write_sample(path: Path, rows: int, bad_rows: int) -> int:
    from ..emulator.demo import bad_rows_of, write_employees_csv

    write_employees_csv(path, rows, bad_rows)
    lines = sorted(number + 1 for number in bad_rows_of(rows, bad_rows))
    if current_settings().json_output:
        _render().emit_json(
            {"path": str(path), "rows": rows, "badRows": bad_rows, "badLines": lines}
        )
    else:
        bad = f", {bad_rows} of them bad (lines {', '.join(map(str, lines))})" if lines else ""
        click.echo(f"wrote {path}: {rows:,} rows{bad}")
    return ExitCode.OK


def _announcer(sign_in: dict[str, str]) -> Callable[[str], None]:
    json_output = current_settings().json_output

    def announce(line: str) -> None:
        where = re.search(r"listening on (http://\S+)", line)
        if json_output and where:
            _render().emit_json({"baseUrl": where.group(1), **sign_in})
        else:
            click.echo(line, err=True)

    return announce


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises, unless --debug).

    An error is one line on stderr (`error: …`); with --json, stdout also holds one JSON
    document `{"error": {"message", "type", "exitCode"}}` so a script reading stdout sees it.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments or os.environ.get("ANAPLAN_DEBUG") not in (None, "", "0")
    json_output = "--json" in arguments
    try:
        code = cli.main(arguments, prog_name="anaplan-tasks", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        return _fail("interrupted", "Interrupted", ExitCode.INTERRUPTED, json_output)
    except click.ClickException as error:
        if json_output:
            _emit_error(error.format_message(), type(error).__name__, ExitCode.USAGE)
        error.show()
        return ExitCode.USAGE
    except Exception as error:
        if debug:
            traceback.print_exc()
        return _fail(_message(error), type(error).__name__, exit_code_for(error), json_output)
    return int(code or 0) if isinstance(code, int) else ExitCode.OK


def _fail(message: str, kind: str, code: ExitCode, json_output: bool) -> int:
    if json_output:
        _emit_error(message, kind, code)
    _render().print_error(message)
    return int(code)


def _emit_error(message: str, kind: str, code: int) -> None:
    _render().emit_json({"error": {"message": message, "type": kind, "exitCode": int(code)}})


def _message(error: BaseException) -> str:
    text = _one_line(error)
    if isinstance(error, TransportError) and _refused(error):
        text += (
            "; nothing answers there: is the emulator running (`anaplan-tasks serve`), "
            "and is --base-url (ANAPLAN_BASE_URL) its address?"
        )
    return text


def _refused(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    lines = (re.sub(r"^\s*-\s+", "", line).strip() for line in text.splitlines())
    return "; ".join(line for line in lines if line)
