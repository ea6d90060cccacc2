"""The emulator's OAuth 2.0 server over loopback: device and authorization-code grants, refresh
with and without rotation, the sign-in pages and their CSRF check."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from anaplan_tasks.emulator.definitions import DefinitionError, parse_definition
from anaplan_tasks.emulator.demo import (
    DEMO_DEVICE_CLIENT_ID,
    DEMO_REDIRECT_URIS,
    DEMO_WEB_CLIENT_ID,
    DEMO_WEB_CLIENT_SECRET,
)

from .conftest import DEMO_EMAIL, DEMO_PASSWORD, Demo, FakeClock, ok

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REDIRECT = DEMO_REDIRECT_URIS[0]
SCOPE = "openid profile email offline_access"


def csrf_of(page: httpx2.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def start_device(http: httpx2.Client, scope: str = SCOPE) -> dict[str, object]:
    answer = http.post(
        "/oauth/device/code", json={"client_id": DEMO_DEVICE_CLIENT_ID, "scope": scope}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def poll(http: httpx2.Client, device_code: object) -> httpx2.Response:
    return http.post(
        "/oauth/token",
        json={
            "grant_type": DEVICE_GRANT,
            "device_code": device_code,
            "client_id": DEMO_DEVICE_CLIENT_ID,
        },
    )


def decide_device(
    http: httpx2.Client, user_code: str, decision: str = "approve", password: str = DEMO_PASSWORD
) -> httpx2.Response:
    page = http.get("/activate", params={"user_code": user_code})
    assert page.status_code == 200
    assert f'value="{user_code}"' in page.text
    return http.post(
        "/activate",
        data={
            "csrf": csrf_of(page),
            "user_code": user_code,
            "email": DEMO_EMAIL,
            "password": password,
            "decision": decision,
        },
    )


def device_tokens(http: httpx2.Client, clock: FakeClock) -> dict[str, str]:
    device = start_device(http)
    assert decide_device(http, str(device["user_code"])).status_code == 200
    clock.advance(5)
    answer = poll(http, device["device_code"])
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


def me(http: httpx2.Client, access_token: str, scheme: str = "Bearer") -> int:
    answer = http.get("/2/0/users/me", headers={"Authorization": f"{scheme} {access_token}"})
    return answer.status_code


def test_device_grant_answers_pending_then_tokens_that_work_on_the_api(
    http: httpx2.Client, clock: FakeClock
) -> None:
    device = start_device(http)
    assert device["verification_uri"] == str(http.base_url).rstrip("/") + "/activate"
    assert device["verification_uri_complete"] == (
        f"{device['verification_uri']}?user_code={device['user_code']}"
    )
    assert device["expires_in"] == 900
    assert device["interval"] == 5
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", str(device["user_code"]))
    pending = poll(http, device["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    approved = decide_device(http, str(device["user_code"]).lower().replace("-", ""))
    assert approved.status_code == 200
    assert 'role="status"' in approved.text
    clock.advance(5)
    answer = poll(http, device["device_code"])
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 2100
    assert tokens["scope"] == "openid email offline_access"  # `profile` dropped, as live
    assert tokens["id_token"].count(".") == 2
    assert me(http, tokens["access_token"]) == 200
    assert me(http, tokens["access_token"], "AnaplanAuthToken") == 200
    again = poll(http, device["device_code"])
    assert again.json()["error"] == "invalid_grant"


def test_polling_faster_than_the_interval_is_told_to_slow_down(
    http: httpx2.Client, clock: FakeClock
) -> None:
    device = start_device(http)
    assert poll(http, device["device_code"]).json()["error"] == "authorization_pending"
    clock.advance(1)
    assert poll(http, device["device_code"]).json()["error"] == "slow_down"
    clock.advance(6)  # the interval is 10 s now
    assert poll(http, device["device_code"]).json()["error"] == "slow_down"
    clock.advance(15)
    assert poll(http, device["device_code"]).json()["error"] == "authorization_pending"


def test_a_device_code_expires(http: httpx2.Client, clock: FakeClock) -> None:
    device = start_device(http)
    clock.advance(901)
    assert poll(http, device["device_code"]).json()["error"] == "expired_token"
    page = decide_device(http, str(device["user_code"]))
    assert page.status_code == 400
    assert 'role="alert"' in page.text


def test_a_denied_device_code_answers_access_denied_once(
    http: httpx2.Client, clock: FakeClock
) -> None:
    device = start_device(http)
    denied = decide_device(http, str(device["user_code"]), "deny")
    assert denied.status_code == 200
    clock.advance(5)
    assert poll(http, device["device_code"]).json()["error"] == "access_denied"
    assert poll(http, device["device_code"]).json()["error"] == "invalid_grant"


def test_a_wrong_password_keeps_the_code_pending(http: httpx2.Client, clock: FakeClock) -> None:
    device = start_device(http)
    wrong = decide_device(http, str(device["user_code"]), password="nope")
    assert wrong.status_code == 401
    assert 'role="alert"' in wrong.text
    assert 'aria-describedby="form-error"' in wrong.text
    clock.advance(5)
    assert poll(http, device["device_code"]).json()["error"] == "authorization_pending"


def test_unknown_clients_and_codes(http: httpx2.Client) -> None:
    unknown = http.post("/oauth/device/code", json={"client_id": "0" * 32})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "unauthorized_client"
    missing = http.post("/oauth/device/code", json={})
    assert missing.json()["error"] == "invalid_request"
    web_client = http.post("/oauth/device/code", json={"client_id": DEMO_WEB_CLIENT_ID})
    assert web_client.json()["error"] == "unauthorized_client"
    assert poll(http, "no-such-code").json()["error"] == "invalid_grant"


def test_rotating_refresh_tokens_are_single_use(http: httpx2.Client, clock: FakeClock) -> None:
    tokens = device_tokens(http, clock)
    refresh = {
        "grant_type": "refresh_token",
        "client_id": DEMO_DEVICE_CLIENT_ID,
        "refresh_token": tokens["refresh_token"],
    }
    renewed = http.post("/oauth/token", data=refresh)  # form-encoded, as oauthlib sends it
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refresh_token"] != tokens["refresh_token"]
    assert me(http, renewed.json()["access_token"]) == 200
    reused = http.post("/oauth/token", json=refresh)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_oauth_access_tokens_expire_and_can_be_revoked(
    http: httpx2.Client, clock: FakeClock
) -> None:
    first = device_tokens(http, clock)
    second = device_tokens(http, clock)
    logout = http.post(
        "/token/logout", headers={"Authorization": f"AnaplanAuthToken {first['access_token']}"}
    )
    assert logout.status_code == 204
    assert me(http, first["access_token"]) == 401
    assert me(http, second["access_token"]) == 200
    clock.advance(2101)
    assert me(http, second["access_token"]) == 401


def authorize(http: httpx2.Client, redirect_uri: str = REDIRECT) -> httpx2.Response:
    return http.get(
        "/auth/authorize",
        params={
            "response_type": "code",
            "client_id": DEMO_WEB_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": "xyz-1",
        },
    )


def sign_in_and_allow(http: httpx2.Client, decision: str = "approve") -> dict[str, list[str]]:
    started = authorize(http)
    assert started.status_code == 302
    page = http.get(started.headers["location"])
    assert page.status_code == 200
    assert "Demo Web" in page.text
    request_id = re.search(r'name="request" value="([^"]+)"', page.text)
    assert request_id
    answer = http.post(
        "/auth/login",
        data={
            "csrf": csrf_of(page),
            "request": request_id.group(1),
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "decision": decision,
        },
    )
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def exchange(http: httpx2.Client, code: str, **changes: str) -> httpx2.Response:
    fields = {
        "grant_type": "authorization_code",
        "client_id": DEMO_WEB_CLIENT_ID,
        "client_secret": DEMO_WEB_CLIENT_SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
        **changes,
    }
    return http.post("/oauth/token", data=fields)


def test_authorization_code_grant(http: httpx2.Client) -> None:
    query = sign_in_and_allow(http)
    assert query["state"] == ["xyz-1"]
    answer = exchange(http, query["code"][0])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert me(http, tokens["access_token"]) == 200
    assert exchange(http, query["code"][0]).json()["error"] == "invalid_grant"  # one use
    refresh = {
        "grant_type": "refresh_token",
        "client_id": DEMO_WEB_CLIENT_ID,
        "client_secret": DEMO_WEB_CLIENT_SECRET,
        "refresh_token": tokens["refresh_token"],
    }
    for _ in range(2):  # a non-rotating client keeps its refresh token
        renewed = http.post("/oauth/token", json=refresh)
        assert renewed.status_code == 200
        assert renewed.json()["refresh_token"] == tokens["refresh_token"]
    wrong_secret = http.post("/oauth/token", json={**refresh, "client_secret": "nope"})
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "unauthorized_client"


def test_a_code_needs_its_redirect_uri_and_secret(http: httpx2.Client) -> None:
    code = sign_in_and_allow(http)["code"][0]
    assert exchange(http, code, redirect_uri=DEMO_REDIRECT_URIS[1]).status_code == 400
    code = sign_in_and_allow(http)["code"][0]
    assert exchange(http, code, client_secret="nope").status_code == 401


def test_denying_redirects_with_access_denied(http: httpx2.Client) -> None:
    assert sign_in_and_allow(http, "deny") == {"error": ["access_denied"], "state": ["xyz-1"]}


def test_an_unregistered_redirect_uri_is_refused_without_redirecting(http: httpx2.Client) -> None:
    answer = authorize(http, "https://attacker.example/callback")
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "redirect_uri" in answer.text


def test_prelogin_answers_the_sign_in_page(http: httpx2.Client) -> None:
    page = http.get(
        "/auth/prelogin",
        params={"response_type": "code", "client_id": DEMO_WEB_CLIENT_ID, "redirect_uri": REDIRECT},
    )
    assert page.status_code == 200
    assert "<main>" in page.text
    assert 'for="email"' in page.text


@pytest.mark.parametrize("forged", ["no-cookie", "other-cookie", "no-field"])
def test_forms_refuse_cross_site_posts(http: httpx2.Client, emulator: object, forged: str) -> None:
    device = start_device(http)
    page = http.get("/activate")
    field = csrf_of(page)
    fields = {
        "user_code": str(device["user_code"]),
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD,
        "decision": "approve",
    }
    with httpx2.Client(base_url=http.base_url) as other:
        if forged == "no-cookie":
            answer = other.post("/activate", data={**fields, "csrf": field})
        elif forged == "other-cookie":
            other.get("/activate")  # a cookie of its own, whose field differs
            answer = other.post("/activate", data={**fields, "csrf": field})
        else:
            answer = http.post("/activate", data=fields)
    assert answer.status_code == 403
    assert poll(http, device["device_code"]).json()["error"] == "authorization_pending"


def test_pages_set_a_strict_http_only_cookie_and_no_framing(http: httpx2.Client) -> None:
    page = http.get("/activate")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script" not in page.text


def test_without_offline_access_there_is_no_refresh_token(
    http: httpx2.Client, clock: FakeClock
) -> None:
    device = start_device(http, scope="openid email")
    decide_device(http, str(device["user_code"]))
    clock.advance(5)
    tokens = poll(http, device["device_code"]).json()
    assert "refresh_token" not in tokens
    assert me(http, tokens["access_token"]) == 200


def test_definitions_check_oauth_clients() -> None:
    with pytest.raises(DefinitionError, match="client_secret"):
        parse_definition(
            '[[oauth_clients]]\nname = "x"\nclient_id = "' + "a" * 32 + '"\n'
            'grant = "authorization_code"\nredirect_uris = ["http://127.0.0.1/cb"]\n'
        )
    with pytest.raises(DefinitionError, match="no client_secret"):
        parse_definition(
            '[[oauth_clients]]\nname = "x"\nclient_id = "' + "a" * 32 + '"\n'
            'grant = "device_code"\nclient_secret = "s"\n'
        )
    with pytest.raises(DefinitionError, match="duplicate client"):
        parse_definition(
            "".join(
                f'[[oauth_clients]]\nname = "x{n}"\nclient_id = "{"b" * 32}"\n'
                'grant = "device_code"\n'
                for n in range(2)
            )
        )
    with pytest.raises(DefinitionError, match="client_id"):
        parse_definition(
            '[[oauth_clients]]\nname = "x"\nclient_id = "XYZ"\ngrant = "device_code"\n'
        )


def test_oauth_tokens_work_on_every_api_route_and_revoked_ones_on_none(
    http: httpx2.Client, clock: FakeClock
) -> None:
    tokens = device_tokens(http, clock)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    workspaces = ok(http.get("/2/0/workspaces", headers=bearer))["workspaces"]
    models = ok(http.get(f"/2/0/workspaces/{workspaces[0]['id']}/models", headers=bearer))
    model_id = next(m["id"] for m in models["models"] if m["name"] == "FP&A Dev")
    demo = Demo(workspaces[0]["id"], model_id, model_id, file_id="0")
    known = {"workspaceId": demo.workspace_id, "modelId": demo.model_id}
    document = ok(http.get("/_emulator/openapi.json"))
    routes = [
        re.sub(r"{([^}]+)}", lambda m: known.get(m.group(1), "1"), template)
        for template, item in document["paths"].items()
        if template.startswith("/2/0/") and "get" in item
    ]
    assert len(routes) > 20
    for path in routes:
        assert http.get(path, headers=bearer).status_code != 401, path
    http.post(
        "/token/logout", headers={"Authorization": f"AnaplanAuthToken {tokens['access_token']}"}
    )
    for path in routes:
        refused = http.get(path, headers=bearer)
        if path.startswith(("/2/0/integrations", "/2/0/integrationflows")):
            # CloudWorks refuses a bad token with its own 403 (reference §11.4).
            assert refused.status_code == 403, path
            assert refused.json()["status"]["message"] == "Not Authorized", path
        else:
            assert refused.status_code == 401, path


def test_deeply_nested_json_is_a_400_not_a_crash(http: httpx2.Client) -> None:
    for path in ("/oauth/token", "/oauth/device/code"):
        answer = http.post(
            path, content=b"{" + b'"a":[' * 5000, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_request"
