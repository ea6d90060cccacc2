"""The `anaplan-tasks` command line (needs the `cli` extra: click and rich).

Every command talks to Anaplan (or the emulator) through the public client only.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

try:
    from .app import cli, main
except ModuleNotFoundError as missing:  # installed without the `cli` extra
    if missing.name not in ("click", "rich"):
        raise
    _MISSING = missing.name

    def main(argv: Sequence[str] | None = None) -> int:
        """Say which extra to install instead of failing with a traceback."""
        print(
            f"error: the anaplan-tasks command needs the 'cli' extra ({_MISSING} is not "
            "installed): pip install 'anaplan-tasks[cli]'",
            file=sys.stderr,
        )
        return 2


__all__ = ["cli", "main"]
