"""Passwords are stored as scrypt hashes, verified as before, and old plain text still works."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import httpx2

from anaplan_tasks.emulator.engine.passwords import PasswordHasher, hash_password, verify_password
from anaplan_tasks.emulator.server import run_emulator


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "s3cret" not in stored
    assert stored != hash_password("s3cret")  # salted
    assert verify_password(stored, "s3cret")
    assert not verify_password(stored, "s3cret ")
    assert not verify_password(stored, "")


def test_old_plain_text_still_verifies_and_junk_never_does() -> None:
    assert verify_password("demo", "demo")
    assert not verify_password("demo", "Demo")
    assert not verify_password("scrypt$x$8$1$AAAA$AAAA", "demo")
    assert not verify_password("scrypt$16384$8$1$!!!$AAAA", "demo")


def test_the_hasher_hashes_a_definition_once_and_remembers_logins() -> None:
    hasher = PasswordHasher()
    stored = hasher.hashed("a@example.com", "pw")
    assert hasher.hashed("A@example.com", "pw") == stored  # a reset reloads without rehashing
    assert hasher.hashed("a@example.com", "other") != stored
    assert hasher.verify("a@example.com", stored, "pw")
    assert hasher.verify("a@example.com", stored, "pw")  # remembered
    assert not hasher.verify("a@example.com", stored, "wrong")
    assert not hasher.verify("a@example.com", hash_password("new"), "pw")  # hash changed


def test_the_database_holds_no_password(tmp_path: Path) -> None:
    basic = {"Authorization": "Basic " + base64.b64encode(b"demo@example.com:demo").decode()}
    wrong = {"Authorization": "Basic " + base64.b64encode(b"demo@example.com:dem0").decode()}
    for _ in range(2):  # and again after a restart on the same directory
        with run_emulator(demo=True, data_dir=tmp_path) as emulator:
            url = f"{emulator.base_url}/token/authenticate"
            assert httpx2.post(url, headers=basic).status_code == 201
            assert httpx2.post(url, headers=wrong).status_code == 401
            emulator.control.reset()
            assert httpx2.post(url, headers=basic).status_code == 201
    with sqlite3.connect(tmp_path / "meta.sqlite") as db:
        stored = dict(db.execute("SELECT email, password FROM users"))
    assert set(stored) == {"demo@example.com", "viewer@example.com"}
    for email, password in stored.items():
        assert password.startswith("scrypt$"), email
        assert email.split("@")[0] not in password
