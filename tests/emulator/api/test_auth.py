"""The authentication service (`/token/*`) and the API's token check, over a real socket."""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
from typing import Any

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from anaplan_tasks.emulator.server import RunningEmulator

from .conftest import DEMO_EMAIL, FakeClock, assert_error, basic, login

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CERT_EMAIL = "cert.user@example.com"


def assert_token_body(body: dict[str, Any], message: str) -> None:
    assert body["status"] == "SUCCESS"
    assert body["statusMessage"] == message
    assert body["meta"]["validationUrl"].endswith("/token/validate")
    info = body["tokenInfo"]
    assert UUID.match(info["tokenId"])
    assert UUID.match(info["refreshTokenId"])
    assert isinstance(info["tokenValue"], str)
    assert len(info["tokenValue"]) > 20
    assert isinstance(info["expiresAt"], int)


def test_basic_login_answers_201_with_a_token(http: httpx2.Client, clock: FakeClock) -> None:
    response = http.post("/token/authenticate", headers=basic())
    assert response.status_code == 201
    body = response.json()
    assert_token_body(body, "Login successful")
    assert body["tokenInfo"]["expiresAt"] == int((clock.now + 35 * 60) * 1000)


def test_wrong_password_is_a_bad_credential(http: httpx2.Client) -> None:
    response = http.post("/token/authenticate", headers=basic(password="wrong"))
    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"
    unknown = http.post("/token/authenticate", headers=basic(email="nobody@example.com"))
    assert unknown.status_code == 401
    assert unknown.json()["status"] == "FAILURE_BAD_CREDENTIAL"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Token abc",
        "AnaplanAuthToken abc",
    ],
)
def test_malformed_login_header_is_a_bad_header(http: httpx2.Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = http.post("/token/authenticate", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "FAILURE_BAD_HEADER"
    assert body["statusMessage"]


def test_validate_describes_the_token_and_its_user(http: httpx2.Client) -> None:
    token = login(http)
    response = http.get("/token/validate", headers={"Authorization": f"AnaplanAuthToken {token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "SUCCESS"
    assert body["statusMessage"] == "Token validated"
    assert UUID.match(body["tokenInfo"]["tokenId"])
    assert body["userInfo"]["userId"] == DEMO_EMAIL
    assert re.fullmatch(r"[0-9a-f]{32}", body["userInfo"]["userGuid"])
    assert re.fullmatch(r"[0-9a-f]{32}", body["userInfo"]["customerGuid"])


def test_token_endpoints_refuse_bearer_and_bad_headers(http: httpx2.Client) -> None:
    token = login(http)
    bearer = {"Authorization": f"Bearer {token}"}
    for method, path, status in (
        ("GET", "/token/validate", 400),
        ("POST", "/token/refresh", 400),
        ("POST", "/token/logout", 401),
    ):
        response = http.request(method, path, headers=bearer)
        assert response.status_code == status, path
        assert response.json()["status"] == "FAILURE_BAD_HEADER"
    unknown = http.get("/token/validate", headers={"Authorization": "AnaplanAuthToken nope"})
    assert unknown.status_code == 401
    assert unknown.json()["status"] == "FAILURE_BAD_CREDENTIAL"


def test_refresh_extends_the_same_token(http: httpx2.Client, clock: FakeClock) -> None:
    first = http.post("/token/authenticate", headers=basic()).json()["tokenInfo"]
    clock.advance(600)
    response = http.post(
        "/token/refresh", headers={"Authorization": f"AnaplanAuthToken {first['tokenValue']}"}
    )
    assert response.status_code == 200
    body = response.json()
    assert_token_body(body, "Token refreshed")
    renewed = body["tokenInfo"]
    assert renewed["tokenId"] == first["tokenId"]
    assert renewed["expiresAt"] == first["expiresAt"] + 600_000
    # The refreshed token outlives the original expiry.
    clock.advance(35 * 60 - 1)
    assert (
        http.get(
            "/2/0/users/me", headers={"Authorization": f"AnaplanAuthToken {renewed['tokenValue']}"}
        ).status_code
        == 200
    )


def test_logout_revokes_the_token(http: httpx2.Client) -> None:
    auth = {"Authorization": f"AnaplanAuthToken {login(http)}"}
    response = http.post("/token/logout", headers=auth)
    assert response.status_code == 204
    assert response.content == b""
    assert http.get("/token/validate", headers=auth).status_code == 401
    assert_error(http.get("/2/0/users/me", headers=auth), 401)
    again = http.post("/token/logout", headers=auth)
    assert again.status_code == 401
    assert again.json()["status"] == "FAILURE_BAD_CREDENTIAL"


def test_tokens_expire_after_their_lifetime(http: httpx2.Client, clock: FakeClock) -> None:
    auth = {"Authorization": f"AnaplanAuthToken {login(http)}"}
    clock.advance(35 * 60 - 1)
    assert http.get("/2/0/users/me", headers=auth).status_code == 200
    clock.advance(1)
    assert_error(http.get("/2/0/users/me", headers=auth), 401)
    assert http.get("/token/validate", headers=auth).status_code == 401


def test_token_lifetime_is_configurable(http: httpx2.Client, clock: FakeClock) -> None:
    changed = http.put("/_emulator/token-lifetime", json={"seconds": 5})
    assert changed.status_code == 200
    assert changed.json() == {"seconds": 5.0}
    body = http.post("/token/authenticate", headers=basic()).json()
    assert body["tokenInfo"]["expiresAt"] == int((clock.now + 5) * 1000)
    auth = {"Authorization": f"AnaplanAuthToken {body['tokenInfo']['tokenValue']}"}
    clock.advance(5)
    assert_error(http.get("/2/0/users/me", headers=auth), 401)
    assert_error(http.put("/_emulator/token-lifetime", json={"seconds": 0}), 400)
    http.put("/_emulator/token-lifetime", json={"seconds": 2100})


def test_expiring_all_tokens_forces_a_new_login(http: httpx2.Client) -> None:
    auth = {"Authorization": f"AnaplanAuthToken {login(http)}"}
    assert http.post("/_emulator/tokens/expire").status_code == 204
    assert_error(http.get("/2/0/users/me", headers=auth), 401)


def test_the_api_accepts_both_schemes(http: httpx2.Client) -> None:
    token = login(http)
    for scheme in ("AnaplanAuthToken", "Bearer", "bearer"):
        response = http.get("/2/0/users/me", headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, scheme


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/2/0/users/me"),
        ("GET", "/2/0/workspaces"),
        ("GET", "/2/0/models"),
        ("GET", "/2/0/models/0123456789ABCDEF0123456789ABCDEF/files"),
        ("POST", "/2/0/workspaces/x/models/y/imports/112000000000/tasks"),
        ("PUT", "/2/0/workspaces/x/models/y/files/113000000000/chunks/0"),
        ("GET", "/2/0/no/such/path"),
        ("DELETE", "/2/0/workspaces/x/models/y/imports/1/tasks/2"),
    ],
)
@pytest.mark.parametrize("header", [None, "AnaplanAuthToken not-a-token", "Basic ZGVtbzpkZW1v"])
def test_every_api_path_needs_a_valid_token(
    http: httpx2.Client, method: str, path: str, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    assert_error(http.request(method, path, headers=headers), 401)


# -- certificate authentication -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_EMAIL)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def registered(
    http: httpx2.Client, certificate: tuple[rsa.RSAPrivateKey, bytes]
) -> tuple[rsa.RSAPrivateKey, bytes]:
    definition = {"users": [{"email": CERT_EMAIL, "certificate_pem": certificate[1].decode()}]}
    response = http.post("/_emulator/definitions", content=json.dumps(definition))
    assert response.status_code == 204, response.text
    return certificate


@pytest.fixture(autouse=True)
def _real_time(clock: FakeClock) -> None:
    # Certificates are valid around the real now; v2 timestamps are compared with the clock.
    clock.now = datetime.datetime.now(datetime.UTC).timestamp()


def cert_login(
    http: httpx2.Client,
    key: rsa.RSAPrivateKey,
    pem: bytes,
    *,
    data: bytes | None = None,
    data_format: str | None = None,
    signed_by: rsa.RSAPrivateKey | None = None,
) -> httpx2.Response:
    data = os.urandom(150) if data is None else data
    signature = (signed_by or key).sign(data, padding.PKCS1v15(), hashes.SHA512())
    body: dict[str, str] = {
        "encodedData": base64.b64encode(data).decode(),
        "encodedSignedData": base64.b64encode(signature).decode(),
    }
    if data_format is not None:
        body["encodedDataFormat"] = data_format
    header = f"CACertificate {base64.b64encode(pem).decode()}"
    return http.post("/token/authenticate", headers={"Authorization": header}, json=body)


def v2_data(epoch_seconds: float) -> bytes:
    return int(epoch_seconds * 1000).to_bytes(8, "big") + os.urandom(100)


def test_certificate_login_v1(
    http: httpx2.Client, registered: tuple[rsa.RSAPrivateKey, bytes]
) -> None:
    response = cert_login(http, *registered)
    assert response.status_code == 201, response.text
    assert_token_body(response.json(), "Login successful")
    token = response.json()["tokenInfo"]["tokenValue"]
    validated = http.get("/token/validate", headers={"Authorization": f"AnaplanAuthToken {token}"})
    assert validated.json()["userInfo"]["userId"] == CERT_EMAIL


def test_certificate_login_v2_with_a_fresh_timestamp(
    http: httpx2.Client, registered: tuple[rsa.RSAPrivateKey, bytes], clock: FakeClock
) -> None:
    response = cert_login(http, *registered, data=v2_data(clock.now), data_format="v2")
    assert response.status_code == 201, response.text


def test_certificate_login_v2_refuses_stale_timestamps_and_replays(
    http: httpx2.Client, registered: tuple[rsa.RSAPrivateKey, bytes], clock: FakeClock
) -> None:
    stale = cert_login(http, *registered, data=v2_data(clock.now - 3600), data_format="v2")
    assert stale.status_code == 401
    assert stale.json()["status"] == "FAILURE_BAD_CREDENTIAL"
    future = cert_login(http, *registered, data=v2_data(clock.now + 3600), data_format="v2")
    assert future.status_code == 401
    data = v2_data(clock.now)
    assert cert_login(http, *registered, data=data, data_format="v2").status_code == 201
    replay = cert_login(http, *registered, data=data, data_format="v2")
    assert replay.status_code == 401


def test_certificate_login_refuses_bad_signatures_and_unknown_certificates(
    http: httpx2.Client, registered: tuple[rsa.RSAPrivateKey, bytes]
) -> None:
    key, pem = registered
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = cert_login(http, key, pem, signed_by=other)
    assert forged.status_code == 401
    assert forged.json()["status"] == "FAILURE_BAD_CREDENTIAL"
    short = cert_login(http, key, pem, data=os.urandom(50))
    assert short.status_code == 401
    bad_format = cert_login(http, key, pem, data_format="v9")
    assert bad_format.status_code == 401


def test_certificate_login_with_an_unregistered_certificate(
    http: httpx2.Client, certificate: tuple[rsa.RSAPrivateKey, bytes]
) -> None:
    response = cert_login(http, *certificate)  # not loaded: the reset forgot it
    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"


@pytest.mark.parametrize("header", ["CACertificate", "CACertificate %%%", "CACertificate aGVsbG8="])
def test_certificate_login_with_a_malformed_header(http: httpx2.Client, header: str) -> None:
    response = http.post("/token/authenticate", headers={"Authorization": header}, json={})
    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_HEADER"


def test_certificate_login_with_a_malformed_body(
    http: httpx2.Client, registered: tuple[rsa.RSAPrivateKey, bytes]
) -> None:
    header = {"Authorization": f"CACertificate {base64.b64encode(registered[1]).decode()}"}
    for body in (b"not json", b"[]", b'{"encodedData": "###"}', b"{}"):
        response = http.post("/token/authenticate", headers=header, content=body)
        assert response.status_code == 401, body
        assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"


def test_emulator_fixture_reports_its_address(emulator: RunningEmulator) -> None:
    assert emulator.base_url == f"http://127.0.0.1:{emulator.port}"
