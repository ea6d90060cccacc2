"""Anaplan's OAuth 2.0 authorization server, as behaviour: codes, grants and refresh tokens.

No HTTP here (the routes are `emulator/api/oauth.py`); the clients come from the definitions
(`oauth_clients`, looked up through the engine) and time from an injected clock. State lives in
memory, like the emulator's access tokens: after a restart people sign in again.

- **Device grant** (RFC 8628): `start_device` hands out a device code and a user code; a person
  approves or denies the user code (`decide_device`); `poll_device` answers
  `authorization_pending` until then, `slow_down` (and 5 more seconds of interval) when polled
  faster than the interval, `expired_token` after `device_code_lifetime`, `access_denied` when
  denied, `invalid_grant` for an unknown or already used code.
- **Authorization-code grant**: `check_authorize` validates the client and its exact
  `redirect_uri`; `issue_code` makes a one-use code (`code_lifetime`); `exchange_code` needs the
  same client, secret and `redirect_uri`.
- **Refresh**: a rotating client's refresh token is single use (the next one replaces it); a
  non-rotating client's is reused. Rotating tokens live 43,000 s unless the client says otherwise;
  non-rotating ones forever.

Granted scopes drop `profile` (as Anaplan does); a refresh token is issued only with
`offline_access`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..definitions import OAuthClientDef
from .contract import Principal

DEFAULT_SCOPE = "openid email offline_access"
"""Granted when a request names no scope."""

ROTATING_REFRESH_LIFETIME = 43_000.0
"""Seconds a rotating refresh token lives unless its client says otherwise."""

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

_USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels (no words), no look-alike digits


class OAuthFailure(Exception):
    """An OAuth error: the RFC 6749 `error` code, a description and the HTTP status."""

    def __init__(self, error: str, description: str, status_code: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code


@dataclass(frozen=True)
class Grant:
    """What a successful token request grants: who, which scopes, and the refresh token."""

    client_id: str
    principal: Principal
    scope: str
    refresh_token: str | None


@dataclass
class DeviceAuthorization:
    """One device-code request and its fate."""

    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    interval: float
    state: str = "pending"  # pending, approved, denied, used
    principal: Principal | None = None
    last_poll: float | None = None


@dataclass
class AuthorizationRequest:
    """A browser's `/auth/authorize` request waiting for the person to sign in."""

    request_id: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    expires_at: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    principal: Principal
    expires_at: float


@dataclass
class _RefreshToken:
    client_id: str
    scope: str
    principal: Principal
    expires_at: float | None
    rotating: bool


