"""`python -m anaplan_tasks.emulator`: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .api.auth import DEFAULT_TOKEN_LIFETIME
from .server import DEFAULT_HOST, LOG_LEVELS, serve


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m anaplan_tasks.emulator",
        description=(
            "A local emulator of Anaplan's bulk API and authentication service "
            "(one origin serves /token/... and /2/0/...)."
        ),
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to bind (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to bind; 0 picks a free one (%(default)s)"
    )
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="directory for the SQLite database and file chunks (default: a per-user directory)",
    )
    storage.add_argument(
        "--memory", action="store_true", help="keep everything in memory (lost on exit)"
    )
    parser.add_argument("--demo", action="store_true", help="load the demo workspace")
    parser.add_argument(
        "--definition",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="load workspaces and models from a definition file (repeatable)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=float,
        default=DEFAULT_TOKEN_LIFETIME,
        metavar="SECONDS",
        help="seconds an auth token lives (%(default)s)",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="info logs every request, warning only problems (%(default)s)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no request log (--log-level warning)"
    )
    parser.add_argument(
        "--control-token",
        metavar="TOKEN",
        help=(
            "require this token (Authorization: Bearer TOKEN) on the /_emulator/ control routes, "
            "from any peer; without it they answer loopback peers only, and are disabled on a "
            "non-loopback --host (default: $ANAPLAN_EMULATOR_CONTROL_TOKEN)"
        ),
    )
    arguments = parser.parse_args(argv)
    if arguments.token_lifetime <= 0:
        parser.error("--token-lifetime must be above 0")
    if not 0 <= arguments.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    for definition in arguments.definition:
        if not definition.is_file():
            parser.error(f"--definition {definition}: no such file")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted; returns the exit status."""
    arguments = parse_arguments(argv)
    try:
        serve(
            host=arguments.host,
            port=arguments.port,
            data_dir=arguments.data,
            memory=arguments.memory,
            demo=arguments.demo,
            definitions=arguments.definition,
            token_lifetime=arguments.token_lifetime,
            announce=lambda line: print(line, flush=True),
            log_level="warning" if arguments.quiet else arguments.log_level,
            control_token=arguments.control_token,
        )
    except KeyboardInterrupt:  # Ctrl-C is how the server is stopped: no traceback
        return 0
    except ValueError as error:  # a definition that does not load names its file and path
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
