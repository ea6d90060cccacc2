"""The emulator's task engine: a real state machine over a real store.

`create_engine` builds one; the HTTP layer talks to it through `contract.Engine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..definitions import Definition
from ..storage import SqliteStore
from .clock import Clock, SystemClock
from .contract import Progression
from .core import INTERRUPTED_TEXT, EmulatorEngine

__all__ = [
    "INTERRUPTED_TEXT",
    "Clock",
    "EmulatorEngine",
    "SystemClock",
    "create_engine",
]


def create_engine(
    *,
    data_dir: Path | None = None,
    memory: bool = False,
    demo: bool = False,
    definitions: Sequence[Definition] = (),
    progression: Progression = Progression(),  # noqa: B008 - frozen dataclass, safe default
    clock: Clock | None = None,
) -> EmulatorEngine:
    """Open (or create) an emulator's data and start its engine.

    Args:
        data_dir: Directory for the SQLite databases; reopening it finds everything that was
            acknowledged before (an interrupted task ends failed, a queued one runs again).
        memory: Keep everything in a temporary directory deleted on `close()` (no fsync).
        demo: Load the demo workspace (`anaplan_tasks.emulator.demo`).
        definitions: Further definitions to load (validated), after the demo.
        progression: How tasks progress (see `contract.Progression`).
        clock: Time source; tests pass a fake one.
    """
    if data_dir is None and not memory:
        raise ValueError("give data_dir, or memory=True for an ephemeral emulator")
    store = SqliteStore(None if memory else data_dir, memory=memory)
    loaded: list[Definition] = []
    if demo:
        from ..demo import demo_definition

        loaded.append(demo_definition())
    loaded.extend(definitions)
    return EmulatorEngine(store, definitions=loaded, progression=progression, clock=clock)
