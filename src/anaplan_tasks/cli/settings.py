"""Where the command line's settings come from: flags, then `ANAPLAN_*` variables, then a profile.

A profile file is TOML, by default `$XDG_CONFIG_HOME/anaplan-tasks/profiles.toml`
(`~/.config/anaplan-tasks/profiles.toml`), or the file `--profile-file` / `ANAPLAN_PROFILE_FILE`
names. `--profile NAME` (or `ANAPLAN_PROFILE`) picks a table; without one, `[default]` is used
when it exists:

```toml
[default]
workspace = "Demo Workspace"      # an id or a name
model = "FP&A Dev"
email = "integration@example.com"
password_env = "ANAPLAN_PROD_PASSWORD"  # read the secret from this variable

[emulator]
base_url = "http://127.0.0.1:8080"
email = "demo@example.com"
password = "demo"

[oauth]                           # after `anaplan-tasks --profile oauth login`
region = "eu3"                    # picks the OAuth server (eu3.app.anaplan.com)
oauth_client_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
workspace = "Demo Workspace"
```
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError

if TYPE_CHECKING:  # imported when a command connects, not for --help
    from ..client import Client
    from ..client.config import ClientConfig

PROFILE_KEYS: dict[str, str] = {
    "base_url": "ANAPLAN_BASE_URL",
    "api_base_url": "ANAPLAN_API_BASE_URL",
    "auth_base_url": "ANAPLAN_AUTH_BASE_URL",
    "cloudworks_base_url": "ANAPLAN_CLOUDWORKS_BASE_URL",
    "workspace": "ANAPLAN_WORKSPACE_ID",
    "model": "ANAPLAN_MODEL_ID",
    "email": "ANAPLAN_EMAIL",
    "password": "ANAPLAN_PASSWORD",
    "token": "ANAPLAN_TOKEN",
    "certificate": "ANAPLAN_CERTIFICATE",
    "private_key": "ANAPLAN_PRIVATE_KEY",
    "private_key_password": "ANAPLAN_PRIVATE_KEY_PASSWORD",
    "timeout": "ANAPLAN_TIMEOUT",
    "oauth_client_id": "ANAPLAN_OAUTH_CLIENT_ID",
    "oauth_client_secret": "ANAPLAN_OAUTH_CLIENT_SECRET",
    "oauth_redirect_uri": "ANAPLAN_OAUTH_REDIRECT_URI",
    "oauth_base_url": "ANAPLAN_OAUTH_BASE_URL",
    "region": "ANAPLAN_REGION",
    "token_store": "ANAPLAN_TOKEN_STORE",
}
"""Profile keys and the environment variable each stands in for."""

_UNSET = "unset:"


@dataclass(frozen=True)
class Settings:
    """What the flags said (None: not given), plus output switches."""

    json_output: bool = False
    debug: bool = False
    profile: str | None = None
    profile_file: Path | None = None
    base_url: str | None = None
    workspace: str | None = None
    model: str | None = None
    email: str | None = None
    password: str | None = None
    token: str | None = None
    certificate: str | None = None
    private_key: str | None = None

    def merged(self, changes: Mapping[str, Any]) -> Settings:
        """These settings with the given (non-None) values taking over."""
        known = {item.name for item in fields(self)}
        return replace(
            self, **{key: value for key, value in changes.items() if key in known and value}
        )


def default_profile_file(environ: Mapping[str, str]) -> Path:
    """Where profiles live when nothing says otherwise."""
    if environ.get("ANAPLAN_PROFILE_FILE"):
        return Path(environ["ANAPLAN_PROFILE_FILE"]).expanduser()
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "anaplan-tasks" / "profiles.toml"


def load_profile(name: str | None, path: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The chosen profile as `ANAPLAN_*` variables ({} when there is no profile to use).

    Raises:
        ConfigurationError: The file is not valid TOML, the named profile is missing, or a
            key is unknown.
    """
    file = path or default_profile_file(environ)
    name = name or environ.get("ANAPLAN_PROFILE") or None
    if not file.is_file():
        if name is not None or path is not None:
            raise ConfigurationError(f"profile file {file} does not exist")
        return {}
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"profile file {file} is not valid TOML: {error}") from None
    chosen = name or "default"
    table = document.get(chosen)
    if table is None:
        if name is None:
            return {}
        known = ", ".join(sorted(key for key, value in document.items() if isinstance(value, dict)))
        raise ConfigurationError(
            f"profile {chosen!r} is not in {file} (profiles there: {known or 'none'})"
        )
    if not isinstance(table, dict):
        raise ConfigurationError(f"profile {chosen!r} in {file} is not a table")
    variables: dict[str, str] = {}
    for key, value in table.items():
        if key.endswith("_env") and key[: -len("_env")] in PROFILE_KEYS:
            secret = environ.get(str(value))
            if secret:
                variables[PROFILE_KEYS[key[: -len("_env")]]] = secret
            else:  # said in the error if the secret is then missing
                variables[_UNSET + PROFILE_KEYS[key[: -len("_env")]]] = (
                    f"profile {chosen!r} reads it from ${value} ({key}), which is not set"
                )
            continue
        if key not in PROFILE_KEYS:
            allowed = ", ".join(sorted(PROFILE_KEYS))
            raise ConfigurationError(
                f"profile {chosen!r} in {file}: unknown key {key!r} (known keys: {allowed})"
            )
        variables[PROFILE_KEYS[key]] = str(value)
    return variables


