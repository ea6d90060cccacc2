"""OAuth 2.0 sign-in: the device and authorization-code grants, and refresh with rotation.

Anaplan's OAuth server is regional (`{region}.app.anaplan.com`, see `OAUTH_HOSTS`), not the
token service's host. Its answers are RFC 6749 JSON; errors are branched on their `error` code,
never their status.

A sign-in is a refresh token (and the access token last issued for it) saved in a `TokenStore`.
Rotating clients get a new refresh token at every refresh and the old one stops working, so:

- the refresh runs with the store locked (`TokenStore.lock`), after re-reading it: another
  thread, task or process sharing the store may have refreshed meanwhile, and then its access
  token is used instead (one refresh for all of them);
- the answer is saved (atomically) before its access token is used;
- a refresh whose answer was lost is sent once more with the same token (enough for
  non-rotating clients); when the server says `invalid_grant`, the sign-in is gone: the error
  says to sign in again, and the store is left as it was.

Flows here do no I/O: store reads and writes are `Offload` effects, requests `Send` effects;
only the store's lock is tried directly (`TokenStore.try_lock` never blocks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol
from urllib.parse import urlencode

from ..errors import ApiError, ConfigurationError, OAuthError, ServerError, TransportError
from .calls import call
from .flow import Context, Flow, Offload, Request, Sleep
from .responses import json_object

logger = logging.getLogger("anaplan_tasks")

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_SCOPE = "openid profile email offline_access"
"""What sign-ins ask for; `offline_access` is what yields a refresh token."""

DEFAULT_OAUTH_BASE_URL = "https://us1a.app.anaplan.com"

OAUTH_HOSTS: dict[str, str] = {
    **dict.fromkeys(
        ("us1", "us2", "us5", "us7", "eu1", "eu2", "eu4", "ap1"), "https://us1a.app.anaplan.com"
    ),
    "us9": "https://us9.app.anaplan.com",
    "eu3": "https://eu3.app.anaplan.com",
    "eu5": "https://eu5.app.anaplan.com",
    "gb1": "https://gb1.app.anaplan.com",
    "au1": "https://au1a.app2.anaplan.com",
    "ca1": "https://ca1a.app.anaplan.com",
    **{code: f"https://{code}.app.anaplan.com" for code in ("sg1", "ae1", "in1", "id1", "me1")},
}
"""The OAuth server of each Anaplan region (from Anaplan's allow-list page)."""

LOGIN_AGAIN = "run `anaplan-tasks login` again"

SLOW_DOWN_STEP = 5.0
"""Seconds added to the polling interval at each `slow_down` (RFC 8628)."""

LOCK_WAIT = 120.0
"""Seconds to wait for another program's refresh (the store's lock) before giving up."""

LOCK_POLL = 0.02
"""Seconds between tries of a locked store."""


def oauth_base_url(
    *, explicit: str | None = None, base_url: str | None = None, region: str | None = None
) -> str:
    """The OAuth server's root: given, else the one root of the emulator, else the region's."""
    if explicit:
        return explicit.rstrip("/")
    if base_url:
        return base_url.rstrip("/")
    if region:
        host = OAUTH_HOSTS.get(region.strip().lower())
        if host is None:
            known = ", ".join(sorted(OAUTH_HOSTS))
            raise ConfigurationError(f"unknown Anaplan region {region!r} (known: {known})")
        return host
    return DEFAULT_OAUTH_BASE_URL


@dataclass(frozen=True)
class SavedTokens:
    """What a token store keeps for one sign-in (times in epoch seconds)."""

    refresh_token: str | None
    access_token: str | None = None
    expires_at: float | None = None
    obtained_at: float | None = None
    scope: str = ""

    def __repr__(self) -> str:
        return f"SavedTokens(access_token='***', refresh_token='***', expires_at={self.expires_at})"

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "refresh_token": self.refresh_token,
            "access_token": self.access_token,
            "expires_at": self.expires_at,
            "obtained_at": self.obtained_at,
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: Any) -> SavedTokens | None:
        """Read the stored form; None when it is not one."""
        if not isinstance(data, Mapping):
            return None
        refresh = data.get("refresh_token")
        access = data.get("access_token")
        if not isinstance(refresh, str | None) or not isinstance(access, str | None):
            return None
        if refresh is None and access is None:
            return None

        def number(name: str) -> float | None:
            value = data.get(name)
            return float(value) if isinstance(value, int | float) else None

        scope = data.get("scope")
        return cls(
            refresh_token=refresh,
            access_token=access,
            expires_at=number("expires_at"),
            obtained_at=number("obtained_at"),
            scope=scope if isinstance(scope, str) else "",
        )


class StoreLock(Protocol):
    """A held token-store lock."""

    def release(self) -> None:
        """Let others in (never blocks)."""


