"""Token stores: where OAuth sign-ins (refresh tokens) are kept between runs.

- `FileTokenStore` (the default): one JSON file, mode 0600 in a 0700 directory, replaced
  atomically (written beside, flushed to disk, renamed over) so a reader or a crash sees the old
  or the new content, never a mix. A lock file next to it (`flock`) keeps threads and processes
  sharing it from refreshing at once.
- `KeyringTokenStore`: the system keyring (`pip install keyring`), one entry per sign-in, with
  the same kind of lock file.

`default_token_store()` picks the keyring when `keyring` is installed and has a real backend,
else the file; `ANAPLAN_TOKEN_STORE` (`file`, `keyring`, or a file path) says otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._core.oauth import OAuthCredentials, SavedTokens, StoreLock, TokenStore
from ..errors import ConfigurationError

__all__ = [
    "FileTokenStore",
    "KeyringTokenStore",
    "SavedTokens",
    "StoreLock",
    "TokenStore",
    "default_token_store",
    "forget_sign_in",
    "open_token_store",
]

LOCK_TIMEOUT = 120.0
"""Seconds to wait for another program's refresh before giving up."""

_POLL = 0.02


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/anaplan-tasks` (`~/.config/anaplan-tasks`; `%APPDATA%` on Windows)."""
    environ = os.environ if environ is None else environ
    if sys.platform == "win32" and environ.get("APPDATA"):
        return Path(environ["APPDATA"]) / "anaplan-tasks"
    home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(home) / "anaplan-tasks"


class FileLock:
    """An exclusive lock on a lock file (`flock`; `msvcrt.locking` on Windows).

    Locks taken through different opens conflict, within one process too, so two clients of
    one process sharing a store also take turns.
    """

    def __init__(self, path: Path, timeout: float = LOCK_TIMEOUT):
        self._path = path
        self._timeout = timeout
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_fd(fd)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def acquire(self) -> FileLock:
        """Wait until the lock is held (for blocking callers; flows use `try_acquire`)."""
        deadline = time.monotonic() + self._timeout
        while not self.try_acquire():
            if time.monotonic() > deadline:
                raise ConfigurationError(
                    f"the token store lock {self._path} stayed taken for {self._timeout:.0f} s "
                    "(another program is refreshing, or hangs)"
                )
            time.sleep(_POLL)  # another program refreshes: wait for it, briefly
        return self

    def release(self) -> None:
        """Let others in."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                _unlock_fd(fd)
            os.close(fd)

    def __del__(self) -> None:  # a lock acquired for a cancelled caller is not kept
        self.release()


if sys.platform == "win32":  # pragma: no cover - tested on POSIX only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise BlockingIOError from None

    def _unlock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a 0600 file beside it, flushed, renamed over, dir flushed."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    if sys.platform != "win32":
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class FileTokenStore:
    """Sign-ins in one JSON file only you can read (0600). See the module docstring."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else config_dir() / "oauth-tokens.json"
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def try_lock(self) -> StoreLock | None:
        """Lock the store against other threads and processes, or None when it is locked."""
        lock = FileLock(self._lock_path)
        return lock if lock.try_acquire() else None

    def lock(self) -> StoreLock:
        """Wait until the store is locked (for blocking callers)."""
        return FileLock(self._lock_path).acquire()

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise ConfigurationError(f"cannot read the token store {self.path}: {error}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigurationError(
                f"the token store {self.path} is not JSON: fix or delete it"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("sign_ins", {}), dict):
            raise ConfigurationError(f"the token store {self.path} is not a token store")
        sign_ins: dict[str, Any] = data.get("sign_ins", {})
        return sign_ins

    def _write(self, sign_ins: dict[str, Any]) -> None:
        document = {"version": 1, "sign_ins": sign_ins}
        _write_atomically(self.path, (json.dumps(document, indent=2) + "\n").encode())

    def load(self, key: str) -> SavedTokens | None:
        """The sign-in saved under `key`, or None."""
        return SavedTokens.from_json(self._read().get(key))

    def save(self, key: str, tokens: SavedTokens) -> None:
        """Save a sign-in, keeping every other one as it is."""
        sign_ins = self._read()
        sign_ins[key] = tokens.to_json()
        self._write(sign_ins)

    def delete(self, key: str) -> bool:
        """Forget one sign-in."""
        sign_ins = self._read()
        if sign_ins.pop(key, None) is None:
            return False
        self._write(sign_ins)
        return True


class KeyringTokenStore:
    """Sign-ins in the system keyring (service `anaplan-tasks`, one entry per key)."""

    def __init__(self, service: str = "anaplan-tasks", lock_path: Path | None = None):
        try:
            import keyring
        except ImportError:
            raise ConfigurationError(
                "the keyring token store needs the 'keyring' package (pip install keyring)"
            ) from None
        self._keyring = keyring
        self.service = service
        self._lock_path = lock_path or config_dir() / "oauth-keyring.lock"

    def __repr__(self) -> str:
        return f"KeyringTokenStore({self.service!r})"

    def try_lock(self) -> StoreLock | None:
        """Lock the store against other threads and processes, or None when it is locked."""
        lock = FileLock(self._lock_path)
        return lock if lock.try_acquire() else None

    def lock(self) -> StoreLock:
        """Wait until the store is locked (for blocking callers)."""
        return FileLock(self._lock_path).acquire()

    def load(self, key: str) -> SavedTokens | None:
        """The sign-in saved under `key`, or None."""
        text = self._keyring.get_password(self.service, key)
        if text is None:
            return None
        try:
            return SavedTokens.from_json(json.loads(text))
        except ValueError:
            return None

    def save(self, key: str, tokens: SavedTokens) -> None:
        """Save a sign-in (the keyring replaces an entry as one write)."""
        self._keyring.set_password(self.service, key, json.dumps(tokens.to_json()))

    def delete(self, key: str) -> bool:
        """Forget one sign-in."""
        if self._keyring.get_password(self.service, key) is None:
            return False
        self._keyring.delete_password(self.service, key)
        return True


def _keyring_usable() -> bool:
    try:
        import keyring
    except ImportError:
        return False
    try:
        backend = keyring.get_keyring()
        priority = float(getattr(backend, "priority", 0))
    except Exception:  # a broken keyring setup means: use the file
        return False
    return priority > 0 and "fail" not in type(backend).__module__


def open_token_store(spec: str) -> TokenStore:
    """A store from a setting: `file`, `keyring`, or the path of a token file."""
    if spec == "keyring":
        return KeyringTokenStore()
    if spec == "file":
        return FileTokenStore()
    return FileTokenStore(Path(spec).expanduser())


def default_token_store(environ: Mapping[str, str] | None = None) -> TokenStore:
    """`ANAPLAN_TOKEN_STORE` when set; else the keyring when usable; else the token file."""
    environ = os.environ if environ is None else environ
    spec = environ.get("ANAPLAN_TOKEN_STORE")
    if spec:
        return open_token_store(spec)
    if _keyring_usable():
        return KeyringTokenStore()
    return FileTokenStore(config_dir(environ) / "oauth-tokens.json")


def _wait_for(store: TokenStore, timeout: float = LOCK_TIMEOUT) -> StoreLock:
    deadline = time.monotonic() + timeout
    while (held := store.try_lock()) is None:
        if time.monotonic() > deadline:
            raise ConfigurationError(f"the token store {store!r} stayed locked for {timeout:.0f} s")
        time.sleep(_POLL)
    return held


def forget_sign_in(credentials: OAuthCredentials) -> bool:
    """Delete a saved OAuth sign-in from its store (`anaplan-tasks logout`); False: none saved.

    The access token last issued stays valid until it expires (at most 35 minutes): Anaplan
    documents no OAuth revocation endpoint.
    """
    held = _wait_for(credentials.store)
    try:
        return credentials.store.delete(credentials.store_key)
    finally:
        held.release()
