"""Client settings: keyword arguments first, then `ANAPLAN_*` environment variables, then defaults.

Resolved in one place (`ClientConfig.resolve`). Environment variables:

| variable | setting |
|---|---|
| `ANAPLAN_WORKSPACE_ID`, `ANAPLAN_MODEL_ID` | the default workspace and model |
| `ANAPLAN_EMAIL`, `ANAPLAN_PASSWORD` | Basic sign-in |
| `ANAPLAN_CERTIFICATE`, `ANAPLAN_PRIVATE_KEY` (paths) | certificate sign-in |
| `ANAPLAN_PRIVATE_KEY_PASSWORD` | the private key's password, if any |
| `ANAPLAN_TOKEN` | a token obtained elsewhere |
| `ANAPLAN_OAUTH_CLIENT_ID`, `ANAPLAN_OAUTH_CLIENT_SECRET` | the OAuth sign-in `login` saved |
| `ANAPLAN_TOKEN_STORE` | where OAuth sign-ins live: `file`, `keyring` or a file path |
| `ANAPLAN_OAUTH_BASE_URL` | the OAuth server (default: `ANAPLAN_BASE_URL`, else the region's) |
| `ANAPLAN_REGION` | the tenant's region (`us1`, `eu3`, `au1`, …): picks the OAuth server |
| `ANAPLAN_BASE_URL` | one root for both services (the emulator: `http://127.0.0.1:8080`) |
| `ANAPLAN_API_BASE_URL`, `ANAPLAN_AUTH_BASE_URL` | each service's root |
| `ANAPLAN_CLOUDWORKS_BASE_URL` | CloudWorks' root (default `{ANAPLAN_BASE_URL}/2/0`) |
| `ANAPLAN_TIMEOUT` | read timeout in seconds |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .._core.auth import (
    BasicCredentials,
    CertificateCredentials,
    Credentials,
    TokenCredentials,
)
from .._core.chunks import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE
from .._core.oauth import OAuthCredentials, TokenStore, oauth_base_url
from .._core.polling import PollPolicy
from .._core.retry import RetryPolicy
from ..errors import ConfigurationError

DEFAULT_API_BASE_URL = "https://api.anaplan.com/2/0"
DEFAULT_AUTH_BASE_URL = "https://auth.anaplan.com"
DEFAULT_CLOUDWORKS_BASE_URL = "https://api.cloudworks.anaplan.com/2/0"


@dataclass(frozen=True)
class ClientConfig:
    """Every setting of a client, resolved.

    Attributes:
        workspace_id: Default workspace of model-scoped calls.
        model_id: Default model of model-scoped calls.
        credentials: How to sign in (never shown in repr).
        api_base_url: Integration API root.
        auth_base_url: Authentication service root.
        cloudworks_base_url: CloudWorks API root.
        timeout: Read/write timeout per request, seconds.
        connect_timeout: Connection timeout, seconds.
        retry: Retry policy.
        poll: Polling policy.
        chunk_size: Upload chunk size in bytes (1-50 MB).
        upload_workers: Chunks uploaded at once.
        locale: `localeName` sent when starting tasks.
    """

    credentials: Credentials = field(repr=False)
    workspace_id: str | None = None
    model_id: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    auth_base_url: str = DEFAULT_AUTH_BASE_URL
    cloudworks_base_url: str = DEFAULT_CLOUDWORKS_BASE_URL
    timeout: float = 60.0
    connect_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll: PollPolicy = field(default_factory=PollPolicy)
    chunk_size: int = DEFAULT_CHUNK_SIZE
    upload_workers: int = 4
    locale: str = "en_US"

    @classmethod
    def resolve(
        cls,
        *,
        credentials: Credentials | None = None,
        workspace_id: str | None = None,
        model_id: str | None = None,
        email: str | None = None,
        password: str | None = None,
        certificate: str | os.PathLike[str] | None = None,
        private_key: str | os.PathLike[str] | None = None,
        private_key_password: str | None = None,
        token: str | None = None,
        oauth_client_id: str | None = None,
        oauth_client_secret: str | None = None,
        token_store: Any = None,
        oauth_base_url: str | None = None,
        region: str | None = None,
        base_url: str | None = None,
        api_base_url: str | None = None,
        auth_base_url: str | None = None,
        cloudworks_base_url: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        chunk_size: int | None = None,
        upload_workers: int | None = None,
        locale: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Resolve settings from arguments, then the environment, then defaults.

        Args:
            credentials: Credentials already made (e.g. `OAuthCredentials` from
                `device_login`); the other credential settings are then ignored.
            workspace_id: Default workspace.
            model_id: Default model.
            email: Basic sign-in e-mail.
            password: Basic sign-in password.
            certificate: Path of a PEM certificate (certificate sign-in).
            private_key: Path of its PEM private key.
            private_key_password: The key's password, if it is encrypted.
            token: A token obtained elsewhere.
            oauth_client_id: OAuth sign-in (saved by `anaplan-tasks login` or the login
                functions) of this OAuth client.
            oauth_client_secret: Its secret (authorization-code clients).
            token_store: Where the OAuth sign-in lives: a `TokenStore`, `"file"`, `"keyring"`
                or a file path (default: `default_token_store()`).
            oauth_base_url: The OAuth server's root (default: `base_url`, else the region's).
            region: The tenant's Anaplan region (`us1`, `eu3`, `au1`, …).
            base_url: One root for both services: the API at `{base_url}/2/0`, auth at
                `{base_url}` (how to point at the emulator).
            api_base_url: Integration API root (overrides `base_url`).
            auth_base_url: Authentication service root (overrides `base_url`).
            cloudworks_base_url: CloudWorks API root (overrides `base_url`, under which the
                emulator serves CloudWorks at `{base_url}/2/0`; Anaplan's own is
                `https://api.cloudworks.anaplan.com/2/0`).
            timeout: Read/write timeout per request, seconds.
            connect_timeout: Connection timeout, seconds.
            retry: Retry policy.
            poll: Polling policy.
            chunk_size: Upload chunk size in bytes.
            upload_workers: Chunks uploaded at once.
            locale: `localeName` for task starts.
            env: The environment to read (default `os.environ`).

        Raises:
            ConfigurationError: No credentials, half a credential pair, or bad numbers.
        """
        environ = os.environ if env is None else env

        def pick(value: Any, name: str) -> Any:
            if value is not None:
                return value
            text = environ.get(name)
            return text if text not in (None, "") else None

        email = pick(email, "ANAPLAN_EMAIL")
        password = pick(password, "ANAPLAN_PASSWORD")
        certificate = pick(certificate, "ANAPLAN_CERTIFICATE")
        private_key = pick(private_key, "ANAPLAN_PRIVATE_KEY")
        certificate = None if certificate is None else os.fspath(certificate)
        private_key = None if private_key is None else os.fspath(private_key)
        private_key_password = pick(private_key_password, "ANAPLAN_PRIVATE_KEY_PASSWORD")
        token = pick(token, "ANAPLAN_TOKEN")
        base = pick(base_url, "ANAPLAN_BASE_URL")
        oauth_root = _oauth_root(
            pick(oauth_base_url, "ANAPLAN_OAUTH_BASE_URL"), base, pick(region, "ANAPLAN_REGION")
        )
        if credentials is None:
            client_id = pick(oauth_client_id, "ANAPLAN_OAUTH_CLIENT_ID")
            if client_id is not None and not (email or password or certificate or private_key):
                credentials = OAuthCredentials(
                    client_id=str(client_id),
                    store=_token_store(pick(token_store, "ANAPLAN_TOKEN_STORE"), environ),
                    client_secret=pick(oauth_client_secret, "ANAPLAN_OAUTH_CLIENT_SECRET"),
                )
            else:
                credentials = _credentials(
                    email, password, certificate, private_key, private_key_password, token
                )
        if isinstance(credentials, OAuthCredentials):
            credentials = credentials.at(oauth_root)

        api = pick(api_base_url, "ANAPLAN_API_BASE_URL")
        auth = pick(auth_base_url, "ANAPLAN_AUTH_BASE_URL")
        cloudworks = pick(cloudworks_base_url, "ANAPLAN_CLOUDWORKS_BASE_URL")
        if base is not None:
            base = str(base).rstrip("/")
            api = api or f"{base}/2/0"
            auth = auth or base
            cloudworks = cloudworks or f"{base}/2/0"
        timeout_value = pick(timeout, "ANAPLAN_TIMEOUT")
        size = chunk_size if chunk_size is not None else DEFAULT_CHUNK_SIZE
        if not MIN_CHUNK_SIZE <= size <= MAX_CHUNK_SIZE:
            raise ConfigurationError(
                f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes"
            )
        workers = upload_workers if upload_workers is not None else 4
        if workers < 1:
            raise ConfigurationError("upload_workers must be at least 1")
        try:
            read_timeout = float(timeout_value) if timeout_value is not None else 60.0
        except ValueError:
            raise ConfigurationError(
                f"ANAPLAN_TIMEOUT is not a number: {timeout_value!r}"
            ) from None
        return cls(
            credentials=credentials,
            workspace_id=pick(workspace_id, "ANAPLAN_WORKSPACE_ID"),
            model_id=pick(model_id, "ANAPLAN_MODEL_ID"),
            api_base_url=str(api or DEFAULT_API_BASE_URL).rstrip("/"),
            auth_base_url=str(auth or DEFAULT_AUTH_BASE_URL).rstrip("/"),
            cloudworks_base_url=str(cloudworks or DEFAULT_CLOUDWORKS_BASE_URL).rstrip("/"),
            timeout=read_timeout,
            connect_timeout=connect_timeout if connect_timeout is not None else 10.0,
            retry=retry or RetryPolicy(),
            poll=poll or PollPolicy(),
            chunk_size=size,
            upload_workers=workers,
            locale=locale or "en_US",
        )

    def with_options(self, **changes: Any) -> ClientConfig:
        """A copy with these settings changed (same names as the attributes)."""
        try:
            return replace(self, **changes)
        except TypeError as error:
            raise ConfigurationError(f"unknown client option: {error}") from None