class TokenStore(Protocol):
    """Where sign-ins are kept, one per key. `load`, `save` and `delete` run under its lock.

    `save` must be atomic: a reader sees the old or the new tokens, never a mix, and a crash
    loses nothing already saved.
    """

    def try_lock(self) -> StoreLock | None:
        """Lock the store against other threads and processes, or None when it is locked.

        Never blocks: flows call it directly (not in a worker thread), so a caller cancelled
        while waiting cannot leave a lock behind.
        """
        ...

    def load(self, key: str) -> SavedTokens | None:
        """The sign-in saved under `key`, or None."""
        ...

    def save(self, key: str, tokens: SavedTokens) -> None:
        """Save a sign-in under `key`, replacing the one there."""
        ...

    def delete(self, key: str) -> bool:
        """Forget the sign-in under `key`; False when there was none."""
        ...


@dataclass(frozen=True)
class OAuthCredentials:
    """An OAuth 2.0 sign-in kept in a token store (made by `device_login` or `browser_login`).

    Attributes:
        client_id: The OAuth client's id.
        store: Where the refresh token lives (and is replaced when it rotates).
        client_secret: Authorization-code clients' secret; device clients have none.
        oauth_base_url: The OAuth server's root; None: resolved from the client's settings.
        key: The sign-in's key in the store; None: `{oauth_base_url}#{client_id}`.
    """

    client_id: str
    store: TokenStore
    client_secret: str | None = None
    oauth_base_url: str | None = None
    key: str | None = None

    def __repr__(self) -> str:
        return f"OAuthCredentials(client_id={self.client_id!r}, oauth_base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The OAuth server's root."""
        return self.oauth_base_url or DEFAULT_OAUTH_BASE_URL

    @property
    def store_key(self) -> str:
        """Where in the store this sign-in lives."""
        return self.key or f"{self.base_url}#{self.client_id}"

    def at(self, oauth_base_url: str) -> OAuthCredentials:
        """These credentials at this OAuth server (unless they name one already)."""
        if self.oauth_base_url is not None:
            return self
        return replace(self, oauth_base_url=oauth_base_url.rstrip("/"))


@dataclass(frozen=True)
class DeviceCode:
    """A device-code answer: show `user_code` and `verification_uri` to the person."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float

    def __repr__(self) -> str:
        return f"DeviceCode(user_code={self.user_code!r}, uri={self.verification_uri!r})"


def token_request(credentials: OAuthCredentials, fields: Mapping[str, str]) -> Request:
    """`POST {oauth}/oauth/token` (sent again only when it provably never arrived)."""
    body = dict(fields)
    body["client_id"] = credentials.client_id
    if credentials.client_secret is not None:
        body["client_secret"] = credentials.client_secret
    return Request(
        "POST", f"{credentials.base_url}/oauth/token", json=body, auth=False, retry="start"
    )


def _oauth_error(error: ApiError, message: str | None = None) -> OAuthError | None:
    body = error.body
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), str):
        return None
    code = str(body["error"])
    description = body.get("error_description")
    text = message or (f"{code}: {description}" if isinstance(description, str) else code)
    return OAuthError(
        text,
        error=code,
        status_code=error.status_code,
        body=body,
        method=error.method,
        url=error.url,
    )


def _post(ctx: Context, request: Request) -> Flow[Mapping[str, Any]]:
    try:
        response = yield from call(ctx, request)
    except ApiError as error:
        oauth = _oauth_error(error)
        if oauth is None:
            raise
        raise oauth from error
    return json_object(response)


def parse_tokens(body: Mapping[str, Any], now: float, previous: str | None = None) -> SavedTokens:
    """Read a token answer; a refresh answer without `refresh_token` keeps `previous`."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthError("the token answer carries no access_token", error="invalid_response")
    refresh = body.get("refresh_token")
    expires_in = body.get("expires_in")
    scope = body.get("scope")
    return SavedTokens(
        refresh_token=refresh if isinstance(refresh, str) and refresh else previous,
        access_token=access,
        expires_at=now + float(expires_in) if isinstance(expires_in, int | float) else None,
        obtained_at=now,
        scope=scope if isinstance(scope, str) else "",
    )


# -- the device grant ---------------------------------------------------------------------------


def start_device(
    ctx: Context, credentials: OAuthCredentials, scope: str = DEFAULT_SCOPE
) -> Flow[DeviceCode]:
    """`POST {oauth}/oauth/device/code`: a code for a person to approve."""
    request = Request(
        "POST",
        f"{credentials.base_url}/oauth/device/code",
        json={"client_id": credentials.client_id, "scope": scope},
        auth=False,
    )
    body = yield from _post(ctx, request)
    try:
        interval = body.get("interval", 5)
        return DeviceCode(
            device_code=str(body["device_code"]),
            user_code=str(body["user_code"]),
            verification_uri=str(body["verification_uri"]),
            verification_uri_complete=(
                str(body["verification_uri_complete"])
                if body.get("verification_uri_complete")
                else None
            ),
            expires_in=float(body.get("expires_in", 900)),
            interval=float(interval) if isinstance(interval, int | float) else 5.0,
        )
    except KeyError as missing:
        raise OAuthError(
            f"the device-code answer carries no {missing}", error="invalid_response"
        ) from None