def client_config(settings: Settings, environ: Mapping[str, str] | None = None) -> ClientConfig:
    """Resolve a client configuration: flags over environment over profile."""
    environ = os.environ if environ is None else environ
    profile = load_profile(settings.profile, settings.profile_file, environ)
    merged_env = {**profile, **{key: value for key, value in environ.items() if value}}
    unset = {
        key.removeprefix(_UNSET): why for key, why in merged_env.items() if key.startswith(_UNSET)
    }
    merged_env = {key: value for key, value in merged_env.items() if not key.startswith(_UNSET)}
    check_urls(settings.base_url, merged_env)
    _check_credentials(settings, merged_env, unset)
    from ..client.config import ClientConfig

    return ClientConfig.resolve(
        base_url=settings.base_url,
        email=settings.email,
        password=settings.password,
        token=settings.token,
        certificate=settings.certificate,
        private_key=settings.private_key,
        env=merged_env,
    ).with_options(
        workspace_id=settings.workspace or merged_env.get("ANAPLAN_WORKSPACE_ID"),
        model_id=settings.model or merged_env.get("ANAPLAN_MODEL_ID"),
    )


_URL_SETTINGS = (
    ("--base-url", "ANAPLAN_BASE_URL", "base_url"),
    ("ANAPLAN_API_BASE_URL", "ANAPLAN_API_BASE_URL", "api_base_url"),
    ("ANAPLAN_AUTH_BASE_URL", "ANAPLAN_AUTH_BASE_URL", "auth_base_url"),
    ("ANAPLAN_CLOUDWORKS_BASE_URL", "ANAPLAN_CLOUDWORKS_BASE_URL", "cloudworks_base_url"),
)


def check_urls(flag: str | None, environ: Mapping[str, str]) -> None:
    """Refuse a base URL that cannot work before anything is sent (a usage error, exit 2).

    A URL needs `http://` or `https://` and a host; `--base-url` is the root of both services,
    so it must not end in `/2/0` (the API's own path, which the client adds).

    Raises:
        ConfigurationError: Naming the flag or variable, the value, and what to give instead.
    """
    for flag_name, variable, key in _URL_SETTINGS:
        value = flag if key == "base_url" and flag else environ.get(variable)
        if not value:
            continue
        where = flag_name if key == "base_url" and flag else variable
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigurationError(
                f"{where} {value!r} is not a URL: give http:// or https:// and a host, e.g. "
                "http://127.0.0.1:8080 for the emulator"
            )
        if key == "base_url" and parsed.path.rstrip("/").endswith("/2/0"):
            root = value.rstrip("/").removesuffix("/2/0")
            raise ConfigurationError(
                f"{where} {value!r} ends in the API's path /2/0: give the root, {root!r} "
                "(the API is at /2/0 under it, sign-in at /token)"
            )


