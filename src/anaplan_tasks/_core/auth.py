"""Credentials and tokens: what to send, when to refresh, and how to get a usable token.

One token is reused for its life (35 minutes on Anaplan) and refreshed before it expires: when
less than `REFRESH_FRACTION` of its life (at most `REFRESH_MARGIN` seconds) is left. A token the
server refused (401) is refreshed once, or replaced by a new sign-in when the refresh fails. The
driver runs `obtain_token` under a lock (single-flight); requests in flight never hold it.
Token values and credentials are never logged.
"""

from __future__ import annotations

import base64
import logging
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import AuthenticationError, BadRequestError, ConfigurationError
from . import endpoints, oauth
from .calls import call
from .flow import Context, Flow, Request
from .responses import json_object

logger = logging.getLogger("anaplan_tasks")

REFRESH_MARGIN = 300.0
"""Refresh at most this many seconds before expiry (5 minutes of a 35-minute token)."""

REFRESH_FRACTION = 0.15
"""…or when less than this fraction of the token's life is left, whichever is smaller."""


@dataclass(frozen=True)
class BasicCredentials:
    """E-mail and password (`Authorization: Basic`)."""

    email: str
    password: str

    def __repr__(self) -> str:
        return f"BasicCredentials(email={self.email!r}, password='***')"


@dataclass(frozen=True)
class CertificateCredentials:
    """A CA certificate and its private key, both PEM."""

    certificate_pem: bytes
    private_key_pem: bytes
    private_key_password: bytes | None = None

    def __repr__(self) -> str:
        return "CertificateCredentials(<certificate>, <private key>)"


@dataclass(frozen=True)
class TokenCredentials:
    """A token obtained elsewhere; it is refreshed but never replaced by a new sign-in."""

    token: str

    def __repr__(self) -> str:
        return "TokenCredentials('***')"


OAuthCredentials = oauth.OAuthCredentials

Credentials = BasicCredentials | CertificateCredentials | TokenCredentials | OAuthCredentials


@dataclass(frozen=True)
class TokenState:
    """A token value and its life in epoch seconds (None when unknown)."""

    value: str
    expires_at: float | None = None
    obtained_at: float | None = None
    signed_in: bool = True

    def __repr__(self) -> str:
        return f"TokenState(value='***', expires_at={self.expires_at})"

    def refresh_due(self, now: float) -> bool:
        """True when the token should be refreshed before use."""
        if self.expires_at is None:
            return False
        life = self.expires_at - (self.obtained_at if self.obtained_at is not None else now)
        margin = min(REFRESH_MARGIN, max(life, 0.0) * REFRESH_FRACTION)
        return now >= self.expires_at - margin


def token_usable(state: TokenState | None, stale: str | None, now: float) -> bool:
    """True when `state` can be used as is (not refused, not due for refresh)."""
    return state is not None and state.value != stale and not state.refresh_due(now)


def basic_request(ctx: Context, credentials: BasicCredentials) -> Request:
    """`POST /token/authenticate` with Basic credentials."""
    raw = f"{credentials.email}:{credentials.password}".encode()
    return Request(
        "POST",
        endpoints.auth_url(ctx, "authenticate"),
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")},
        auth=False,
    )


def certificate_body(
    credentials: CertificateCredentials, now: float, nonce: bytes | None = None
) -> dict[str, str]:
    """The v2 certificate sign-in body: an 8-byte timestamp + random bytes, signed.

    `encodedData` is base64 of (epoch milliseconds as an unsigned big-endian 64-bit integer,
    then 100 random bytes); `encodedSignedData` is base64 of its SHA512withRSA (PKCS#1 v1.5)
    signature. `cryptography` is imported here only, so the base install stays light.
    """
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "certificate authentication needs the 'cryptography' package"
        ) from error
    try:
        key = serialization.load_pem_private_key(
            credentials.private_key_pem, password=credentials.private_key_password
        )
    except (ValueError, TypeError) as error:
        raise ConfigurationError(f"cannot read the private key: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError("certificate authentication needs an RSA private key")
    data = struct.pack(">Q", int(now * 1000)) + (nonce if nonce is not None else os.urandom(100))
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA512())
    return {
        "encodedData": base64.b64encode(data).decode("ascii"),
        "encodedSignedData": base64.b64encode(signature).decode("ascii"),
        "encodedDataFormat": "v2",
    }


