"""Anaplan's authentication service on the emulator's origin: `/token/*` and API token checks.

- `POST /token/authenticate` with `Authorization: Basic base64(email:password)`, or with
  `Authorization: CACertificate base64(PEM)` and a JSON body `{"encodedData", "encodedSignedData"
  [, "encodedDataFormat": "v2"]}`: the signature is SHA512withRSA (PKCS#1 v1.5) over the decoded
  `encodedData`, checked against the certificate's key; the engine says whose certificate it is.
  In format v2 the data starts with an 8-byte big-endian timestamp (epoch milliseconds; epoch
  seconds are accepted too): a timestamp more than five minutes away from now is refused, and so
  is a v2 payload seen before (replay).
- `POST /token/refresh`, `GET /token/validate`, `POST /token/logout` take
  `Authorization: AnaplanAuthToken <tokenValue>` only (`Bearer` is a bad header there, as live).
- Answers: 201 / 200 / 200 / 204; errors `{"status": "FAILURE_BAD_CREDENTIAL" |
  "FAILURE_BAD_HEADER", "statusMessage": …}` with 401, except a bad header on refresh and
  validate, which is a 400.

On the API (`/2/0/…`) both `AnaplanAuthToken` and `Bearer` are accepted; anything else is a 401.
Tokens live in memory only: after a restart clients authenticate again, as they do on any 401.
Tokens and passwords are never logged.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import anyio.to_thread
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..engine.contract import Engine, Principal
from ..jsontext import load_json
from .wire import error_response, read_body

DEFAULT_TOKEN_LIFETIME = 35 * 60.0
"""Seconds a token lives after it is issued or refreshed, like Anaplan's."""

MIN_RANDOM_BYTES = 100
"""Anaplan asks certificate logins to sign at least 100 random bytes."""

TIMESTAMP_TOLERANCE = 300.0
"""Seconds a v2 certificate login's timestamp may differ from the server's clock."""

API_PREFIX = "/2/0"
CLOUDWORKS_PREFIX = "/cloudworks"
"""CloudWorks' second base (`https://api.anaplan.com/cloudworks/2/0`); it needs a token too."""

Clock = Callable[[], float]


@dataclass(frozen=True)
class IssuedToken:
    """A token handed out by `/token/authenticate`."""

    value: str
    token_id: str
    refresh_token_id: str
    principal: Principal
    expires_at: float  # epoch seconds

    @property
    def expires_at_ms(self) -> int:
        """`expiresAt` on the wire: epoch milliseconds."""
        return int(self.expires_at * 1000)