def _check_credentials(
    settings: Settings, environ: Mapping[str, str], unset: Mapping[str, str]
) -> None:
    """The client's own checks, said in the command line's words (flags and variables)."""

    def have(value: str | None, variable: str) -> bool:
        return bool(value or environ.get(variable))

    def missing(flag: str, variable: str) -> str:
        because = f"; {unset[variable]}" if variable in unset else ""
        return f"pass {flag} or set {variable}{because}"

    email = have(settings.email, "ANAPLAN_EMAIL")
    password = have(settings.password, "ANAPLAN_PASSWORD")
    token = have(settings.token, "ANAPLAN_TOKEN")
    certificate = have(settings.certificate, "ANAPLAN_CERTIFICATE")
    key = have(settings.private_key, "ANAPLAN_PRIVATE_KEY")
    oauth = have(None, "ANAPLAN_OAUTH_CLIENT_ID")
    if token or (oauth and not (email or password or certificate or key)):
        return  # OAuth: the sign-in `anaplan-tasks login` saved
    if certificate or key:
        if not key:
            raise ConfigurationError(
                "certificate sign-in needs the private key: "
                + missing("--private-key PATH", "ANAPLAN_PRIVATE_KEY")
            )
        if not certificate:
            raise ConfigurationError(
                "certificate sign-in needs the certificate: "
                + missing("--certificate PATH", "ANAPLAN_CERTIFICATE")
            )
        return
    if email and not password:
        raise ConfigurationError(
            "Basic sign-in needs a password: " + missing("--password", "ANAPLAN_PASSWORD")
        )
    if password and not email:
        raise ConfigurationError(
            "Basic sign-in needs an email: " + missing("--email", "ANAPLAN_EMAIL")
        )
    if not email:
        reasons = "".join(f"; {why}" for why in unset.values())
        raise ConfigurationError(
            "no credentials: pass --email and --password (or --token, or --certificate and "
            "--private-key), set ANAPLAN_EMAIL and ANAPLAN_PASSWORD, sign in with "
            "`anaplan-tasks login` and set ANAPLAN_OAUTH_CLIENT_ID, or use a --profile" + reasons
        )


def open_client(settings: Settings, *, need_workspace: bool, need_model: bool) -> Client:
    """A client whose workspace and model names are resolved to ids (signs in on first use).

    Raises:
        ConfigurationError: A needed workspace or model is not given, or no such name exists.
    """
    from .._core.scope import MODEL_ID, WORKSPACE_ID, match_name
    from ..client import Client

    config = client_config(settings)
    workspace, model = config.workspace_id, config.model_id
    named = (workspace is not None and not WORKSPACE_ID.fullmatch(workspace)) or (
        model is not None and not MODEL_ID.fullmatch(model)
    )
    if not named and (workspace is not None or model is None):
        _require(workspace, model, need_workspace=need_workspace, need_model=need_model)
        return Client(config=config)
    client = Client(config=config)
    try:
        if workspace is not None and not WORKSPACE_ID.fullmatch(workspace):
            workspace = match_name(
                "workspace", workspace, [(item.id, item.name) for item in client.workspaces.list()]
            )
        if model is not None and not MODEL_ID.fullmatch(model):
            candidates = client.models.list(workspace or "*")
            model = match_name("model", model, [(item.id, item.name) for item in candidates])
        if model is not None and workspace is None:
            workspace = _workspace_of(client, model)
        _require(workspace, model, need_workspace=need_workspace, need_model=need_model)
        resolved = client.with_options(workspace_id=workspace, model_id=model)
    finally:
        client.close()  # a copy keeps the shared sign-in alive
    return resolved


def _require(
    workspace: str | None, model: str | None, *, need_workspace: bool, need_model: bool
) -> None:
    if need_model and model is None:
        raise ConfigurationError(
            "no model: pass --model ID|NAME or set ANAPLAN_MODEL_ID "
            "(`anaplan-tasks models` lists them)"
        )
    if need_workspace and workspace is None:
        raise ConfigurationError(
            "no workspace: pass --workspace ID|NAME or set ANAPLAN_WORKSPACE_ID "
            "(`anaplan-tasks workspaces` lists them)"
        )


def resolve_model(client: Client, wanted: str) -> str:
    """A model id from an id or a name (names looked up in the client's workspace first)."""
    from .._core.scope import MODEL_ID, match_name

    if MODEL_ID.fullmatch(wanted):
        return wanted
    candidates = client.models.list()
    matches = [model for model in candidates if model.name.casefold() == wanted.casefold()]
    if not matches:
        candidates = client.models.list("*")
    return match_name("model", wanted, [(item.id, item.name) for item in candidates])


def _workspace_of(client: Client, model_id: str) -> str:
    for model in client.models.list("*"):
        if model.id == model_id and model.current_workspace_id:
            return model.current_workspace_id
    raise ConfigurationError(
        f"model {model_id} is not in any workspace you can see: pass --workspace too"
    )
