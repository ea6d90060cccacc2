"""Users of the tenant (`/users`, `/users/{id}`), last logins, and model lifecycle over the
transactional API: open, close and bulk deletion of models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

from ...models import User
from .. import errors
from ..storage import UserRecord
from .base import EngineBase, page_of
from .contract import Page, Paged, Principal

MODEL_OPEN = "Model is open. Please close the model before trying again."
MODEL_UNKNOWN = "Model ID does not exist."

USER_SORT_FIELDS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "active": "active",
    "lastLoginDate": "last_login_date",
}
"""The fields `GET /users` sorts by (wire name → model field)."""


def user_sort(text: str) -> list[tuple[str, bool]]:
    """Parse `+lastName,-email` into (field, descending) pairs, with Anaplan's 400s: a field
    without its sign, and a field it does not sort by. (A `+` sent unencoded reads as a space
    in a query string; it counts as `+`.)"""
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        sign, field = part[:1], part[1:].strip()
        if sign not in ("+", "-", " ") or not field:
            raise errors.BadRequest(
                f"Bad sort order format: '{part.strip()}'. Please follow "
                "(-){column_name_1},(+){column_name_2}.. format"
            )
        if field not in USER_SORT_FIELDS:
            raise errors.BadRequest("Failed to parse sort parameter")
        order.append((USER_SORT_FIELDS[field], sign == "-"))
    return order


def _sort_value(user: User, *, field: str) -> tuple[bool, str]:
    value = getattr(user, field)
    return (value is not None, str(value).lower() if value is not None else "")


def anaplan_time(epoch_ms: int) -> str:
    """`yyyy-MM-dd'T'HH:mm:ss.SSS+0000`, the form of Anaplan's dates in user and model records."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}+0000"


class PeopleMixin(EngineBase):
    """Users, logins and model lifecycle (part of `EmulatorEngine`)."""

    _last_login: dict[str, int]
    _closed_models: set[str]

    def _note_login(self, user_id: str) -> None:
        self._last_login[user_id] = self._now_ms()

    def _user_wire(self, user: UserRecord) -> User:
        fields = {
            "id": user.id,
            "email": user.email,
            "active": True,
            "email_opt_in": False,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "customer_id": user.customer_id,
        }
        last = self._last_login.get(user.id)
        if last is not None:  # a user who never signed in has no lastLoginDate
            fields["last_login_date"] = anaplan_time(last)
        return User(**fields)

    def _require_admin(self, principal: Principal, what: str) -> None:
        if not any(self._grants.get(principal.user_id, {}).values()):
            raise errors.Forbidden(f"Only workspace administrators can {what}.")

    def tenant_users(
        self, principal: Principal, page: Page, sort: str | None = None
    ) -> Paged[User]:
        """Every user of the caller's tenant (`GET /users`); workspace administrators only.

        `sort` is Anaplan's `+field,-field` (the sign is required; see `user_sort`)."""
        self._require_admin(principal, "list the tenant's users")
        order = user_sort(sort) if sort is not None else []
        users = [
            self._user_wire(user)
            for user in self._users.values()
            if user.customer_id == principal.customer_id
        ]
        for field, descending in reversed(order):  # stable sorts, last key first
            users.sort(key=partial(_sort_value, field=field), reverse=descending)
        return page_of(users, page)

    def tenant_user(self, principal: Principal, user_id: str) -> User:
        """One user of the tenant (`GET /users/{id}`; `me` is the caller)."""
        if user_id in ("me", principal.user_id):
            found = self._users_by_id.get(principal.user_id)
        else:
            self._require_admin(principal, "read other users")
            found = self._users_by_id.get(user_id)
        if found is None or found.customer_id != principal.customer_id:
            raise errors.NotFound(f"User {user_id} not found")
        return self._user_wire(found)

    def workspace_members(
        self, principal: Principal, workspace_id: str, *, admins: bool
    ) -> list[dict[str, object]]:
        """A workspace's administrators (or its other members, the visitors' listing).

        Entries have no id; `otherWorkspaces` names the member's other workspaces. The caller
        must administer the workspace (Anaplan wants a tenant user-administration role).
        """
        granted = self._grants.get(principal.user_id, {})
        if workspace_id not in self._workspaces or workspace_id not in granted:
            raise errors.NotFound(f"Workspace {workspace_id} not found")
        if not granted[workspace_id]:
            raise errors.Forbidden("Only workspace administrators can list its members.")
        found: list[dict[str, object]] = []
        for user_id, workspaces in self._grants.items():
            if workspaces.get(workspace_id) is None or workspaces[workspace_id] != admins:
                continue
            user = self._users_by_id.get(user_id)
            if user is None:
                continue
            others = [
                self._workspaces[other].name
                for other in workspaces
                if other != workspace_id and other in self._workspaces
            ]
            found.append(
                {
                    "firstName": user.first_name,
                    "lastName": user.last_name,
                    "email": user.email,
                    "active": True,
                    "otherWorkspaces": others,
                }
            )
        return sorted(found, key=lambda entry: str(entry["email"]))

    # -- model lifecycle ---------------------------------------------------------------------
    def is_closed(self, model_id: str) -> bool:
        """True once a model was closed and not opened again."""
        return model_id in self._closed_models

    def open_model(self, principal: Principal, model_id: str) -> bool:
        """Open (load) a model; True when it was closed (Anaplan answers 202, else 200)."""
        self._visible(principal, model_id)
        with self._lock:
            was_closed = model_id in self._closed_models
            self._closed_models.discard(model_id)
        return was_closed

    def close_model(self, principal: Principal, model_id: str) -> None:
        """Close (unload) a model; tasks and transactional calls open it again."""
        self._visible(principal, model_id)
        with self._lock:
            self._closed_models.add(model_id)

    def delete_models(
        self, principal: Principal, workspace_id: str, model_ids: Sequence[str]
    ) -> tuple[int, list[tuple[str, str]]]:
        """Delete closed models of a workspace; returns the count and `(model id, message)`
        failures (an open model, an unknown id)."""
        if workspace_id not in self._workspaces or workspace_id not in self._grants.get(
            principal.user_id, {}
        ):
            raise errors.NotFound(f"Workspace {workspace_id} not found")
        if not self._grants[principal.user_id][workspace_id]:
            raise errors.Forbidden("Only workspace administrators can delete models.")
        failures: list[tuple[str, str]] = []
        deleted = 0
        for model_id in model_ids:
            model = self._models.get(model_id)
            if model is None or model.workspace_id != workspace_id:
                failures.append((model_id, MODEL_UNKNOWN))
                continue
            running = any(live.model_id == model_id for live in self._live.values())
            if model_id not in self._closed_models or running:
                failures.append((model_id, MODEL_OPEN))
                continue
            self._store.delete_model(model_id)
            with self._lock:
                self._models.pop(model_id, None)
                self._catalogs.pop(model_id, None)
                self._closed_models.discard(model_id)
            deleted += 1
        return deleted, failures