def poll_device(
    ctx: Context, credentials: OAuthCredentials, device: DeviceCode
) -> Flow[SavedTokens]:
    """Poll `/oauth/token` every `interval` until the person approves; the new tokens.

    `authorization_pending` waits, `slow_down` waits 5 seconds longer from then on; every other
    error (`access_denied`, `expired_token`, `invalid_grant`, …) raises `OAuthError`, and so
    does the code's expiry.
    """
    interval = max(device.interval, 0.0)
    deadline = ctx.clock() + device.expires_in
    fields = {"grant_type": DEVICE_GRANT, "device_code": device.device_code}
    while True:
        yield Sleep(interval)
        if ctx.clock() > deadline:
            raise OAuthError(
                "the device code expired before it was approved; start again",
                error="expired_token",
            )
        try:
            body = yield from _post(ctx, token_request(credentials, fields))
        except OAuthError as error:
            if error.error == "authorization_pending":
                continue
            if error.error == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            raise
        return parse_tokens(body, ctx.wall_clock())


# -- the authorization-code grant -------------------------------------------------------------


def authorize_url(
    credentials: OAuthCredentials, redirect_uri: str, state: str, scope: str = DEFAULT_SCOPE
) -> str:
    """Where to send the person's browser (`{oauth}/auth/authorize?…`)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": credentials.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
        }
    )
    return f"{credentials.base_url}/auth/authorize?{query}"


def exchange_code(
    ctx: Context, credentials: OAuthCredentials, code: str, redirect_uri: str
) -> Flow[SavedTokens]:
    """Exchange an authorization code (with the same `redirect_uri`) for tokens."""
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    body = yield from _post(ctx, token_request(credentials, fields))
    return parse_tokens(body, ctx.wall_clock())


# -- refresh ----------------------------------------------------------------------------------


def refresh(ctx: Context, credentials: OAuthCredentials, refresh_token: str) -> Flow[SavedTokens]:
    """Refresh once; a lost answer is asked again once, never more (see the module docstring)."""
    request = token_request(
        credentials, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    lost = False
    while True:
        try:
            body = yield from _post(ctx, request)
        except OAuthError as error:
            if error.error != "invalid_grant":
                raise
            why = (
                "the answer to a token refresh was lost after the server used up the refresh token"
                if lost
                else "the saved refresh token was refused: it expired, was revoked, or another "
                "program used it"
            )
            raise OAuthError(
                f"OAuth sign-in for client {credentials.client_id} is no longer valid ({why}); "
                f"{LOGIN_AGAIN}",
                error=error.error,
                status_code=error.status_code,
                body=error.body,
                method=error.method,
                url=error.url,
            ) from error
        except (TransportError, ServerError) as error:
            sent = not isinstance(error, TransportError) or error.request_sent
            if lost or not sent:
                raise
            logger.info("the answer to a token refresh was lost (%s); asking once more", error)
            lost = True
            continue
        logger.debug("OAuth token refreshed")
        return parse_tokens(body, ctx.wall_clock(), previous=refresh_token)


def hold(ctx: Context, store: TokenStore) -> Flow[StoreLock]:
    """Wait for the store's lock (another program may be refreshing)."""
    deadline = ctx.clock() + LOCK_WAIT
    while True:
        held = store.try_lock()
        if held is not None:
            return held
        if ctx.clock() >= deadline:
            raise ConfigurationError(
                f"the token store {store!r} stayed locked for {LOCK_WAIT:.0f} s "
                "(another program is refreshing, or hangs)"
            )
        yield Sleep(LOCK_POLL)


def obtain(
    ctx: Context,
    credentials: OAuthCredentials,
    usable: Callable[[SavedTokens], bool],
) -> Flow[SavedTokens]:
    """A usable access token from the store: the saved one, or a refreshed one (saved first).

    Runs with the store locked; `usable` says whether a saved access token may be used as it is
    (not refused by the server, not due for refresh).
    """
    store, key = credentials.store, credentials.store_key
    held = yield from hold(ctx, store)
    try:
        saved: SavedTokens | None = yield Offload(partial(store.load, key))
        if saved is None:
            raise OAuthError(
                f"no saved OAuth sign-in for client {credentials.client_id} at "
                f"{credentials.base_url}: run `anaplan-tasks login`",
                error="login_required",
                status_code=401,
            )
        if saved.access_token is not None and usable(saved):
            return saved
        if saved.refresh_token is None:
            raise OAuthError(
                f"the OAuth sign-in for client {credentials.client_id} has expired and has no "
                f"refresh token (sign in with the offline_access scope); {LOGIN_AGAIN}",
                error="login_required",
                status_code=401,
            )
        renewed = yield from refresh(ctx, credentials, saved.refresh_token)
        yield Offload(partial(store.save, key, renewed))
        return renewed
    finally:
        held.release()


def save_sign_in(ctx: Context, credentials: OAuthCredentials, tokens: SavedTokens) -> Flow[None]:
    """Save a new sign-in (from a login flow) under the store's lock."""
    store = credentials.store
    held = yield from hold(ctx, store)
    try:
        yield Offload(partial(store.save, credentials.store_key, tokens))
    finally:
        held.release()
