"""A client configured with workspace and model names resolves them to ids, once, over loopback."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from anaplan_tasks.client import AsyncClient, Client
from anaplan_tasks.emulator.demo import (
    DEMO_WORKSPACE,
    DEV_MODEL,
    PROD_MODEL,
    generate_employees_csv,
)
from anaplan_tasks.errors import ConfigurationError

from .conftest import Emulator


def _named(emulator: Emulator, **names: str | None) -> dict[str, object]:
    settings = emulator.client_settings()
    settings.update(names)
    return settings


def _listings(emulator: Emulator) -> int:
    return emulator.requests("GET", "/workspaces") + emulator.requests("GET", "/models")


def test_names_resolve_once_for_a_client_and_its_threads(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id=DEMO_WORKSPACE, model_id=DEV_MODEL)
    with Client(**settings) as client:  # type: ignore[arg-type]
        before = _listings(emulator)
        with ThreadPoolExecutor(8) as pool:
            listed = list(pool.map(lambda _: client.imports.list(), range(16)))
        assert all(names == listed[0] for names in listed)
        assert "Load Employees" in {action.name for action in listed[0]}
        # One workspace listing and one model listing, however many threads asked at once.
        assert _listings(emulator) - before == 2
        rows = b"".join(generate_employees_csv(50, seed=1, bad_rows=0))
        task = client.imports.run("Load Employees", source=rows)
        assert task.result.successful
        assert client.config.model_id == DEV_MODEL  # the settings keep what was given


def test_a_model_name_alone_finds_its_workspace(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id=None, model_id=DEV_MODEL.lower())
    with Client(**settings) as client:  # type: ignore[arg-type]
        assert [file.name for file in client.files.list()]
        assert client.models.list()  # the resolved workspace, not the name


def test_a_model_id_alone_finds_its_workspace(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id=None, model_id=emulator.model_id)
    with Client(**settings) as client:  # type: ignore[arg-type]
        assert "Load Employees" in {action.name for action in client.imports.list()}


def test_copies_share_what_was_resolved(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id=DEMO_WORKSPACE, model_id=DEV_MODEL)
    with Client(**settings) as client:  # type: ignore[arg-type]
        client.processes.list()
        before = _listings(emulator)
        again = client.with_options(timeout=30.0)
        again.processes.list()
        assert _listings(emulator) == before
        prod = client.with_model(PROD_MODEL)
        assert prod.alm.latest_revision() is not None
        assert _listings(emulator) - before == 2  # only the new model's name was looked up
        again.close()
        prod.close()


def test_an_unknown_workspace_name_is_blamed_not_the_model(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id="Demo Workspce", model_id=DEV_MODEL)
    with (
        Client(**settings) as client,  # type: ignore[arg-type]
        pytest.raises(ConfigurationError) as caught,
    ):
        client.imports.list()
    assert str(caught.value) == (
        f"no workspace named 'Demo Workspce' (you can see: {DEMO_WORKSPACE!r})"
    )


def test_an_unknown_model_name_lists_the_models_of_its_workspace(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id=DEMO_WORKSPACE, model_id="FP&A Staging")
    with (
        Client(**settings) as client,  # type: ignore[arg-type]
        pytest.raises(
            ConfigurationError, match="no model named 'FP&A Staging' in workspace"
        ) as caught,
    ):
        client.files.list()
    assert repr(DEV_MODEL) in str(caught.value)
    assert repr(PROD_MODEL) in str(caught.value)


def test_listings_that_name_no_model_work_whatever_the_model_name(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id=DEMO_WORKSPACE, model_id="no such model")
    with Client(**settings) as client:  # type: ignore[arg-type]
        assert [workspace.name for workspace in client.workspaces.list()] == [DEMO_WORKSPACE]
        workspace_id = client.workspaces.list()[0].id
        assert {model.name for model in client.models.list(workspace_id)} >= {DEV_MODEL}
        for _ in range(2):  # nothing is cached after a failure: refused each time
            with pytest.raises(ConfigurationError, match="no model named 'no such model'"):
                client.files.list()


async def test_the_async_client_resolves_names_once_across_tasks(emulator: Emulator) -> None:
    settings = _named(emulator, workspace_id=DEMO_WORKSPACE, model_id=DEV_MODEL)
    async with AsyncClient(**settings) as client:  # type: ignore[arg-type]
        before = _listings(emulator)
        listed = await asyncio.gather(*(client.exports.list() for _ in range(12)))
        assert all(names == listed[0] for names in listed)
        assert _listings(emulator) - before == 2
        task = await client.exports.run("Headcount Export")
        assert task.result.successful
