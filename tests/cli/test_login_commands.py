"""`anaplan-tasks login` / `logout` through the real command against the emulator; the browser
here is plain HTTP on the sign-in pages (a real Chromium drives them in tests/browser)."""

from __future__ import annotations

import json
import socket
import stat
import threading
import webbrowser
from pathlib import Path

import pytest

from anaplan_tasks.client.token_store import FileTokenStore
from anaplan_tasks.emulator.demo import (
    DEMO_DEVICE_CLIENT_ID,
    DEMO_WEB_CLIENT_ID,
    DEMO_WEB_CLIENT_SECRET,
    DEMO_WORKSPACE,
    DEV_MODEL,
)
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle

from ..client.oauth_helpers import allow_in_background, approve_device, fast_device_polls
from .conftest import Cli


@pytest.fixture
def oauth_env(cli_env: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No password in sight: commands can only sign in with OAuth. Returns the token file."""
    monkeypatch.delenv("ANAPLAN_EMAIL")
    monkeypatch.delenv("ANAPLAN_PASSWORD")
    store = tmp_path / "tokens.json"
    monkeypatch.setenv("ANAPLAN_TOKEN_STORE", str(store))
    return store


def browser_that(approve: object) -> object:
    """A stand-in for `webbrowser.open` that approves what it is shown, in a thread."""
    opened: list[str] = []

    def open_url(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        threading.Thread(target=approve, args=(url,), daemon=True).start()  # type: ignore[arg-type]
        return True

    open_url.opened = opened  # type: ignore[attr-defined]
    return open_url


def test_login_prints_the_code_opens_the_browser_and_commands_then_work(
    cli: Cli, cli_env: EmulatorHandle, oauth_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = browser_that(approve_device)
    monkeypatch.setattr(webbrowser, "open", browser)
    with fast_device_polls(cli_env.running.app):
        outcome = cli("login", "--client-id", DEMO_DEVICE_CLIENT_ID)
    assert outcome.code == 0, outcome.err
    assert "enter the code" in outcome.error
    assert f"{cli_env.base_url}/activate" in outcome.error
    assert browser.opened[0].startswith(f"{cli_env.base_url}/activate?user_code=")  # type: ignore[attr-defined]
    assert "Signed in" in outcome.text
    assert stat.S_IMODE(oauth_env.stat().st_mode) == 0o600
    monkeypatch.setenv("ANAPLAN_OAUTH_CLIENT_ID", DEMO_DEVICE_CLIENT_ID)
    listed = cli("--json", "workspaces")
    assert listed.code == 0, listed.err
    assert listed.json()[0]["name"] == DEMO_WORKSPACE
    ran = cli("run", "export", "Headcount Export", "--out", oauth_env.parent / "out.csv")
    assert ran.code == 0, ran.err
    out = cli("logout")
    assert out.code == 0
    assert "Signed out" in out.text
    again = cli("workspaces")
    assert again.code == 4
    assert "anaplan-tasks login" in again.error


def test_login_with_a_profile_that_uses_oauth(
    cli: Cli, cli_env: EmulatorHandle, oauth_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANAPLAN_BASE_URL")
    monkeypatch.delenv("ANAPLAN_TOKEN_STORE")
    profiles = oauth_env.parent / "profiles.toml"
    profiles.write_text(
        "[work]\n"
        f'base_url = "{cli_env.base_url}"\n'
        f'oauth_client_id = "{DEMO_DEVICE_CLIENT_ID}"\n'
        f'token_store = "{oauth_env}"\n'
        f'workspace = "{DEMO_WORKSPACE}"\n'
        f'model = "{DEV_MODEL}"\n'
    )
    monkeypatch.setenv("ANAPLAN_PROFILE_FILE", str(profiles))
    monkeypatch.setattr(webbrowser, "open", browser_that(approve_device))
    with fast_device_polls(cli_env.running.app):
        assert cli("--profile", "work", "login").code == 0
    ran = cli("--profile", "work", "--json", "run", "export", "Headcount Export", "--out", "h.csv")
    assert ran.code == 0, ran.err
    assert ran.json()["result"]["successful"] is True
    assert json.loads(oauth_env.read_text())["sign_ins"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def register_redirect(cli_env: EmulatorHandle) -> str:
    uri = f"http://127.0.0.1:{free_port()}/callback"
    cli_env.running.control.load_definition(
        json.dumps(
            {
                "oauth_clients": [
                    {
                        "name": "Demo Web",
                        "client_id": DEMO_WEB_CLIENT_ID,
                        "grant": "authorization_code",
                        "client_secret": DEMO_WEB_CLIENT_SECRET,
                        "redirect_uris": [uri],
                        "rotating": False,
                    }
                ]
            }
        )
    )
    return uri


def test_login_browser_runs_the_authorization_code_flow(
    cli: Cli, cli_env: EmulatorHandle, oauth_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = register_redirect(cli_env)
    monkeypatch.setattr(webbrowser, "open", browser_that(allow_in_background))
    outcome = cli(
        "--json",
        "login",
        "--browser",
        "--client-id",
        DEMO_WEB_CLIENT_ID,
        "--client-secret",
        DEMO_WEB_CLIENT_SECRET,
        "--redirect-uri",
        uri,
        "--timeout",
        "30",
    )
    assert outcome.code == 0, outcome.err
    assert outcome.json()["signedIn"] is True
    assert "/auth/authorize?" in outcome.error
    key = f"{cli_env.base_url}#{DEMO_WEB_CLIENT_ID}"
    saved = FileTokenStore(oauth_env).load(key)
    assert saved is not None
    assert saved.refresh_token


def test_a_denied_login_exits_4(
    cli: Cli, cli_env: EmulatorHandle, oauth_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webbrowser, "open", browser_that(lambda url: approve_device(url, "deny")))
    with fast_device_polls(cli_env.running.app):
        outcome = cli("login", "--client-id", DEMO_DEVICE_CLIENT_ID)
    assert outcome.code == 4
    assert "access_denied" in outcome.error
    assert not oauth_env.exists()


def test_logout_without_a_sign_in(cli: Cli, oauth_env: Path) -> None:
    outcome = cli("logout", "--client-id", DEMO_DEVICE_CLIENT_ID)
    assert outcome.code == 0
    assert "No saved sign-in" in outcome.text