def oauth_credentials(
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    store: Any = None,
    env: Mapping[str, str] | None = None,
) -> OAuthCredentials:
    """OAuth credentials from arguments, then `ANAPLAN_OAUTH_*` and `ANAPLAN_TOKEN_STORE`.

    Their OAuth server is left for `ClientConfig.resolve` to fill in from the other settings.

    Raises:
        ConfigurationError: No client id.
    """
    environ = os.environ if env is None else env
    chosen = client_id or environ.get("ANAPLAN_OAUTH_CLIENT_ID")
    if not chosen:
        raise ConfigurationError(
            "signing in with OAuth needs the OAuth client's id: pass client_id= "
            "(or set ANAPLAN_OAUTH_CLIENT_ID)"
        )
    return OAuthCredentials(
        client_id=chosen,
        store=_token_store(store or environ.get("ANAPLAN_TOKEN_STORE") or None, environ),
        client_secret=client_secret or environ.get("ANAPLAN_OAUTH_CLIENT_SECRET") or None,
    )


def _token_store(store: Any, environ: Mapping[str, str]) -> TokenStore:
    from .token_store import default_token_store, open_token_store

    if store is None:
        return default_token_store(environ)
    if isinstance(store, str | os.PathLike):
        return open_token_store(os.fspath(store))
    chosen: TokenStore = store
    return chosen


