"""The pytest plugin's fixture, used the way a user's suite would use it."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import httpx2
import pytest

from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle

from .subprocess_server import SOURCE_ROOT

pytest_plugins = ["pytester"]


def test_the_fixture_serves_the_demo(anaplan_emulator: EmulatorHandle) -> None:
    credential = base64.b64encode(
        f"{anaplan_emulator.email}:{anaplan_emulator.password}".encode()
    ).decode()
    login = httpx2.post(
        f"{anaplan_emulator.base_url}/token/authenticate",
        headers={"Authorization": f"Basic {credential}"},
    )
    assert login.status_code == 201
    me = httpx2.get(
        f"{anaplan_emulator.base_url}/2/0/users/me", headers=anaplan_emulator.auth_header()
    )
    assert me.json()["user"]["email"] == "demo@example.com"
    assert anaplan_emulator.request_counts()["GET /2/0/users/me"] == 1


def test_each_test_starts_from_a_reset(anaplan_emulator: EmulatorHandle) -> None:
    assert anaplan_emulator.request_counts() == {}
    assert anaplan_emulator.faults()["rules"] == []


def test_fail_the_next_requests(anaplan_emulator: EmulatorHandle) -> None:
    headers = anaplan_emulator.auth_header()
    url = f"{anaplan_emulator.base_url}/2/0/users/me"
    anaplan_emulator.fail("GET", "/2/0/users/*", status=429, times=2, retry_after=1)
    anaplan_emulator.fail("GET", "/2/0/users/*", status=500, times=1)
    statuses = [httpx2.get(url, headers=headers).status_code for _ in range(4)]
    assert statuses == [429, 429, 500, 200]
    assert [rule["hits"] for rule in anaplan_emulator.faults()["rules"]] == [2, 1]
    anaplan_emulator.clear_faults()
    assert httpx2.get(url, headers=headers).status_code == 200


def test_tokens_can_be_expired(anaplan_emulator: EmulatorHandle) -> None:
    headers = anaplan_emulator.auth_header()
    url = f"{anaplan_emulator.base_url}/2/0/users/me"
    anaplan_emulator.expire_tokens()
    assert httpx2.get(url, headers=headers).status_code == 401
    anaplan_emulator.set_token_lifetime(60)
    assert httpx2.get(url, headers=anaplan_emulator.auth_header()).status_code == 200


def test_unknown_users_get_no_token(anaplan_emulator: EmulatorHandle) -> None:
    with pytest.raises(ValueError, match="no user"):
        anaplan_emulator.token("nobody@example.com", "x")


def test_progression_can_be_steered(anaplan_emulator: EmulatorHandle) -> None:
    anaplan_emulator.set_progression("polls", polls=2)
    assert anaplan_emulator.running.control.progression.polls == 2
    anaplan_emulator.reset()
    assert anaplan_emulator.running.control.progression.mode == "real"


def test_the_installed_entry_point_loads_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(SOURCE_ROOT))
    pytester.makepyfile(
        """
        import httpx2

        def test_uses_the_fixture(anaplan_emulator):
            url = anaplan_emulator.base_url + "/2/0/workspaces"
            response = httpx2.get(url, headers=anaplan_emulator.auth_header())
            assert response.json()["workspaces"][0]["name"] == "Demo Workspace"

        def test_starts_clean(anaplan_emulator):
            assert anaplan_emulator.request_counts() == {}
        """
    )
    # No `-p` and no conftest: the `pytest11` entry point of the installed distribution loads it.
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)


def test_a_rate_limit_can_be_set(anaplan_emulator: EmulatorHandle) -> None:
    headers = anaplan_emulator.auth_header()
    url = f"{anaplan_emulator.base_url}/2/0/users/me"
    anaplan_emulator.set_rate_limit(2, retry_after=False)
    statuses = [httpx2.get(url, headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    anaplan_emulator.set_rate_limit(None)
    assert httpx2.get(url, headers=headers).status_code == 200


def test_loading_the_plugin_does_not_need_the_server_dependencies() -> None:
    # pytest loads the plugin in every run where anaplan-tasks is installed, even without the
    # `emulator` extra: it may import starlette and uvicorn only when a fixture is used.
    code = (
        "import sys, anaplan_tasks.emulator.pytest_plugin; "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'cryptography', 'anyio') "
        "if m in sys.modules))"
    )
    environment = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    ).stdout
    assert output.strip() == "[]"


def test_a_suite_that_does_not_use_the_fixture_imports_nothing_of_anaplan_tasks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every pytest run of anyone who installed the package loads the plugin: it must cost that
    # run only its own module, not the emulator, the client or the task models.
    monkeypatch.setenv("PYTHONPATH", str(SOURCE_ROOT))
    pytester.makepyfile(
        """
        import sys

        HEAVY = ("anaplan_tasks.client", "anaplan_tasks.models", "anaplan_tasks.emulator.engine",
                 "anaplan_tasks.emulator.server", "pydantic", "httpx2", "starlette")

        def test_unrelated():
            assert "anaplan_tasks.emulator.pytest_plugin" in sys.modules
            assert [name for name in HEAVY if name in sys.modules] == []
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_the_fault_kinds_agree_with_the_server() -> None:
    from anaplan_tasks.emulator import pytest_plugin
    from anaplan_tasks.emulator.api.faults import FAULT_KINDS

    assert get_args(pytest_plugin.FaultKind) == FAULT_KINDS


def test_a_test_can_name_a_bucket_for_cloudworks(
    anaplan_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    bucket = anaplan_emulator.add_bucket("landing", tmp_path / "landing", access_key_id="AK")
    assert bucket.name == "landing"
    headers = anaplan_emulator.auth_header()
    body = {
        "type": "AmazonS3",
        "body": {
            "name": "c",
            "bucketName": "landing",
            "accessKeyId": "AK",
            "secretAccessKey": "any",
        },
    }
    url = f"{anaplan_emulator.base_url}/2/0/integrations/connections"
    assert httpx2.post(url, json=body, headers=headers).status_code == 200
    assert anaplan_emulator.fire_schedules() == []
    anaplan_emulator.reset()  # the bucket was this test's
    headers = anaplan_emulator.auth_header()
    refused = httpx2.post(
        url, json={**body, "body": {**body["body"], "name": "d"}}, headers=headers
    )
    assert refused.json()["status"]["message"] == "Bucket name is invalid"
