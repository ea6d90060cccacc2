"""Anaplan's OAuth 2.0 server on the emulator's origin, and the pages where a person approves.

Anaplan serves these from the regional host (`{region}.app.anaplan.com`); the emulator serves
them beside everything else. None takes an `Authorization` header.

- `POST /oauth/device/code` `{client_id, scope?}` → `{device_code, user_code, verification_uri,
  verification_uri_complete, expires_in, interval}`.
- `POST /oauth/token` with `grant_type` `urn:ietf:params:oauth:grant-type:device_code`,
  `authorization_code` or `refresh_token` → `{access_token, refresh_token?, id_token?, scope,
  expires_in, token_type: "Bearer"}`. Bodies are JSON or form-encoded (both work live).
- `GET /auth/authorize?response_type=code&client_id&redirect_uri&scope&state` → 302 to the
  sign-in page; `GET /auth/prelogin` (same query) answers that page directly.
- `GET|POST /auth/login`: sign in and allow or deny; then 302 to
  `redirect_uri?code=…&state=…` (or `?error=access_denied&state=…`).
- `GET|POST /activate[?user_code=…]`: enter a device's user code, sign in, approve or deny.

Errors are RFC 6749 JSON `{"error", "error_description"}`: 400, or 401 for an unknown client
or a wrong secret (`unauthorized_client`, the code the live-probed spec lists). Access tokens are
ordinary emulator tokens (`TokenStore`): they work on every `/2/0` route with `AnaplanAuthToken`
or `Bearer`, live `token_lifetime` seconds (2,100 as live), and `/token/logout` revokes them.

The forms are protected against cross-site requests: a random cookie (`HttpOnly`,
`SameSite=Strict`) and a hidden field holding its HMAC must both come back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..engine.contract import Engine, Principal
from ..engine.oauth import DEVICE_GRANT, Grant, OAuthFailure, OAuthService
from ..jsontext import load_json
from . import oauth_pages
from .auth import TokenStore
from .wire import read_body

CSRF_COOKIE = "anaplan_emulator_csrf"
MAX_FORM_BODY = 64 * 1024

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


class OAuthSite:
    """What the routes share: the service, and the secret that signs CSRF fields and id tokens."""

    def __init__(self, service: OAuthService):
        self.service = service
        self.secret = secrets.token_bytes(32)

    def csrf_field(self, cookie: str) -> str:
        """The hidden field value that goes with this cookie."""
        return hmac.new(self.secret, cookie.encode(), hashlib.sha256).hexdigest()

    def id_token(self, grant: Grant, issuer: str, now: float, lifetime: float) -> str:
        """A signed (HS256) OpenID id token naming the user."""
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "iss": issuer,
            "sub": grant.principal.user_id,
            "aud": grant.client_id,
            "email": grant.principal.email,
            "iat": int(now),
            "exp": int(now + lifetime),
        }
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(self.secret, signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _site(request: Request) -> OAuthSite:
    site: OAuthSite = request.app.state.oauth_site
    return site


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _oauth_error(failure: OAuthFailure) -> JSONResponse:
    return JSONResponse(
        {"error": failure.error, "error_description": failure.description},
        status_code=failure.status_code,
        headers={"Cache-Control": "no-store"},
    )


async def _fields(request: Request) -> dict[str, str]:
    """A JSON object or a form-encoded body as plain strings."""
    body = await read_body(request, MAX_FORM_BODY)
    content_type = request.headers.get("content-type", "")
    if "json" in content_type or body.lstrip().startswith(b"{"):
        try:
            data: Any = load_json(body)
        except (ValueError, UnicodeDecodeError):
            raise OAuthFailure("invalid_request", "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise OAuthFailure("invalid_request", "The body must be a JSON object.")
        return {str(key): str(value) for key, value in data.items() if value is not None}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthFailure("invalid_request", "The body is not UTF-8.") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "")
    if not value:
        raise OAuthFailure("invalid_request", f"Missing '{name}'.")
    return value


# -- the token endpoints --------------------------------------------------------------------------


async def device_code(request: Request) -> Response:
    """Start the device flow."""
    service = _site(request).service
    try:
        fields = await _fields(request)
        device = service.start_device(_required(fields, "client_id"), fields.get("scope"))
    except OAuthFailure as failure:
        return _oauth_error(failure)
    uri = f"{_origin(request)}/activate"
    now = service.clock()
    return JSONResponse(
        {
            "device_code": device.device_code,
            "user_code": device.user_code,
            "verification_uri": uri,
            "verification_uri_complete": f"{uri}?{urlencode({'user_code': device.user_code})}",
            "expires_in": max(int(device.expires_at - now), 0),
            "interval": _seconds(device.interval),
        },
        headers={"Cache-Control": "no-store"},
    )


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


async def token(request: Request) -> Response:
    """Issue tokens for a device code, an authorization code or a refresh token."""
    site = _site(request)
    service = site.service
    try:
        fields = await _fields(request)
        grant_type = _required(fields, "grant_type")
        client_id = _required(fields, "client_id")
        if grant_type == DEVICE_GRANT:
            grant = service.poll_device(client_id, _required(fields, "device_code"))
        elif grant_type == "authorization_code":
            grant = service.exchange_code(
                client_id,
                fields.get("client_secret"),
                _required(fields, "code"),
                _required(fields, "redirect_uri"),
            )
        elif grant_type == "refresh_token":
            grant = service.refresh(
                client_id, fields.get("client_secret"), _required(fields, "refresh_token")
            )
        else:
            raise OAuthFailure("unsupported_grant_type", f"Unknown grant_type '{grant_type}'.")
    except OAuthFailure as failure:
        return _oauth_error(failure)
    tokens: TokenStore = request.app.state.tokens
    issued = tokens.issue(grant.principal)
    now = tokens.now()
    body: dict[str, Any] = {
        "access_token": issued.value,
        "scope": grant.scope,
        "expires_in": max(int(issued.expires_at - now), 0),
        "token_type": "Bearer",
    }
    if grant.refresh_token is not None:
        body["refresh_token"] = grant.refresh_token
    if "openid" in grant.scope.split():
        body["id_token"] = site.id_token(grant, _origin(request), now, tokens.lifetime)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# -- pages ------------------------------------------------------------------------------------


def _cookie(request: Request) -> str:
    """This browser's CSRF cookie (a new one when it has none yet)."""
    cookie = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_cookie", None)
    if not cookie:
        cookie = secrets.token_urlsafe(32)
        request.state.csrf_cookie = cookie
    return cookie


