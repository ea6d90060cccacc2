"""Passwords at rest: scrypt hashes (stdlib `hashlib.scrypt`), never the password itself.

A stored password reads `scrypt$<n>$<r>$<p>$<salt>$<hash>` (salt and hash in base64). A value
without that prefix is a plain-text password written by an older emulator into a data directory;
it still verifies, and is replaced by a hash the next time its definition loads.

Hashing is deliberately slow (about 0.1 s), and a reset loads the definitions again, so a
password is hashed once per process (`PasswordHasher` remembers the hash of each definition's
password) and a login that verified is remembered (by a keyed fast digest, in memory only) until
the user's stored hash changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading

_PREFIX = "scrypt"
_N, _R, _P = 2**14, 8, 1
_LENGTH = 32


def hash_password(password: str) -> str:
    """A new salted scrypt hash of `password`, in the stored form."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LENGTH)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return "$".join((_PREFIX, str(_N), str(_R), str(_P), *encoded))


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` matches a stored hash (or an older emulator's plain text)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        return hmac.compare_digest(stored.encode(), password.encode())
    try:
        n, r, p = (int(value) for value in parts[1:4])
        salt, expected = (base64.b64decode(value) for value in parts[4:6])
        digest = hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**26
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


class PasswordHasher:
    """Hashes and verifies passwords for one engine, without paying scrypt more than needed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key = os.urandom(32)
        self._hashes: dict[tuple[str, bytes], str] = {}
        self._verified: dict[tuple[str, str], bytes] = {}

    def _fast(self, password: str) -> bytes:
        return hmac.digest(self._key, password.encode(), "sha256")

    def hashed(self, email: str, password: str) -> str:
        """The stored form of a definition's password (the same hash each time it loads)."""
        key = (email.lower(), self._fast(password))
        with self._lock:
            found = self._hashes.get(key)
        if found is None:
            found = hash_password(password)
            with self._lock:
                found = self._hashes.setdefault(key, found)
        return found

    def verify(self, email: str, stored: str, password: str) -> bool:
        """Whether `password` matches `stored`; a match is remembered for `stored`."""
        key = (email.lower(), stored)
        fast = self._fast(password)
        with self._lock:
            known = self._verified.get(key)
        if known is not None:
            return hmac.compare_digest(known, fast)
        if not verify_password(stored, password):
            return False
        with self._lock:
            self._verified[key] = fast
        return True
