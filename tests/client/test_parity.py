"""Client and AsyncClient offer the same surface: same namespaces, same methods, same parameters."""

from __future__ import annotations

import asyncio
import inspect

from anaplan_tasks.client import AsyncClient, AsyncFailureDumps, Client, FailureDumps

NAMESPACES = (
    "workspaces",
    "models",
    "files",
    "imports",
    "exports",
    "actions",
    "processes",
    "tasks",
    "lists",
    "modules",
    "views",
    "cells",
    "calendar",
    "versions",
    "users",
)


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_namespace_has_the_same_methods_and_parameters() -> None:
    sync_client = Client(token="t", env={})
    async_client = AsyncClient(token="t", env={})
    try:
        for name in NAMESPACES:
            sync_methods = _public(type(getattr(sync_client, name)))
            async_methods = _public(type(getattr(async_client, name)))
            assert sync_methods.keys() == async_methods.keys(), name
            for method, signature in sync_methods.items():
                assert list(signature.parameters) == list(async_methods[method].parameters), (
                    f"{name}.{method}"
                )
                assert inspect.iscoroutinefunction(
                    getattr(type(getattr(async_client, name)), method)
                ) or inspect.isasyncgenfunction(getattr(type(getattr(async_client, name)), method))
    finally:
        sync_client.close()
        asyncio.run(async_client.aclose())


def test_the_clients_themselves_match() -> None:
    sync_methods = set(_public(Client)) - {"close"}
    async_methods = set(_public(AsyncClient)) - {"aclose"}
    assert sync_methods == async_methods


def test_failure_dumps_match() -> None:
    assert _public(FailureDumps).keys() == _public(AsyncFailureDumps).keys()