def _html(request: Request, text: str, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(text, status_code=status_code, headers=_PAGE_HEADERS)
    response.set_cookie(CSRF_COOKIE, _cookie(request), httponly=True, samesite="strict", path="/")
    return response


def _page(request: Request, render: Any, status_code: int = 200, **values: Any) -> HTMLResponse:
    text = render(csrf=_site(request).csrf_field(_cookie(request)), **values)
    return _html(request, text, status_code)


def _message(request: Request, title: str, text: str, *, ok: bool, status: int) -> HTMLResponse:
    return _html(request, oauth_pages.message_page(title, text, ok=ok), status)


async def _form(request: Request) -> dict[str, str] | None:
    """The posted form when its CSRF field matches the browser's cookie, else None."""
    try:
        fields = await _fields(request)
    except OAuthFailure:
        return None
    cookie = request.cookies.get(CSRF_COOKIE, "")
    expected = _site(request).csrf_field(cookie) if cookie else ""
    if not cookie or not hmac.compare_digest(expected, fields.get("csrf", "")):
        return None
    return fields


def _forbidden(request: Request) -> HTMLResponse:
    return _message(
        request,
        "Request refused",
        "This form was not sent from this site's page (its security check failed). "
        "Reload the page and try again.",
        ok=False,
        status=403,
    )


async def _sign_in(request: Request, email: str, password: str) -> Principal | None:
    engine: Engine = request.app.state.engine
    if not email or not password:
        return None
    return await anyio.to_thread.run_sync(engine.authenticate_basic, email, password)


async def activate_page(request: Request) -> Response:
    """The device approval page."""
    return _page(
        request, oauth_pages.device_page, user_code=request.query_params.get("user_code", "")
    )


async def activate(request: Request) -> Response:
    """Approve or deny a device's user code."""
    fields = await _form(request)
    if fields is None:
        return _forbidden(request)
    service = _site(request).service
    user_code = fields.get("user_code", "").strip()
    email = fields.get("email", "").strip()
    if service.pending_device(user_code) is None:
        return _page(
            request,
            oauth_pages.device_page,
            400,
            user_code=user_code,
            email=email,
            error="That code is unknown, expired or already used. Check the code your "
            "program shows.",
        )
    approve = fields.get("decision") == "approve"
    principal = await _sign_in(request, email, fields.get("password", ""))
    if principal is None:
        return _page(
            request,
            oauth_pages.device_page,
            401,
            user_code=user_code,
            email=email,
            error="The email or password is wrong.",
        )
    if not service.decide_device(user_code, principal, approve):
        return _message(request, "Code expired", "The code expired.", ok=False, status=400)
    if approve:
        return _message(
            request,
            "Device approved",
            "You are signed in on the device. You can close this window and return to it.",
            ok=True,
            status=200,
        )
    return _message(
        request, "Device denied", "The device was not allowed to sign in.", ok=True, status=200
    )


async def authorize(request: Request) -> Response:
    """Start the authorization-code flow: 302 to the sign-in page."""
    pending = _authorization_request(request)
    if isinstance(pending, Response):
        return pending
    return RedirectResponse(f"/auth/login?{urlencode({'request': pending})}", status_code=302)


async def prelogin(request: Request) -> Response:
    """The same as `/auth/authorize`, but answering the sign-in page itself."""
    pending = _authorization_request(request)
    if isinstance(pending, Response):
        return pending
    return _login_page(request, pending)


def _authorization_request(request: Request) -> str | Response:
    query = request.query_params
    try:
        pending = _site(request).service.check_authorize(
            query.get("client_id", ""),
            query.get("redirect_uri", ""),
            query.get("response_type", ""),
            query.get("scope"),
            query.get("state", ""),
        )
    except OAuthFailure as failure:
        # Never redirect to an unchecked redirect_uri: say what is wrong here.
        return _message(
            request, "Sign-in request refused", failure.description, ok=False, status=400
        )
    return pending.request_id


def _login_page(
    request: Request, request_id: str, *, email: str = "", error: str | None = None
) -> Response:
    service = _site(request).service
    pending = service.authorization_request(request_id)
    if pending is None:
        return _message(
            request,
            "Sign-in request expired",
            "This sign-in request is unknown or has expired. Start again from the application.",
            ok=False,
            status=400,
        )
    client = service.clients(pending.client_id)
    return _page(
        request,
        oauth_pages.authorize_page,
        401 if error else 200,
        request_id=request_id,
        client_name=client.name if client else pending.client_id,
        scope=pending.scope,
        email=email,
        error=error,
    )


async def login_page(request: Request) -> Response:
    """The sign-in page of a waiting authorization request."""
    return _login_page(request, request.query_params.get("request", ""))


async def login(request: Request) -> Response:
    """Sign in and allow, or deny: back to the application's redirect URI."""
    fields = await _form(request)
    if fields is None:
        return _forbidden(request)
    service = _site(request).service
    request_id = fields.get("request", "")
    pending = service.authorization_request(request_id)
    if pending is None:
        return _login_page(request, request_id)
    principal: Principal | None = None
    if fields.get("decision") == "approve":
        email = fields.get("email", "").strip()
        principal = await _sign_in(request, email, fields.get("password", ""))
        if principal is None:
            return _login_page(
                request, request_id, email=email, error="The email or password is wrong."
            )
    try:
        code = service.decide_request(request_id, principal)
    except OAuthFailure:
        return _login_page(request, request_id)
    answer = {"code": code} if code is not None else {"error": "access_denied"}
    if pending.state is not None:
        answer["state"] = pending.state
    return RedirectResponse(_with_query(pending.redirect_uri, answer), status_code=302)


def _with_query(uri: str, values: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(filter(None, [parts.query, urlencode(values)]))
    return urlunsplit(parts._replace(query=query))


def oauth_routes() -> list[Route]:
    """The OAuth server's routes and its pages."""
    return [
        Route("/oauth/device/code", device_code, methods=["POST"], name="oauth_device_code"),
        Route("/oauth/token", token, methods=["POST"], name="oauth_token"),
        Route("/auth/authorize", authorize, methods=["GET"], name="oauth_authorize"),
        Route("/auth/prelogin", prelogin, methods=["GET"], name="oauth_prelogin"),
        Route("/auth/login", login_page, methods=["GET"], name="oauth_login_page"),
        Route("/auth/login", login, methods=["POST"], name="oauth_login"),
        Route("/activate", activate_page, methods=["GET"], name="oauth_activate_page"),
        Route("/activate", activate, methods=["POST"], name="oauth_activate"),
    ]
