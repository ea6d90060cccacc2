# Generated from src/anaplan_tasks/client/_async/login.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""OAuth 2.0 sign-in: the device flow and the authorization-code flow, saving to a token store.

Each returns `OAuthCredentials` for `Client(credentials=…)` (or `Client`); the sign-in is
saved in the store, so later programs find it with `oauth_client_id=` alone.
"""

from __future__ import annotations

import contextlib
import secrets
import webbrowser
from collections.abc import Callable
from typing import Any

from ..._core import oauth
from ..._core.oauth import DEFAULT_SCOPE, DeviceCode, OAuthCredentials
from ..._transport import HttpClient, HttpTransport, SyncTransport
from ...errors import OAuthError
from .._backends import SleepFunction, SyncBackend
from .._shared import Hooks, new_session
from ..config import ClientConfig, oauth_credentials
from .driver import Driver, Session

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
"""The local redirect of `browser_login` unless told otherwise (register it with the client)."""


def _config(
    client_id: str | None, client_secret: str | None, store: Any, settings: dict[str, Any]
) -> ClientConfig:
    credentials = oauth_credentials(
        client_id=client_id, client_secret=client_secret, store=store, env=settings.get("env")
    )
    return ClientConfig.resolve(credentials=credentials, **settings)


def _driver(
    config: ClientConfig,
    http_client: HttpClient | None,
    transport: HttpTransport | None,
    sleep: SleepFunction | None,
) -> Driver:
    session = Session(
        new_session(config),
        SyncTransport(
            timeout=config.timeout,
            connect_timeout=config.connect_timeout,
            http_client=http_client,
            transport=transport,
        ),
    )
    return Driver(session, config, Hooks(), sleep or SyncBackend.sleep)


def device_login(
    *,
    client_id: str | None = None,
    scope: str = DEFAULT_SCOPE,
    on_code: Callable[[DeviceCode], None] | None = None,
    store: Any = None,
    http_client: HttpClient | None = None,
    transport: HttpTransport | None = None,
    sleep: SleepFunction | None = None,
    **settings: Any,
) -> OAuthCredentials:
    """Sign in with the device grant: a person approves a code in a browser, anywhere.

    Args:
        client_id: The device-grant OAuth client (`ANAPLAN_OAUTH_CLIENT_ID`).
        scope: Scopes to ask for; keep `offline_access` to get a refresh token.
        on_code: Called with the code once it is issued: show `user_code` and
            `verification_uri` (or `verification_uri_complete`) to the person.
        store: A `TokenStore`, `"file"`, `"keyring"` or a token-file path (default:
            `default_token_store()`).
        http_client: Your own `httpx2` client (you close it).
        transport: Your own `httpx2` transport.
        sleep: How to wait between polls (tests inject a fake).
        **settings: Client settings (`base_url`, `oauth_base_url`, `region`, `timeout`,
            `env`, …) that locate the OAuth server.

    Returns:
        The credentials, whose sign-in is saved in the store.

    Raises:
        OAuthError: The person denied (`access_denied`), the code expired (`expired_token`),
            or the server refused.
    """
    config = _config(client_id, None, store, settings)
    credentials = config.credentials
    assert isinstance(credentials, OAuthCredentials)
    driver = _driver(config, http_client, transport, sleep)
    try:
        device = driver.run(oauth.start_device(driver.ctx, credentials, scope), in_scope=False)
        if on_code is not None:
            on_code(device)
        tokens = driver.run(oauth.poll_device(driver.ctx, credentials, device), in_scope=False)
        driver.run(oauth.save_sign_in(driver.ctx, credentials, tokens), in_scope=False)
    finally:
        driver.session.transport.close()
    return credentials


def browser_login(
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    scope: str = DEFAULT_SCOPE,
    open_browser: Callable[[str], Any] | None = webbrowser.open,
    on_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    store: Any = None,
    http_client: HttpClient | None = None,
    transport: HttpTransport | None = None,
    **settings: Any,
) -> OAuthCredentials:
    """Sign in with the authorization-code grant: this machine's browser, a local redirect.

    Listens on `redirect_uri` (a loopback address registered with the client), sends the
    browser to the OAuth server's sign-in page, checks the `state` that comes back, and
    exchanges the code.

    Args:
        client_id: The authorization-code OAuth client (`ANAPLAN_OAUTH_CLIENT_ID`).
        client_secret: Its secret (`ANAPLAN_OAUTH_CLIENT_SECRET`).
        redirect_uri: `http://127.0.0.1:<port>/<path>`, exactly as registered.
        scope: Scopes to ask for; keep `offline_access` to get a refresh token.
        open_browser: Opens a URL (default `webbrowser.open`; None: only `on_url`).
        on_url: Called with the sign-in URL (to print it, for when no browser opens).
        timeout: Seconds to wait for the browser's answer.
        store: A `TokenStore`, `"file"`, `"keyring"` or a token-file path.
        http_client: Your own `httpx2` client (you close it).
        transport: Your own `httpx2` transport.
        **settings: Client settings that locate the OAuth server (`base_url`, `region`, …).

    Returns:
        The credentials, whose sign-in is saved in the store.

    Raises:
        OAuthError: The person denied (`access_denied`), the answer's `state` did not match,
            no answer came in time, or the code was refused.
    """
    from .._loopback import RedirectReceiver  # http.server: only when a browser signs in

    config = _config(client_id, client_secret, store, settings)
    credentials = config.credentials
    assert isinstance(credentials, OAuthCredentials)
    receiver = RedirectReceiver(redirect_uri)
    state = secrets.token_urlsafe(24)
    url = oauth.authorize_url(credentials, redirect_uri, state, scope)
    try:
        if on_url is not None:
            on_url(url)
        if open_browser is not None:
            # On failure the URL given to on_url is there to open by hand.
            with contextlib.suppress(webbrowser.Error):
                open_browser(url)
        answer = SyncBackend.offload(receiver.wait, timeout)
    finally:
        receiver.close()
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise OAuthError("the sign-in answer's state does not match: not ours", error="bad_state")
    if "error" in answer:
        raise OAuthError(f"sign-in refused: {answer['error']}", error=answer["error"])
    driver = _driver(config, http_client, transport, None)
    try:
        tokens = driver.run(
            oauth.exchange_code(driver.ctx, credentials, answer["code"], redirect_uri),
            in_scope=False,
        )
        driver.run(oauth.save_sign_in(driver.ctx, credentials, tokens), in_scope=False)
    finally:
        driver.session.transport.close()
    return credentials