@dataclass
class OAuthService:
    """The authorization server's state. Thread-safe.

    Args:
        clients: Looks a client up by id (the engine's `oauth_client`).
        clock: Epoch seconds.
    """

    clients: Callable[[str], OAuthClientDef | None]
    clock: Callable[[], float] = time.time
    device_interval: float = 5.0
    """Seconds between device-code polls (`interval`)."""
    device_code_lifetime: float = 900.0
    """Seconds a device code lives (`expires_in`)."""
    code_lifetime: float = 60.0
    """Seconds an authorization code lives."""
    request_lifetime: float = 600.0
    """Seconds an authorization request waits for the person."""
    _devices: dict[str, DeviceAuthorization] = field(default_factory=dict)
    _user_codes: dict[str, str] = field(default_factory=dict)
    _requests: dict[str, AuthorizationRequest] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _refresh: dict[str, _RefreshToken] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Forget every code, request and refresh token."""
        with self._lock:
            self._devices.clear()
            self._user_codes.clear()
            self._requests.clear()
            self._codes.clear()
            self._refresh.clear()

    # -- clients -------------------------------------------------------------------------------
    def client(self, client_id: str, grant: str, secret: str | None = None) -> OAuthClientDef:
        """The client, checked for this grant (and secret, for authorization-code clients)."""
        client = self.clients(client_id) if client_id else None
        if client is None:
            raise OAuthFailure("unauthorized_client", "Unknown client_id.", 401)
        if client.grant != grant:
            raise OAuthFailure(
                "unauthorized_client", f"This client is registered for the {client.grant} grant."
            )
        if secret is not None and not secrets.compare_digest(
            secret.encode(), (client.client_secret or "").encode()
        ):
            raise OAuthFailure("unauthorized_client", "Wrong client_secret.", 401)
        return client

    # -- device grant ----------------------------------------------------------------------------
    def start_device(self, client_id: str, scope: str | None) -> DeviceAuthorization:
        """A new device code for this device client."""
        self.client(client_id, "device_code")
        now = self.clock()
        with self._lock:
            self._forget_expired(now)
            user_code = self._new_user_code()
            device = DeviceAuthorization(
                device_code=secrets.token_urlsafe(32),
                user_code=user_code,
                client_id=client_id,
                scope=granted_scope(scope),
                expires_at=now + self.device_code_lifetime,
                interval=self.device_interval,
            )
            self._devices[device.device_code] = device
            self._user_codes[user_code] = device.device_code
        return device

    def _new_user_code(self) -> str:
        while True:
            letters = "".join(secrets.choice(_USER_CODE_LETTERS) for _ in range(8))
            code = f"{letters[:4]}-{letters[4:]}"
            if code not in self._user_codes:
                return code

    def pending_device(self, user_code: str) -> DeviceAuthorization | None:
        """The live, undecided device request with this user code (case and dash ignored)."""
        wanted = normalise_user_code(user_code)
        with self._lock:
            device = self._devices.get(self._user_codes.get(wanted, ""))
            if device is None or device.state != "pending" or device.expires_at <= self.clock():
                return None
            return device

    def decide_device(self, user_code: str, principal: Principal, approve: bool) -> bool:
        """Approve or deny a pending device request; False when there is none."""
        wanted = normalise_user_code(user_code)
        with self._lock:
            device = self._devices.get(self._user_codes.get(wanted, ""))
            if device is None or device.state != "pending" or device.expires_at <= self.clock():
                return False
            device.state = "approved" if approve else "denied"
            device.principal = principal
            return True

    def poll_device(self, client_id: str, device_code: str) -> Grant:
        """Exchange an approved device code, once."""
        self.client(client_id, "device_code")
        now = self.clock()
        with self._lock:
            device = self._devices.get(device_code)
            if device is None or device.client_id != client_id or device.state == "used":
                raise OAuthFailure("invalid_grant", "Unknown or already used device_code.")
            if device.expires_at <= now:
                raise OAuthFailure("expired_token", "The device_code has expired.")
            if device.state == "denied":
                device.state = "used"
                raise OAuthFailure("access_denied", "The user denied the request.")
            too_soon = device.last_poll is not None and now - device.last_poll < device.interval
            device.last_poll = now
            if device.state == "pending":
                if too_soon:
                    device.interval += 5.0
                    raise OAuthFailure("slow_down", "Polling too fast: wait 5 seconds more.")
                raise OAuthFailure("authorization_pending", "User has yet to authorize.")
            device.state = "used"
            principal = device.principal
            assert principal is not None
            return self._grant_locked(client_id, principal, device.scope, now)

    # -- authorization-code grant ----------------------------------------------------------------
    def check_authorize(
        self, client_id: str, redirect_uri: str, response_type: str, scope: str | None, state: str
    ) -> AuthorizationRequest:
        """Validate an `/auth/authorize` request and remember it for the sign-in page."""
        if response_type != "code":
            raise OAuthFailure("invalid_request", "response_type must be 'code'.")
        client = self.client(client_id, "authorization_code")
        if redirect_uri not in client.redirect_uris:
            raise OAuthFailure("invalid_request", "redirect_uri is not registered for the client.")
        now = self.clock()
        request = AuthorizationRequest(
            request_id=secrets.token_urlsafe(16),
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=granted_scope(scope),
            state=state or None,
            expires_at=now + self.request_lifetime,
        )
        with self._lock:
            self._forget_expired(now)
            self._requests[request.request_id] = request
        return request

    def authorization_request(self, request_id: str) -> AuthorizationRequest | None:
        """A waiting authorization request, or None (unknown, expired or decided)."""
        with self._lock:
            request = self._requests.get(request_id)
            if request is None or request.expires_at <= self.clock():
                return None
            return request

    def decide_request(self, request_id: str, principal: Principal | None) -> str | None:
        """End an authorization request: a new code when approved (principal given), else None."""
        now = self.clock()
        with self._lock:
            request = self._requests.pop(request_id, None)
            if request is None or request.expires_at <= now:
                raise OAuthFailure("invalid_request", "The sign-in request is unknown or expired.")
            if principal is None:
                return None
            code = secrets.token_urlsafe(32)
            self._codes[code] = _Code(
                request.client_id,
                request.redirect_uri,
                request.scope,
                principal,
                now + self.code_lifetime,
            )
            return code

    def exchange_code(
        self, client_id: str, client_secret: str | None, code: str, redirect_uri: str
    ) -> Grant:
        """Exchange an authorization code, once, with the same client and redirect URI."""
        self.client(client_id, "authorization_code", client_secret or "")
        now = self.clock()
        with self._lock:
            issued = self._codes.pop(code, None)
            if issued is None or issued.expires_at <= now:
                raise OAuthFailure("invalid_grant", "Unknown, used or expired code.")
            if issued.client_id != client_id or issued.redirect_uri != redirect_uri:
                raise OAuthFailure("invalid_grant", "The code was issued to another client or URI.")
            return self._grant_locked(client_id, issued.principal, issued.scope, now)

    # -- refresh ---------------------------------------------------------------------------------
    def refresh(self, client_id: str, client_secret: str | None, refresh_token: str) -> Grant:
        """A new grant for a refresh token (rotating clients: the token is used up)."""
        client = self.clients(client_id) if client_id else None
        if client is None:
            raise OAuthFailure("unauthorized_client", "Unknown client_id.", 401)
        secret = (client_secret or "") if client.grant == "authorization_code" else None
        self.client(client_id, client.grant, secret)
        now = self.clock()
        with self._lock:
            held = self._refresh.get(refresh_token)
            if held is None or held.client_id != client_id:
                raise OAuthFailure("invalid_grant", "Unknown or already used refresh_token.")
            if held.expires_at is not None and held.expires_at <= now:
                del self._refresh[refresh_token]
                raise OAuthFailure("invalid_grant", "The refresh_token has expired.")
            if not held.rotating:
                return Grant(client_id, held.principal, held.scope, refresh_token)
            del self._refresh[refresh_token]
            return self._grant_locked(client_id, held.principal, held.scope, now)

    def revoke_refresh_tokens(self) -> int:
        """Revoke every refresh token (an administrator's reset); how many there were."""
        with self._lock:
            count = len(self._refresh)
            self._refresh.clear()
            return count

    def _grant_locked(self, client_id: str, principal: Principal, scope: str, now: float) -> Grant:
        token = None
        if "offline_access" in scope.split():
            client = self.clients(client_id)
            rotating = client.rotating if client is not None else True
            lifetime = client.refresh_token_lifetime if client is not None else None
            if lifetime is None and rotating:
                lifetime = ROTATING_REFRESH_LIFETIME
            token = secrets.token_urlsafe(32)
            self._refresh[token] = _RefreshToken(
                client_id, scope, principal, None if lifetime is None else now + lifetime, rotating
            )
        return Grant(client_id, principal, scope, token)

    def _forget_expired(self, now: float) -> None:
        for code, device in list(self._devices.items()):
            if device.expires_at + self.device_code_lifetime <= now:
                del self._devices[code]
                self._user_codes.pop(device.user_code, None)
        for request_id, request in list(self._requests.items()):
            if request.expires_at <= now:
                del self._requests[request_id]
        for code, issued in list(self._codes.items()):
            if issued.expires_at <= now:
                del self._codes[code]


def granted_scope(requested: str | None) -> str:
    """The scopes granted for a request: as asked, less `profile` (as Anaplan does)."""
    if not requested or not requested.strip():
        return DEFAULT_SCOPE
    names = [name for name in requested.split() if name != "profile"]
    return " ".join(dict.fromkeys(names)) or DEFAULT_SCOPE


def normalise_user_code(text: str) -> str:
    """A user code as typed (any case, with or without the dash, spaces) in canonical form."""
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else letters
