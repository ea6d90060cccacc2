"""`AnaplanHook`: a `Client` / `AsyncClient` built from an Airflow connection of type `anaplan`.

The connection's fields:

| field | holds |
|---|---|
| host | base URL, for the emulator only (`http://127.0.0.1:8080`); empty for Anaplan |
| login | the e-mail (basic sign-in) |
| password | the password (basic), the private key's password (certificate) or the token |
| extra `workspace`, `model` | the default workspace and model, ids or names |
| extra `auth_type` | `basic` (default), `certificate`, `token` or `oauth` |
| extra `certificate`, `private_key` | certificate sign-in: paths, or the PEM text itself |
| extra `oauth_client_id`, `token_store` | OAuth: the client, and the file a sign-in was saved to |

For OAuth, sign in once with `ANAPLAN_TOKEN_STORE=PATH anaplan-tasks login` (or
`device_login(store=PATH)`) where the workers and the triggerer can read PATH; the password
holds the OAuth client's secret, if it has one.
| extra `api_base_url`, `auth_base_url`, `timeout` | optional overrides |
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from airflow.sdk import BaseHook

from ..client import AsyncClient, Client, ClientConfig

AUTH_TYPES = ("basic", "certificate", "token", "oauth")


class AnaplanHook(BaseHook):
    """Build an Anaplan client from a connection; nothing more.

    Args:
        anaplan_conn_id: The connection (type `anaplan`).
        workspace: Overrides the connection's workspace (id or name).
        model: Overrides the connection's model (id or name).
    """

    conn_name_attr = "anaplan_conn_id"
    default_conn_name = "anaplan_default"
    conn_type = "anaplan"
    hook_name = "Anaplan"

    _pem_files: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        anaplan_conn_id: str = default_conn_name,
        *,
        workspace: str | None = None,
        model: str | None = None,
    ):
        super().__init__()
        self.anaplan_conn_id = anaplan_conn_id
        self.workspace = workspace
        self.model = model

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the connection form shows the standard fields."""
        return {
            "hidden_fields": ["schema", "port"],
            "relabeling": {
                "host": "Base URL (emulator only; empty for Anaplan)",
                "login": "E-mail (basic sign-in)",
                "password": "Password, private key password or token",
            },
            "placeholders": {
                "host": "http://127.0.0.1:8080",
                "extra": '{"workspace": "Demo Workspace", "model": "FP&A Dev"}',
            },
        }

    def settings(self, connection: Any) -> dict[str, Any]:
        """The `Client` keyword arguments a connection stands for (no environment read)."""
        raw: dict[str, Any] = dict(connection.extra_dejson or {})
        # The UI's form fields may arrive prefixed, as older Airflow stored them.
        extra = {key.removeprefix("extra__anaplan__"): value for key, value in raw.items()}
        auth_type = str(extra.get("auth_type") or "basic").lower()
        if auth_type not in AUTH_TYPES:
            raise ValueError(
                f"connection {self.anaplan_conn_id}: auth_type {auth_type!r} is not one of "
                f"{', '.join(AUTH_TYPES)}"
            )
        settings: dict[str, Any] = {
            "workspace_id": self.workspace or extra.get("workspace") or None,
            "model_id": self.model or extra.get("model") or None,
            "env": {},
        }
        if connection.host:
            host = str(connection.host)
            settings["base_url"] = host if "://" in host else f"https://{host}"
        for key in ("api_base_url", "auth_base_url"):
            if extra.get(key):
                settings[key] = str(extra[key])
        if extra.get("timeout"):
            settings["timeout"] = float(extra["timeout"])
        if auth_type == "basic":
            settings["email"] = connection.login
            settings["password"] = connection.password
        elif auth_type == "token":
            settings["token"] = connection.password or extra.get("token")
        elif auth_type == "oauth":
            if not extra.get("oauth_client_id") or not extra.get("token_store"):
                raise ValueError(
                    f"connection {self.anaplan_conn_id}: OAuth sign-in needs the extras "
                    "oauth_client_id and token_store (the file a sign-in was saved to)"
                )
            settings["oauth_client_id"] = str(extra["oauth_client_id"])
            settings["token_store"] = str(extra["token_store"])
            settings["oauth_client_secret"] = connection.password or None
            if extra.get("oauth_base_url"):
                settings["oauth_base_url"] = str(extra["oauth_base_url"])
        else:
            settings["certificate"] = _pem_path(extra.get("certificate"), "certificate")
            settings["private_key"] = _pem_path(extra.get("private_key"), "private_key")
            settings["private_key_password"] = connection.password or None
        return settings

    def config(self) -> ClientConfig:
        """The connection's client settings, resolved."""
        return ClientConfig.resolve(**self.settings(self.get_connection(self.anaplan_conn_id)))

    async def aconfig(self) -> ClientConfig:
        """`config()` for the triggerer's event loop (the connection is read without blocking)."""
        connection = await self.aget_connection(self.anaplan_conn_id)
        return ClientConfig.resolve(**self.settings(connection))

    def get_conn(self) -> Client:
        """A new `Client` (use it as a context manager: it signs out on close)."""
        return Client(config=self.config())

    async def get_async_conn(self) -> AsyncClient:
        """A new `AsyncClient` (use it as an async context manager)."""
        return AsyncClient(config=await self.aconfig())

    def test_connection(self) -> tuple[bool, str]:
        """Sign in and read the model's imports (the UI's Test button)."""
        try:
            with self.get_conn() as client:
                if client.config.model_id:
                    count = len(client.imports.list())
                    return True, f"signed in; {count} imports in model {client.config.model_id}"
                workspaces = client.workspaces.list()
                return True, f"signed in; {len(workspaces)} workspaces visible"
        except Exception as error:
            return False, f"{type(error).__name__}: {error}"


def _pem_path(value: Any, what: str) -> str | None:
    """A path for a certificate or key given as a path or as PEM text (written once, 0600)."""
    if not value:
        return None
    text = str(value)
    if "-----BEGIN" not in text:
        return text
    cached = AnaplanHook._pem_files.get(text)
    if cached and Path(cached).exists():
        return cached
    handle, path = tempfile.mkstemp(prefix=f"anaplan-{what}-", suffix=".pem")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    AnaplanHook._pem_files[text] = path
    return path