def certificate_request(ctx: Context, credentials: CertificateCredentials) -> Request:
    """`POST /token/authenticate` with a CA certificate (v2 signed data)."""
    certificate = base64.b64encode(credentials.certificate_pem).decode("ascii")
    return Request(
        "POST",
        endpoints.auth_url(ctx, "authenticate"),
        headers={"Authorization": f"CACertificate {certificate}"},
        json=certificate_body(credentials, ctx.wall_clock()),
        auth=False,
    )


def refresh_request(ctx: Context, token: str) -> Request:
    """`POST /token/refresh`."""
    return Request(
        "POST",
        endpoints.auth_url(ctx, "refresh"),
        headers={"Authorization": f"AnaplanAuthToken {token}"},
        auth=False,
    )


def logout_request(ctx: Context, token: str) -> Request:
    """`POST /token/logout` (sent once, not retried)."""
    return Request(
        "POST",
        endpoints.auth_url(ctx, "logout"),
        headers={"Authorization": f"AnaplanAuthToken {token}"},
        auth=False,
        retry="never",
    )


def parse_token(body: Mapping[str, Any], now: float, *, signed_in: bool = True) -> TokenState:
    """Read `tokenInfo` from an authenticate or refresh answer (unknown fields ignored)."""
    info = body.get("tokenInfo")
    if not isinstance(info, Mapping) or not isinstance(info.get("tokenValue"), str):
        message = body.get("statusMessage") or "the answer carries no tokenInfo.tokenValue"
        raise AuthenticationError(str(message), status_code=200, body=dict(body))
    expires = info.get("expiresAt")
    expires_at = float(expires) / 1000.0 if isinstance(expires, int | float) else None
    return TokenState(
        value=info["tokenValue"], expires_at=expires_at, obtained_at=now, signed_in=signed_in
    )


def _oauth_state(saved: oauth.SavedTokens) -> TokenState:
    # Not `signed_in`: the access token is shared through the store, so closing one client
    # must not log it out for the others.
    return TokenState(
        value=saved.access_token or "",
        expires_at=saved.expires_at,
        obtained_at=saved.obtained_at,
        signed_in=False,
    )


def _oauth_token(
    ctx: Context, credentials: OAuthCredentials, stale: str | None
) -> Flow[TokenState]:
    def usable(saved: oauth.SavedTokens) -> bool:
        return token_usable(_oauth_state(saved), stale, ctx.wall_clock())

    saved = yield from oauth.obtain(ctx, credentials, usable)
    return _oauth_state(saved)


def sign_in(ctx: Context, credentials: Credentials) -> Flow[TokenState]:
    """Get a new token from the credentials."""
    if isinstance(credentials, OAuthCredentials):
        return (yield from _oauth_token(ctx, credentials, None))
    if isinstance(credentials, TokenCredentials):
        return TokenState(value=credentials.token, signed_in=False)
    if isinstance(credentials, BasicCredentials):
        request = basic_request(ctx, credentials)
    else:
        request = certificate_request(ctx, credentials)
    response = yield from call(ctx, request)
    logger.debug("signed in")
    return parse_token(json_object(response), ctx.wall_clock())


def obtain_token(
    ctx: Context, credentials: Credentials, current: TokenState | None, stale: str | None
) -> Flow[TokenState]:
    """A usable token: the current one, a refreshed one, or a new sign-in.

    Args:
        ctx: The flow context.
        credentials: How to sign in again.
        current: The token held now, if any.
        stale: A token value the server refused; it is never returned.
    """
    now = ctx.wall_clock()
    if current is not None and token_usable(current, stale, now):
        return current
    if isinstance(credentials, OAuthCredentials):
        return (yield from _oauth_token(ctx, credentials, stale))
    if current is None:
        return (yield from sign_in(ctx, credentials))
    expired = current.expires_at is not None and now >= current.expires_at
    if not expired:
        try:
            response = yield from call(ctx, refresh_request(ctx, current.value))
            logger.debug("token refreshed")
            return parse_token(json_object(response), now, signed_in=current.signed_in)
        except (AuthenticationError, BadRequestError):
            if isinstance(credentials, TokenCredentials):
                raise
            logger.info("token refresh refused; signing in again")
    elif isinstance(credentials, TokenCredentials):
        raise AuthenticationError("the given token has expired", status_code=401)
    return (yield from sign_in(ctx, credentials))
