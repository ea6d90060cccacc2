"""Signing in against the emulator: certificates, given tokens, one sign-in shared, sign-out."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from anaplan_tasks.client import Client
from anaplan_tasks.emulator.demo import DEMO_PASSWORD, DEMO_USER
from anaplan_tasks.errors import AuthenticationError

from .conftest import Emulator


def _certificate(tmp_path: Path) -> tuple[Path, Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "integration@example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    (tmp_path / "cert.pem").write_text(pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    return tmp_path / "cert.pem", tmp_path / "key.pem", pem


def test_certificate_sign_in_v2(emulator: Emulator, tmp_path: Path) -> None:
    cert, key, pem = _certificate(tmp_path)
    emulator.running.control.load_definition(
        f'[[users]]\nemail = "cert.user@example.com"\ncertificate_pem = """{pem}"""\n'
    )
    with Client(
        base_url=emulator.base_url,
        certificate=cert,
        private_key=key,
        private_key_password="s3cret",
        env={},
    ) as client:
        assert client.workspaces.list() == []
    assert emulator.requests("POST", "/token/authenticate") == 1
    assert emulator.requests("POST", "/token/logout") == 1


def test_a_given_token_is_used_and_not_signed_out(emulator: Emulator) -> None:
    token = httpx2.post(
        f"{emulator.base_url}/token/authenticate", auth=(DEMO_USER, DEMO_PASSWORD)
    ).json()["tokenInfo"]["tokenValue"]
    settings = emulator.client_settings()
    del settings["email"], settings["password"]
    with Client(**settings, token=token) as client:  # type: ignore[arg-type]
        assert [f.name for f in client.files.list()] == ["employees.csv", "Headcount Export"]
    assert emulator.requests("POST", "/token/logout") == 0
    emulator.running.control.expire_tokens()
    with Client(**settings, token=token) as client, pytest.raises(AuthenticationError):  # type: ignore[arg-type]
        client.files.list()


def test_wrong_password_is_an_authentication_error(emulator: Emulator) -> None:
    settings = {**emulator.client_settings(), "password": "wrong"}
    with Client(**settings) as client, pytest.raises(AuthenticationError) as caught:  # type: ignore[arg-type]
        client.files.list()
    assert caught.value.status_code == 401
    assert "wrong" not in str(caught.value)


def test_threads_share_one_sign_in_after_expiry(client: Client, emulator: Emulator) -> None:
    client.files.list()
    emulator.running.control.expire_tokens()
    with ThreadPoolExecutor(8) as pool:
        listed = list(pool.map(lambda _: client.files.list(), range(16)))
    assert all(len(files) == 2 for files in listed)
    assert emulator.requests("POST", "/token/authenticate") == 2


def test_sign_out_on_close(emulator: Emulator) -> None:
    with Client(**emulator.client_settings()) as client:  # type: ignore[arg-type]
        copy = client.with_model(emulator.model_id)
        client.files.list()
        copy.close()
        assert emulator.requests("POST", "/token/logout") == 0
    assert emulator.requests("POST", "/token/logout") == 1