def _oauth_root(explicit: Any, base: Any, region: Any) -> str:
    return oauth_base_url(
        explicit=None if explicit is None else str(explicit),
        base_url=None if base is None else str(base),
        region=None if region is None else str(region),
    )


def _credentials(
    email: str | None,
    password: str | None,
    certificate: str | None,
    private_key: str | None,
    private_key_password: str | None,
    token: str | None,
) -> Credentials:
    if certificate is not None or private_key is not None:
        if certificate is None or private_key is None:
            raise ConfigurationError(
                "certificate sign-in needs both certificate= and private_key= "
                "(ANAPLAN_CERTIFICATE and ANAPLAN_PRIVATE_KEY)"
            )
        try:
            cert_pem = Path(certificate).read_bytes()
            key_pem = Path(private_key).read_bytes()
        except OSError as error:
            raise ConfigurationError(f"cannot read the certificate or key: {error}") from None
        return CertificateCredentials(
            cert_pem, key_pem, private_key_password.encode() if private_key_password else None
        )
    if email is not None or password is not None:
        if email is None or password is None:
            raise ConfigurationError(
                "Basic sign-in needs both email= and password= (ANAPLAN_EMAIL, ANAPLAN_PASSWORD)"
            )
        return BasicCredentials(email, password)
    if token is not None:
        return TokenCredentials(token)
    raise ConfigurationError(
        "no credentials: pass email= and password=, certificate= and private_key=, "
        "oauth_client_id= (after `anaplan-tasks login`), or token= "
        "(or set ANAPLAN_EMAIL/ANAPLAN_PASSWORD, ANAPLAN_CERTIFICATE/ANAPLAN_PRIVATE_KEY, "
        "ANAPLAN_OAUTH_CLIENT_ID, or ANAPLAN_TOKEN)"
    )
