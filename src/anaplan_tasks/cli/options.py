"""Options every command takes, before or after its name (`anaplan-tasks --json files` or
`anaplan-tasks files --json`), collected into one `Settings`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

_SETTINGS_KEY = "anaplan_tasks.settings"


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        root = ctx.find_root()
        current: Settings = root.meta.get(_SETTINGS_KEY, Settings())
        root.meta[_SETTINGS_KEY] = current.merged({name: value})

    return callback


def _option(*names: str, name: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(*names, expose_value=False, callback=_remember(name), **kwargs)


OUTPUT_OPTIONS: list[Callable[[Any], Any]] = [
    _option(
        "--json",
        name="json_output",
        is_flag=True,
        default=None,
        help="Print JSON (Anaplan's wire models) on stdout instead of tables.",
    ),
    _option("--debug", name="debug", is_flag=True, default=None, help="Show tracebacks."),
]

CONNECTION_OPTIONS: list[Callable[[Any], Any]] = [
    _option("--profile", name="profile", metavar="NAME", help="Profile to use (ANAPLAN_PROFILE)."),
    _option(
        "--profile-file",
        name="profile_file",
        metavar="PATH",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Profile file (ANAPLAN_PROFILE_FILE; default ~/.config/anaplan-tasks/profiles.toml).",
    ),
    _option(
        "--base-url",
        name="base_url",
        metavar="URL",
        help="One root for API and auth, e.g. the emulator's http://127.0.0.1:8080 "
        "(ANAPLAN_BASE_URL; default Anaplan's).",
    ),
    _option(
        "--workspace",
        "-w",
        name="workspace",
        metavar="ID|NAME",
        help="Workspace (ANAPLAN_WORKSPACE_ID).",
    ),
    _option("--model", "-m", name="model", metavar="ID|NAME", help="Model (ANAPLAN_MODEL_ID)."),
    _option("--email", name="email", metavar="EMAIL", help="Basic sign-in (ANAPLAN_EMAIL)."),
    _option("--password", name="password", metavar="TEXT", help="Its password (ANAPLAN_PASSWORD)."),
    _option("--token", name="token", metavar="TOKEN", help="A token (ANAPLAN_TOKEN)."),
    _option(
        "--certificate",
        name="certificate",
        metavar="PATH",
        help="Certificate sign-in: PEM certificate (ANAPLAN_CERTIFICATE).",
    ),
    _option(
        "--private-key",
        name="private_key",
        metavar="PATH",
        help="Its PEM private key (ANAPLAN_PRIVATE_KEY).",
    ),
]


def output_options(function: F) -> F:
    """Add `--json` and `--debug`."""
    for option in reversed(OUTPUT_OPTIONS):
        function = option(function)
    return function


def common_options(function: F) -> F:
    """Add the output and connection options."""
    for option in reversed(CONNECTION_OPTIONS):
        function = option(function)
    return output_options(function)


def current_settings(ctx: click.Context | None = None) -> Settings:
    """The settings gathered so far from every level of the command line."""
    root = (ctx or click.get_current_context()).find_root()
    settings: Settings = root.meta.get(_SETTINGS_KEY, Settings())
    return settings
