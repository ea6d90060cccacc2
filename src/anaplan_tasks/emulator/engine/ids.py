"""Identifiers shaped like Anaplan's (§1.4 of the API reference).

Workspace, model, user and customer ids are derived from names, so a definition loaded again
(after a restart, or into a fresh data directory) gets the same ids. Task ids are random. Numeric
model-object ids (`112…`, `113…`, `116…`, `117…`, `118…`) are counters kept by the store.
"""

from __future__ import annotations

import hashlib
import uuid

CUSTOMER_ID = hashlib.md5(b"anaplan-tasks emulator customer").hexdigest()
"""The one tenant (customer) every emulated user belongs to: 32 lower-case hex."""


def _digest(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def workspace_id(name: str) -> str:
    """A workspace id: 32 lower-case hex characters."""
    return _digest(f"workspace:{name}")


def model_id(workspace_name: str, model_name: str) -> str:
    """A model id: 32 upper-case hex characters."""
    return _digest(f"model:{workspace_name}:{model_name}").upper()


def user_id(email: str) -> str:
    """A user guid: 32 lower-case hex characters."""
    return _digest(f"user:{email.lower()}")


def new_task_id() -> str:
    """A fresh task id: 32 upper-case hex characters."""
    return uuid.uuid4().hex.upper()
