"""The `anaplan-tasks` command line (needs the `cli` extra: click and rich).

Every command talks to Anaplan (or the emulator) through the public client only.
"""

from .app import cli, main

__all__ = ["cli", "main"]
