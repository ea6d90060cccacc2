"""OAuth sign-in against the emulator over loopback: the device and authorization-code flows,
refresh with rotation (single-flight across threads, tasks, clients and processes), and a
refresh whose answer is lost."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from anaplan_tasks.client import (
    AsyncClient,
    Client,
    ClientConfig,
    FileTokenStore,
    KeyringTokenStore,
    OAuthCredentials,
    async_device_login,
    browser_login,
    device_login,
)
from anaplan_tasks.client.token_store import SavedTokens, default_token_store, forget_sign_in
from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.demo import (
    DEMO_DEVICE_CLIENT_ID,
    DEMO_WEB_CLIENT_ID,
    DEMO_WEB_CLIENT_SECRET,
)
from anaplan_tasks.errors import ConfigurationError, OAuthError

from .conftest import FAST_RETRY, Emulator
from .oauth_helpers import allow_in_background, approve_device, fast_device_polls

SOURCE_ROOT = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "tokens.json"


def sign_in_device(emulator: Emulator, store_path: Path) -> OAuthCredentials:
    with fast_device_polls(emulator.running.app):
        return device_login(
            client_id=DEMO_DEVICE_CLIENT_ID,
            store=str(store_path),
            on_code=lambda code: approve_device(str(code.verification_uri_complete)),
            base_url=emulator.base_url,
            env={},
        )


def oauth_client(emulator: Emulator, credentials: OAuthCredentials) -> Client:
    return Client(
        credentials=credentials,
        base_url=emulator.base_url,
        workspace_id=emulator.workspace_id,
        model_id=emulator.model_id,
        retry=FAST_RETRY,
        env={},
    )


def token_requests(emulator: Emulator) -> int:
    return emulator.requests("POST", "/oauth/token")


def test_device_login_saves_a_sign_in_that_clients_use(
    emulator: Emulator, store_path: Path
) -> None:
    credentials = sign_in_device(emulator, store_path)
    assert credentials.base_url == emulator.base_url
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store_path.parent.stat().st_mode) == 0o700
    assert [p.name for p in store_path.parent.iterdir() if p.name.endswith(".tmp")] == []
    saved = FileTokenStore(store_path).load(credentials.store_key)
    assert saved is not None
    assert saved.refresh_token
    assert saved.refresh_token not in repr(saved)
    # A later program needs only the client id: the sign-in is in the store.
    with Client(
        oauth_client_id=DEMO_DEVICE_CLIENT_ID,
        token_store=str(store_path),
        base_url=emulator.base_url,
        env={},
    ) as client:
        assert client.workspaces.list()[0].id == emulator.workspace_id
        assert client.config.credentials.store_key == credentials.store_key  # type: ignore[union-attr]
    assert token_requests(emulator) == 1  # the device poll only: the saved token was used


def test_a_rotated_refresh_token_is_saved_before_it_is_used(
    emulator: Emulator, store_path: Path
) -> None:
    credentials = sign_in_device(emulator, store_path)
    store = FileTokenStore(store_path)
    first = store.load(credentials.store_key)
    assert first is not None
    with oauth_client(emulator, credentials) as client:
        client.files.list()
        emulator.running.control.tokens.expire_all()  # every access token refused (401)
        client.files.list()
    second = store.load(credentials.store_key)
    assert second is not None
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert token_requests(emulator) == 2
    # The old refresh token is used up: the server refuses it.
    saved_elsewhere = FileTokenStore(store_path.with_name("old.json"))
    lock = saved_elsewhere.lock()
    saved_elsewhere.save(credentials.store_key, SavedTokens(first.refresh_token))
    lock.release()
    old = OAuthCredentials(DEMO_DEVICE_CLIENT_ID, saved_elsewhere)
    with oauth_client(emulator, old) as client, pytest.raises(OAuthError) as refused:
        client.files.list()
    assert "anaplan-tasks login" in str(refused.value)
    assert refused.value.error == "invalid_grant"


def test_one_refresh_for_many_threads(emulator: Emulator, store_path: Path) -> None:
    credentials = sign_in_device(emulator, store_path)
    with oauth_client(emulator, credentials) as client:
        client.files.list()
        emulator.running.control.tokens.expire_all()
        emulator.fail(FaultRule(fault="latency", method="POST", path="/oauth/token", latency=0.2))
        errors: list[BaseException] = []

        def work() -> None:
            try:
                client.files.list()
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert token_requests(emulator) == 2  # the device poll, then one refresh


async def test_one_refresh_for_many_tasks(emulator: Emulator, store_path: Path) -> None:
    with fast_device_polls(emulator.running.app):
        credentials = await async_device_login(
            client_id=DEMO_DEVICE_CLIENT_ID,
            store=FileTokenStore(store_path),
            on_code=lambda code: approve_device(str(code.verification_uri_complete)),
            base_url=emulator.base_url,
            env={},
        )
    async with AsyncClient(
        credentials=credentials,
        base_url=emulator.base_url,
        workspace_id=emulator.workspace_id,
        model_id=emulator.model_id,
        env={},
    ) as client:
        await client.files.list()
        emulator.running.control.tokens.expire_all()
        emulator.fail(FaultRule(fault="latency", method="POST", path="/oauth/token", latency=0.2))
        await asyncio.gather(*(client.files.list() for _ in range(8)))
    assert token_requests(emulator) == 2


def test_two_clients_sharing_a_store_refresh_once(emulator: Emulator, store_path: Path) -> None:
    credentials = sign_in_device(emulator, store_path)
    first, second = oauth_client(emulator, credentials), oauth_client(emulator, credentials)
    with first, second:
        first.files.list()
        second.files.list()
        emulator.running.control.tokens.expire_all()
        emulator.fail(FaultRule(fault="latency", method="POST", path="/oauth/token", latency=0.2))
        threads = [threading.Thread(target=c.files.list) for c in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        first.files.list()
        second.files.list()
    assert token_requests(emulator) == 2


CHILD = """
import sys, time
from pathlib import Path
from anaplan_tasks.client import Client
base_url, store, ready_dir, me, client_id = sys.argv[1:6]
Path(ready_dir, me).touch()
while len(list(Path(ready_dir).iterdir())) < 2:
    time.sleep(0.01)  # a start line for both processes
