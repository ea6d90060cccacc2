"""The public surface of `Client`, `AsyncClient` and their namespaces, held against a snapshot.

`surface.json` records every public attribute, method and signature (async methods marked as
such). A change to the surface must change the snapshot in the same commit, on purpose:
`ANAPLAN_TASKS_WRITE_SURFACE=1 pytest tests/client/test_surface.py` rewrites it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
from pathlib import Path
from typing import Any

import anaplan_tasks.client
from anaplan_tasks.client import AsyncClient, Client

SNAPSHOT = Path(__file__).with_name("surface.json")


def _kind(member: Any) -> str:
    if inspect.iscoroutinefunction(member):
        return "async def"
    if inspect.isasyncgenfunction(member):
        return "async generator"
    return "def"


def _describe_class(cls: type) -> dict[str, str]:
    described: dict[str, str] = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") and name not in (
            "__enter__",
            "__exit__",
            "__aenter__",
            "__aexit__",
        ):
            continue
        if inspect.isfunction(member):
            described[name] = f"{_kind(member)} {name}{inspect.signature(member)}"
        elif isinstance(member, property):
            described[name] = f"property {name}"
    return described


def _surface() -> dict[str, Any]:
    sync_client = Client(token="t", env={})
    async_client = AsyncClient(token="t", env={})
    try:
        surface: dict[str, Any] = {
            "anaplan_tasks.client.__all__": list(anaplan_tasks.client.__all__)
        }
        seen: dict[str, type] = {}
        for client in (sync_client, async_client):
            cls = type(client)
            namespaces = {
                name: type(value).__name__
                for name, value in vars(client).items()
                if not name.startswith("_")
            }
            surface[cls.__name__] = {"methods": _describe_class(cls), "namespaces": namespaces}
            for name in namespaces:
                namespace = getattr(client, name)
                seen[type(namespace).__name__] = type(namespace)
                for inner_name, inner in vars(namespace).items():  # client.cloudworks.flows, …
                    if not inner_name.startswith("_"):
                        seen[type(inner).__name__] = type(inner)
        for name in ("FailureDumps", "AsyncFailureDumps", "RunDumps", "AsyncRunDumps"):
            seen[name] = getattr(anaplan_tasks.client, name)
        for name, namespace_type in sorted(seen.items()):
            surface[name] = _describe_class(namespace_type)
        return surface
    finally:
        sync_client.close()
        asyncio.run(async_client.aclose())


def test_the_public_surface_matches_the_snapshot() -> None:
    surface = _surface()
    if os.environ.get("ANAPLAN_TASKS_WRITE_SURFACE") == "1":
        SNAPSHOT.write_text(json.dumps(surface, indent=2, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert surface.keys() == expected.keys()
    for name, described in expected.items():
        assert surface[name] == described, name
