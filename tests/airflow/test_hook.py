"""The `anaplan` connection type: provider registration, the hook's settings, the Test button."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.sdk import Connection

from anaplan_tasks.airflow.hooks import AnaplanHook
from anaplan_tasks.airflow.triggers import AnaplanTaskTrigger
from anaplan_tasks.emulator.demo import DEMO_PASSWORD, DEMO_USER, DEMO_WORKSPACE, DEV_MODEL

from .conftest import CONN_ID, Emulator, employees_csv


def test_airflow_finds_the_provider_and_its_connection_type(airflow_db: Path) -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()
    assert "anaplan-tasks" in manager.providers
    widgets = manager.connection_form_widgets
    assert {"workspace", "model", "auth_type", "certificate", "private_key"} <= {
        key.removeprefix("extra__anaplan__")
        for key in widgets
        if key.startswith("extra__anaplan__")
    }
    assert widgets["extra__anaplan__private_key"].is_sensitive
    assert "port" in manager.field_behaviours["anaplan"]["hidden_fields"]
    hook = ProvidersManagerTaskRuntime().hooks["anaplan"]
    assert hook is not None
    assert hook.hook_class_name == "anaplan_tasks.airflow.hooks.AnaplanHook"
    assert hook.connection_type == "anaplan"


def test_a_connection_maps_to_client_settings() -> None:
    hook = AnaplanHook("x")
    connection = Connection(
        conn_id="x",
        conn_type="anaplan",
        host="http://127.0.0.1:8080",
        login="me@example.com",
        password="secret",
        extra=json.dumps({"workspace": "WS", "model": "M", "timeout": "12"}),
    )
    settings = hook.settings(connection)
    assert settings["email"] == "me@example.com"
    assert settings["password"] == "secret"
    assert settings["workspace_id"] == "WS"
    assert settings["model_id"] == "M"
    assert settings["base_url"] == "http://127.0.0.1:8080"
    assert settings["timeout"] == 12.0
    assert settings["env"] == {}  # the connection alone decides, not the worker's ANAPLAN_*


def test_certificate_sign_in_takes_paths_or_pem_text(tmp_path: Path) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    connection = Connection(
        conn_id="x",
        conn_type="anaplan",
        password="key password",
        extra=json.dumps(
            {"auth_type": "certificate", "certificate": pem, "private_key": str(tmp_path / "k")}
        ),
    )
    settings = AnaplanHook("x", workspace="W", model="M").settings(connection)
    assert Path(settings["certificate"]).read_text() == pem
    assert os.stat(settings["certificate"]).st_mode & 0o077 == 0
    assert settings["private_key"] == str(tmp_path / "k")
    assert settings["private_key_password"] == "key password"
    assert (settings["workspace_id"], settings["model_id"]) == ("W", "M")
    assert "email" not in settings


def test_an_unknown_sign_in_kind_is_refused() -> None:
    connection = Connection(conn_id="x", conn_type="anaplan", extra='{"auth_type": "oauth"}')
    with pytest.raises(ValueError, match="oauth"):
        AnaplanHook("x").settings(connection)


def test_the_test_button_signs_in_and_reads_the_model(emulator: Emulator) -> None:
    ok, message = AnaplanHook(CONN_ID).test_connection()
    assert ok, message
    assert "2 imports in model FP&A Dev" in message


def test_the_test_button_reports_a_bad_password(emulator: Emulator) -> None:
    os.environ["AIRFLOW_CONN_ANAPLAN_BAD"] = json.dumps(
        {
            "conn_type": "anaplan",
            "host": emulator.base_url,
            "login": DEMO_USER,
            "password": DEMO_PASSWORD + "x",
            "extra": {"workspace": DEMO_WORKSPACE, "model": DEV_MODEL},
        }
    )
    try:
        ok, message = AnaplanHook("anaplan_bad").test_connection()
    finally:
        del os.environ["AIRFLOW_CONN_ANAPLAN_BAD"]
    assert not ok
    assert "AuthenticationError" in message


def test_token_sign_in_works_against_the_emulator(emulator: Emulator) -> None:
    principal = emulator.running.engine.authenticate_basic(DEMO_USER, DEMO_PASSWORD)
    assert principal is not None
    token = emulator.running.control.tokens.issue(principal).value
    os.environ["AIRFLOW_CONN_ANAPLAN_TOKEN"] = json.dumps(
        {
            "conn_type": "anaplan",
            "host": emulator.base_url,
            "password": token,
            "extra": {
                "auth_type": "token",
                "workspace": emulator.workspace_id,
                "model": "FP&A Dev",
            },
        }
    )
    try:
        ok, message = AnaplanHook("anaplan_token").test_connection()
    finally:
        del os.environ["AIRFLOW_CONN_ANAPLAN_TOKEN"]
    assert ok, message


def test_an_unknown_model_name_is_named_with_the_visible_ones(emulator: Emulator) -> None:
    ok, message = AnaplanHook(CONN_ID, model="FP&A Test").test_connection()
    assert not ok
    assert "FP&A Test" in message
    assert "FP&A Dev" in message


def test_the_trigger_serialises_to_plain_values() -> None:
    trigger = AnaplanTaskTrigger(
        anaplan_conn_id="c", kind="imports", action_id="112000000000", task_id="T", timeout=30.0
    )
    path, kwargs = trigger.serialize()
    assert path == "anaplan_tasks.airflow.triggers.AnaplanTaskTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert AnaplanTaskTrigger(**kwargs).serialize() == (path, kwargs)


async def test_triggers_of_one_connection_share_one_sign_in(emulator: Emulator) -> None:
    import asyncio

    emulator.progress("fixed", seconds=1.0)
    with emulator.client() as client:
        client.files.upload("employees.csv", employees_csv(1, 3))
        first = client.imports.start("Load Employees")
        other = client.with_model(emulator.prod_id)
        other.files.upload("employees.csv", employees_csv(1, 3))
        second = other.imports.start("Load Employees")
        other.close()
    before = emulator.running.control.request_counts().get("POST /token/authenticate", 0)
    triggers = [
        AnaplanTaskTrigger(
            anaplan_conn_id=CONN_ID,
            kind="imports",
            action_id=ref.action_id,
            task_id=ref.task_id,
            model=model,
        )
        for ref, model in ((first, None), (second, emulator.prod_id))
    ]

    async def fire(trigger: AnaplanTaskTrigger) -> dict[str, object]:
        events = [event.payload async for event in trigger.run()]
        assert len(events) == 1
        return events[0]

    events = await asyncio.gather(*(fire(trigger) for trigger in triggers))

    assert [event["status"] for event in events] == ["ended", "ended"]
    assert [event["task_id"] for event in events] == [first.task_id, second.task_id]
    after = emulator.running.control.request_counts().get("POST /token/authenticate", 0)
    assert after - before == 1


def test_oauth_sign_in_reads_the_saved_sign_in_from_the_connection_store(
    emulator: Emulator, tmp_path: Path
) -> None:
    from anaplan_tasks.client import device_login
    from anaplan_tasks.emulator.demo import DEMO_DEVICE_CLIENT_ID

    from ..client.oauth_helpers import approve_device, fast_device_polls

    store = tmp_path / "tokens.json"
    with fast_device_polls(emulator.running.app):
        device_login(
            client_id=DEMO_DEVICE_CLIENT_ID,
            store=str(store),
            on_code=lambda code: approve_device(str(code.verification_uri_complete)),
            base_url=emulator.base_url,
            env={},
        )
    connection = {
        "conn_type": "anaplan",
        "host": emulator.base_url,
        "extra": {
            "auth_type": "oauth",
            "oauth_client_id": DEMO_DEVICE_CLIENT_ID,
            "token_store": str(store),
            "workspace": emulator.workspace_id,
            "model": "FP&A Dev",
        },
    }
    os.environ["AIRFLOW_CONN_ANAPLAN_OAUTH"] = json.dumps(connection)
    try:
        ok, message = AnaplanHook("anaplan_oauth").test_connection()
        with AnaplanHook("anaplan_oauth").get_conn() as client:
            assert "Load Employees" in {action.name for action in client.imports.list()}
    finally:
        del os.environ["AIRFLOW_CONN_ANAPLAN_OAUTH"]
    assert ok, message
    assert emulator.running.control.request_counts().get("POST /token/authenticate", 0) == 0


def test_oauth_without_its_store_is_refused_naming_the_extras() -> None:
    hook = AnaplanHook("anaplan_oauth_incomplete")
    connection = SimpleNamespace(
        host="", login=None, password=None, extra_dejson={"auth_type": "oauth"}
    )
    with pytest.raises(ValueError, match="needs the extras oauth_client_id and token_store"):
        hook.settings(connection)