class TokenStore:
    """The tokens currently valid, with their owner and expiry. Thread-safe."""

    def __init__(self, lifetime: float = DEFAULT_TOKEN_LIFETIME, clock: Clock = time.time):
        self._lifetime = lifetime
        self._clock = clock
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    @property
    def lifetime(self) -> float:
        """Seconds a new or refreshed token lives."""
        return self._lifetime

    @lifetime.setter
    def lifetime(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("token lifetime must be positive")
        self._lifetime = seconds

    def now(self) -> float:
        """The store's clock, in epoch seconds."""
        return self._clock()

    def issue(self, principal: Principal) -> IssuedToken:
        """A new token for this caller."""
        token = IssuedToken(
            value=f"{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}",
            token_id=str(uuid.uuid4()),
            refresh_token_id=str(uuid.uuid4()),
            principal=principal,
            expires_at=self._clock() + self._lifetime,
        )
        with self._lock:
            self._forget_expired()
            self._tokens[token.value] = token
        return token

    def lookup(self, value: str) -> IssuedToken | None:
        """The live token with this value, or None (unknown, expired or logged out)."""
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                return None
            if token.expires_at <= self._clock():
                del self._tokens[value]
                return None
            return token

    def refresh(self, value: str) -> IssuedToken | None:
        """Extend a live token; the value and `tokenId` stay, the refresh token id changes."""
        with self._lock:
            token = self._tokens.get(value)
            if token is None or token.expires_at <= self._clock():
                return None
            renewed = replace(
                token,
                refresh_token_id=str(uuid.uuid4()),
                expires_at=self._clock() + self._lifetime,
            )
            self._tokens[value] = renewed
            return renewed

    def revoke(self, value: str) -> bool:
        """Log a token out; False when it was not live."""
        with self._lock:
            token = self._tokens.pop(value, None)
            return token is not None and token.expires_at > self._clock()

    def expire_all(self) -> None:
        """Make every token invalid now (tests of re-authentication)."""
        with self._lock:
            self._tokens.clear()

    def _forget_expired(self) -> None:
        now = self._clock()
        for value in [v for v, t in self._tokens.items() if t.expires_at <= now]:
            del self._tokens[value]


class AuthFailure(Exception):
    """An authentication-service error: its status, Anaplan's code and a message."""

    def __init__(self, status_code: int, code: str, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def _bad_header(status_code: int = 401) -> AuthFailure:
    return AuthFailure(status_code, "FAILURE_BAD_HEADER", "Invalid header. Verify the header.")


def _bad_credential(message: str = "Invalid credentials.") -> AuthFailure:
    return AuthFailure(401, "FAILURE_BAD_CREDENTIAL", message)


class ReplayGuard:
    """Remembers v2 certificate payloads inside the timestamp window, to refuse replays."""

    def __init__(self) -> None:
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def first_use(self, payload: bytes, now: float) -> bool:
        """True the first time a payload is seen (within the window)."""
        with self._lock:
            for key in [k for k, seen_at in self._seen.items() if now - seen_at > 2 * 300.0]:
                del self._seen[key]
            if payload in self._seen:
                return False
            self._seen[payload] = now
            return True


def parse_basic(header_value: str) -> tuple[str, str]:
    """The email and password of a `Basic` credential (after the scheme)."""
    try:
        decoded = base64.b64decode(header_value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _bad_header() from None
    email, colon, password = decoded.partition(":")
    if not colon or not email:
        raise _bad_header()
    return email, password


def verify_certificate_login(
    header_value: str, body: bytes, now: float, guard: ReplayGuard
) -> bytes:
    """Check a certificate login; returns the certificate's PEM bytes for the engine to look up.

    Args:
        header_value: what follows `CACertificate ` in the header: base64 of the PEM file.
        body: the JSON request body.
        now: the server's clock, epoch seconds.
        guard: remembers v2 payloads already used.

    Raises:
        AuthFailure: a bad header (401 FAILURE_BAD_HEADER) or a bad, stale, replayed or
            wrongly signed login (401 FAILURE_BAD_CREDENTIAL).
    """
    try:
        pem = base64.b64decode(header_value.strip(), validate=True)
        certificate = x509.load_pem_x509_certificate(pem)
    except (binascii.Error, ValueError):
        raise _bad_header() from None
    try:
        fields: Any = load_json(body)
    except (ValueError, UnicodeDecodeError):
        raise _bad_credential("The request body must be JSON with encodedData.") from None
    if not isinstance(fields, dict):
        raise _bad_credential("The request body must be JSON with encodedData.")
    data = _base64_field(fields, "encodedData")
    signature = _base64_field(fields, "encodedSignedData")
    data_format = fields.get("encodedDataFormat", "v1")
    if data_format not in ("v1", "v2"):
        raise _bad_credential(f"Unknown encodedDataFormat '{data_format}'.")
    random_part = data
    if data_format == "v2":
        if len(data) < 8:
            raise _bad_credential("encodedData in format v2 must start with an 8-byte timestamp.")
        stamp = int.from_bytes(data[:8], "big")
        # Epoch milliseconds; a value too small for milliseconds is read as seconds.
        stamp_seconds = stamp / 1000.0 if stamp > 100_000_000_000 else float(stamp)
        if abs(now - stamp_seconds) > TIMESTAMP_TOLERANCE:
            raise _bad_credential("The timestamp in encodedData is stale.")
        random_part = data[8:]
    if len(random_part) < MIN_RANDOM_BYTES:
        raise _bad_credential(f"encodedData must hold at least {MIN_RANDOM_BYTES} random bytes.")
    if now > certificate.not_valid_after_utc.timestamp():
        raise _bad_credential("The certificate has expired.")
    if now < certificate.not_valid_before_utc.timestamp():
        raise _bad_credential("The certificate is not valid yet.")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _bad_credential("The certificate's key must be an RSA key.")
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA512())
    except InvalidSignature:
        raise _bad_credential("The signature does not match the certificate.") from None
    if data_format == "v2" and not guard.first_use(data, now):
        raise _bad_credential("This encodedData was already used.")
    return pem


def _base64_field(fields: dict[str, Any], name: str) -> bytes:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise _bad_credential(f"Missing '{name}'.")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise _bad_credential(f"'{name}' is not valid base64.") from None


def _split_authorization(request_or_header: str | None) -> tuple[str, str]:
    if not request_or_header:
        return "", ""
    scheme, _, credential = request_or_header.strip().partition(" ")
    return scheme.lower(), credential.strip()


# -- the /token/* routes --------------------------------------------------------------------------


def _auth_failure_response(failure: AuthFailure) -> JSONResponse:
    return JSONResponse(
        {"status": failure.code, "statusMessage": failure.message},
        status_code=failure.status_code,
    )


def _token_body(request: Request, token: IssuedToken, message: str) -> dict[str, Any]:
    return {
        "meta": {"validationUrl": f"{str(request.base_url).rstrip('/')}/token/validate"},
        "status": "SUCCESS",
        "statusMessage": message,
        "tokenInfo": {
            "tokenId": token.token_id,
            "tokenValue": token.value,
            "expiresAt": token.expires_at_ms,
            "refreshTokenId": token.refresh_token_id,
        },
    }


def _tokens(request: Request) -> TokenStore:
    store: TokenStore = request.app.state.tokens
    return store


def _anaplan_token(request: Request, bad_header_status: int) -> IssuedToken:
    scheme, credential = _split_authorization(request.headers.get("authorization"))
    if scheme != "anaplanauthtoken" or not credential:
        raise _bad_header(bad_header_status)
    token = _tokens(request).lookup(credential)
    if token is None:
        raise _bad_credential("The token is invalid or has expired.")
    return token


async def authenticate(request: Request) -> Response:
    """Sign in with Basic or CACertificate credentials; 201 with a new token."""
    engine: Engine = request.app.state.engine
    scheme, credential = _split_authorization(request.headers.get("authorization"))
    try:
        if scheme == "basic":
            email, password = parse_basic(credential)
            principal = await anyio.to_thread.run_sync(engine.authenticate_basic, email, password)
        elif scheme == "cacertificate":
            body = await read_body(request, 64 * 1024)
            guard: ReplayGuard = request.app.state.replay_guard
            pem = verify_certificate_login(credential, body, _tokens(request).now(), guard)
            principal = await anyio.to_thread.run_sync(engine.authenticate_certificate, pem)
        else:
            raise _bad_header()
        if principal is None:
            raise _bad_credential()
    except AuthFailure as failure:
        return _auth_failure_response(failure)
    token = _tokens(request).issue(principal)
    return JSONResponse(_token_body(request, token, "Login successful"), status_code=201)


async def refresh(request: Request) -> Response:
    """Extend a token's life; 200 with the token's new expiry."""
    try:
        token = _anaplan_token(request, bad_header_status=400)
    except AuthFailure as failure:
        return _auth_failure_response(failure)
    renewed = _tokens(request).refresh(token.value)
    if renewed is None:
        return _auth_failure_response(_bad_credential("The token is invalid or has expired."))
    return JSONResponse(_token_body(request, renewed, "Token refreshed"))


async def validate(request: Request) -> Response:
    """Check a token; 200 with its expiry and owner, 401 when it is not live."""
    try:
        token = _anaplan_token(request, bad_header_status=400)
    except AuthFailure as failure:
        return _auth_failure_response(failure)
    body = {
        "meta": {"validationUrl": f"{str(request.base_url).rstrip('/')}/token/validate"},
        "status": "SUCCESS",
        "statusMessage": "Token validated",
        "tokenInfo": {"expiresAt": token.expires_at_ms, "tokenId": token.token_id},
        "userInfo": {
            "userGuid": token.principal.user_id,
            "userId": token.principal.email,
            "customerGuid": token.principal.customer_id,
        },
    }
    return JSONResponse(body)


async def logout(request: Request) -> Response:
    """Revoke a token; 204."""
    try:
        token = _anaplan_token(request, bad_header_status=401)
    except AuthFailure as failure:
        return _auth_failure_response(failure)
    _tokens(request).revoke(token.value)
    return Response(status_code=204)


def token_routes() -> list[Route]:
    """The authentication service's routes."""
    return [
        Route("/token/authenticate", authenticate, methods=["POST"], name="token_authenticate"),
        Route("/token/refresh", refresh, methods=["POST"], name="token_refresh"),
        Route("/token/validate", validate, methods=["GET"], name="token_validate"),
        Route("/token/logout", logout, methods=["POST"], name="token_logout"),
    ]


# -- the API's token check ------------------------------------------------------------------------


class RequireToken:
    """ASGI middleware: every `/2/0/…` request needs a live `AnaplanAuthToken` or `Bearer` token.

    The caller is stored as `request.state.principal`; anything else gets a 401 envelope.
    """

    def __init__(self, app: ASGIApp, tokens: TokenStore):
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the token of API requests, then pass them on."""
        if scope["type"] != "http" or not _is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        scheme, credential = _split_authorization(header)
        token = (
            self.tokens.lookup(credential)
            if scheme in ("anaplanauthtoken", "bearer") and credential
            else None
        )
        if token is None and _is_cloudworks(scope["path"]):
            # CloudWorks refuses a missing or bad token with its 403 (reference §11.4).
            await error_response(403, "Not Authorized", scope["path"])(scope, receive, send)
            return
        if token is None:
            response = error_response(
                401,
                "Unauthorized: send a valid token as 'Authorization: AnaplanAuthToken <token>'.",
                scope["path"],
                headers={"WWW-Authenticate": "AnaplanAuthToken"},
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = token.principal
        await self.app(scope, receive, send)


def _is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith((API_PREFIX + "/", CLOUDWORKS_PREFIX + "/"))


def _is_cloudworks(path: str) -> bool:
    return path.startswith(
        (CLOUDWORKS_PREFIX + "/", API_PREFIX + "/integrations", API_PREFIX + "/integrationflows")
    )


def principal_of(request: Request) -> Principal:
    """The authenticated caller of an API request."""
    principal: Principal = request.state.principal
    return principal