with Client(oauth_client_id=client_id, token_store=store, base_url=base_url, env={}) as client:
    print(len(client.workspaces.list()), flush=True)
"""


def run_children(emulator: Emulator, store_path: Path, ready: Path) -> list[str]:
    ready.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                emulator.base_url,
                str(store_path),
                str(ready),
                name,
                DEMO_DEVICE_CLIENT_ID,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_two_processes_sharing_a_store_refresh_once(
    emulator: Emulator, store_path: Path, tmp_path: Path
) -> None:
    credentials = sign_in_device(emulator, store_path)
    emulator.fail(FaultRule(fault="latency", method="POST", path="/oauth/token", latency=0.3))
    for round_number in (1, 2):
        emulator.running.control.tokens.expire_all()  # both must refresh before working
        outputs = run_children(emulator, store_path, tmp_path / f"ready-{round_number}")
        assert outputs == ["1", "1"]
        assert token_requests(emulator) == 1 + round_number  # one refresh per round
    saved = FileTokenStore(store_path).load(credentials.store_key)
    assert saved is not None
    with oauth_client(emulator, credentials) as client:
        assert client.workspaces.list()


def test_a_lost_refresh_answer_asks_to_sign_in_again_and_damages_nothing(
    emulator: Emulator, store_path: Path
) -> None:
    credentials = sign_in_device(emulator, store_path)
    store = FileTokenStore(store_path)
    lock = store.lock()
    store.save("another profile", SavedTokens("other-refresh", "other-access", 1.0, 0.0, "x"))
    lock.release()
    with oauth_client(emulator, credentials) as client:
        client.files.list()
        emulator.running.control.tokens.expire_all()
        before = store_path.read_bytes()
        emulator.fail(FaultRule(fault="reset_after", method="POST", path="/oauth/token", times=1))
        with pytest.raises(OAuthError) as lost:
            client.files.list()
        assert "anaplan-tasks login" in str(lost.value)
        assert "lost" in str(lost.value)
        assert lost.value.error == "invalid_grant"
        with pytest.raises(OAuthError):  # and again: one request, no loop
            client.files.list()
    assert token_requests(emulator) == 1 + 2 + 1  # device poll; refresh and its one re-send
    assert store_path.read_bytes() == before


def test_a_lost_answer_of_a_non_rotating_client_is_asked_again(
    emulator: Emulator, store_path: Path
) -> None:
    credentials = browser_login(
        client_id=DEMO_WEB_CLIENT_ID,
        client_secret=DEMO_WEB_CLIENT_SECRET,
        redirect_uri=_free_redirect(emulator),
        open_browser=allow_in_background,
        store=str(store_path),
        base_url=emulator.base_url,
        timeout=30,
        env={},
    )
    with oauth_client(emulator, credentials) as client:
        client.files.list()
        emulator.running.control.tokens.expire_all()
        emulator.fail(FaultRule(fault="reset_after", method="POST", path="/oauth/token", times=1))
        client.files.list()
    assert token_requests(emulator) == 1 + 2


def _free_redirect(emulator: Emulator) -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}/callback"
    emulator.running.control.load_definition(
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


def test_browser_login_checks_state_and_denial(emulator: Emulator, store_path: Path) -> None:
    with pytest.raises(OAuthError) as denied:
        browser_login(
            client_id=DEMO_WEB_CLIENT_ID,
            client_secret=DEMO_WEB_CLIENT_SECRET,
            redirect_uri=_free_redirect(emulator),
            open_browser=lambda url: allow_in_background(url, "deny"),
            store=str(store_path),
            base_url=emulator.base_url,
            timeout=30,
            env={},
        )
    assert denied.value.error == "access_denied"
    assert not store_path.exists()


def test_a_denied_device_code(emulator: Emulator, store_path: Path) -> None:
    with fast_device_polls(emulator.running.app), pytest.raises(OAuthError) as denied:
        device_login(
            client_id=DEMO_DEVICE_CLIENT_ID,
            store=str(store_path),
            on_code=lambda code: approve_device(str(code.verification_uri_complete), "deny"),
            base_url=emulator.base_url,
            env={},
        )
    assert denied.value.error == "access_denied"


def test_a_revoked_sign_in_says_to_sign_in_again(emulator: Emulator, store_path: Path) -> None:
    credentials = sign_in_device(emulator, store_path)
    emulator.running.app.oauth.revoke_refresh_tokens()
    emulator.running.control.tokens.expire_all()
    with oauth_client(emulator, credentials) as client, pytest.raises(OAuthError) as refused:
        client.files.list()
    assert "anaplan-tasks login" in str(refused.value)
    assert token_requests(emulator) == 2


def test_without_a_saved_sign_in(emulator: Emulator, store_path: Path) -> None:
    credentials = OAuthCredentials(DEMO_DEVICE_CLIENT_ID, FileTokenStore(store_path))
    with oauth_client(emulator, credentials) as client, pytest.raises(OAuthError) as missing:
        client.workspaces.list()
    assert missing.value.error == "login_required"
    assert "anaplan-tasks login" in str(missing.value)


def test_logout_forgets_only_its_own_sign_in(emulator: Emulator, store_path: Path) -> None:
    credentials = sign_in_device(emulator, store_path)
    store = FileTokenStore(store_path)
    lock = store.lock()
    store.save("other", SavedTokens("r"))
    lock.release()
    assert forget_sign_in(credentials) is True
    assert forget_sign_in(credentials) is False
    assert store.load(credentials.store_key) is None
    assert store.load("other") == SavedTokens("r")


# -- settings ---------------------------------------------------------------------------------


def resolve(**settings: Any) -> OAuthCredentials:
    config = ClientConfig.resolve(**settings)
    assert isinstance(config.credentials, OAuthCredentials)
    return config.credentials


def test_the_oauth_server_is_regional(tmp_path: Path) -> None:
    store = str(tmp_path / "t.json")
    common: dict[str, Any] = {"oauth_client_id": "a" * 32, "token_store": store}
    assert resolve(**common, env={}).base_url == "https://us1a.app.anaplan.com"
    assert resolve(**common, region="au1", env={}).base_url == "https://au1a.app2.anaplan.com"
    assert resolve(**common, env={"ANAPLAN_REGION": "eu3"}).base_url == (
        "https://eu3.app.anaplan.com"
    )
    # The emulator serves everything on one origin; an explicit root wins over both.
    assert resolve(**common, region="eu3", base_url="http://127.0.0.1:9/", env={}).base_url == (
        "http://127.0.0.1:9"
    )
    assert resolve(
        **common, oauth_base_url="https://oauth.test", base_url="http://x", env={}
    ).base_url == ("https://oauth.test")
    with pytest.raises(ConfigurationError, match="unknown Anaplan region"):
        resolve(**common, region="mars1", env={})
    env = {"ANAPLAN_OAUTH_CLIENT_ID": "b" * 32, "ANAPLAN_TOKEN_STORE": store}
    assert resolve(env=env).client_id == "b" * 32
    # Basic credentials, when given too, win.
    basic = ClientConfig.resolve(email="e", password="p", env=env)
    assert not isinstance(basic.credentials, OAuthCredentials)


def test_the_default_store(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path), "ANAPLAN_TOKEN_STORE": "file"}
    assert isinstance(default_token_store(environ), FileTokenStore)
    chosen = default_token_store({"ANAPLAN_TOKEN_STORE": str(tmp_path / "mine.json")})
    assert isinstance(chosen, FileTokenStore)
    assert chosen.path == tmp_path / "mine.json"


def test_a_corrupt_token_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="not JSON"):
        FileTokenStore(path).load("k")


def test_the_keyring_store(tmp_path: Path) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1.0  # type: ignore[assignment]
        entries: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.entries.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.entries[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            del self.entries[(service, username)]

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        store = KeyringTokenStore(lock_path=tmp_path / "k.lock")
        lock = store.lock()
        store.save("k", SavedTokens("r1", "a1", 10.0, 1.0, "openid"))
        lock.release()
        assert store.load("k") == SavedTokens("r1", "a1", 10.0, 1.0, "openid")
        assert json.loads(Memory.entries[("anaplan-tasks", "k")])["refresh_token"] == "r1"
        assert store.delete("k") is True
        assert store.load("k") is None
        assert isinstance(default_token_store({}), KeyringTokenStore)
    finally:
        keyring.set_keyring(previous)


def test_a_lock_waits_for_its_holder(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    held = store.lock()
    got: list[float] = []

    def take() -> None:
        lock = store.lock()
        got.append(time.monotonic())
        lock.release()

    waiter = threading.Thread(target=take)
    waiter.start()
    waiter.join(0.3)
    assert got == []  # still waiting
    released = time.monotonic()
    held.release()
    waiter.join(10)
    assert got
    assert got[0] >= released


# -- lifecycle events mid-flow -----------------------------------------------------------------


def test_an_emulator_reset_during_the_device_flow_ends_it_cleanly(
    emulator: Emulator, store_path: Path
) -> None:
    with fast_device_polls(emulator.running.app), pytest.raises(OAuthError) as forgotten:
        device_login(
            client_id=DEMO_DEVICE_CLIENT_ID,
            store=str(store_path),
            on_code=lambda code: emulator.running.control.reset(),  # before anyone approves
            base_url=emulator.base_url,
            env={},
        )
    assert forgotten.value.error == "invalid_grant"
    assert not store_path.exists()


async def test_a_task_cancelled_while_waiting_for_the_store_leaves_it_unlocked(
    emulator: Emulator, store_path: Path
) -> None:
    credentials = sign_in_device(emulator, store_path)
    emulator.running.control.tokens.expire_all()
    settings: dict[str, Any] = {
        "credentials": credentials,
        "base_url": emulator.base_url,
        "workspace_id": emulator.workspace_id,
        "model_id": emulator.model_id,
        "env": {},
    }
    held = FileTokenStore(store_path).lock()  # another program is refreshing
    async with AsyncClient(**settings) as client:
        waiting = asyncio.create_task(client.files.list())
        await asyncio.sleep(0.2)
        assert not waiting.done()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    held.release()
    async with AsyncClient(**settings) as client:
        assert await asyncio.wait_for(client.files.list(), 30) is not None
    assert token_requests(emulator) == 2
