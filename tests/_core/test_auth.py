"""Token decisions and the certificate sign-in body."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from anaplan_tasks._core.auth import (
    BasicCredentials,
    CertificateCredentials,
    TokenCredentials,
    TokenState,
    certificate_body,
    obtain_token,
    token_usable,
)
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks.errors import AuthenticationError, ConfigurationError

from .scripted import Scripted, json_response

NOW = 1_767_000_000.0


def token_answer(value: str, lifetime: float, now: float) -> Response:
    return json_response(
        201,
        {
            "status": "SUCCESS",
            "tokenInfo": {
                "tokenValue": value,
                "expiresAt": int((now + lifetime) * 1000),
                "refreshToken": "ignored",
            },
        },
    )


@pytest.mark.parametrize(
    ("age", "lifetime", "due"),
    [
        (0, 2100, False),
        (29 * 60, 2100, False),
        (31 * 60, 2100, True),
        (0, 10, False),
        (8, 10, False),
        (9, 10, True),
    ],
)
def test_refresh_is_due_before_expiry_in_proportion_to_the_life(
    age: float, lifetime: float, due: bool
) -> None:
    state = TokenState("v", expires_at=NOW + lifetime, obtained_at=NOW)
    assert state.refresh_due(NOW + age) is due


def test_a_refused_token_is_never_usable() -> None:
    state = TokenState("v", expires_at=NOW + 2100, obtained_at=NOW)
    assert token_usable(state, None, NOW)
    assert not token_usable(state, "v", NOW)
    assert token_usable(state, "older", NOW)


def test_repr_hides_secrets() -> None:
    assert "hunter2" not in repr(BasicCredentials("a@b", "hunter2"))
    assert "secret" not in repr(TokenCredentials("secret"))
    assert "secret" not in repr(TokenState("secret"))


def test_sign_in_then_refresh_then_sign_in_again_when_refresh_is_refused() -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.url.rsplit("/", 1)[1])
        assert not request.auth
        if request.url.endswith("/authenticate"):
            assert request.headers["Authorization"].startswith("Basic ")
            return token_answer(f"t{len(seen)}", 2100, env.wall)
        if request.url.endswith("/refresh"):
            return json_response(
                401, {"status": "FAILURE_BAD_CREDENTIAL", "statusMessage": "expired"}
            )
        raise AssertionError(request)

    env = Scripted(handler)
    ctx = env.context()
    credentials = BasicCredentials("a@b", "pw")
    first = env.run(obtain_token(ctx, credentials, None, None))
    assert first.value == "t1"
    assert env.run(obtain_token(ctx, credentials, first, None)) is first
    replaced = env.run(obtain_token(ctx, credentials, first, "t1"))
    assert seen == ["authenticate", "refresh", "authenticate"]
    assert replaced.value == "t3"


def test_a_given_token_is_refreshed_but_never_replaced() -> None:
    def handler(request: Request) -> Response:
        assert request.url.endswith("/refresh")
        return json_response(401, {"status": "FAILURE_BAD_CREDENTIAL"})

    env = Scripted(handler)
    ctx = env.context()
    given = env.run(obtain_token(ctx, TokenCredentials("given"), None, None))
    assert given.value == "given"
    assert env.sent == []
    with pytest.raises(AuthenticationError):
        env.run(obtain_token(ctx, TokenCredentials("given"), given, "given"))


def test_certificate_body_is_a_v2_signed_timestamp() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    credentials = CertificateCredentials(b"-----BEGIN CERTIFICATE-----", pem)
    body = certificate_body(credentials, NOW, nonce=b"n" * 100)
    assert body["encodedDataFormat"] == "v2"
    data = base64.b64decode(body["encodedData"])
    assert struct.unpack(">Q", data[:8])[0] == int(NOW * 1000)
    assert data[8:] == b"n" * 100
    key.public_key().verify(
        base64.b64decode(body["encodedSignedData"]), data, padding.PKCS1v15(), hashes.SHA512()
    )


def test_an_unreadable_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="private key"):
        certificate_body(CertificateCredentials(b"cert", b"not a key"), NOW)
