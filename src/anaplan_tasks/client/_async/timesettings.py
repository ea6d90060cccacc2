"""`client.calendar`, `client.versions` and `client.users`: time settings, versions and the
tenant's users (transactional API)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date

from ..._core import model_data as core
from ...models import User
from ...models.transactional import (
    CurrentPeriod,
    FiscalYear,
    ModelCalendar,
    Switchover,
    Version,
)
from .runner import AsyncNamespace


def _day(value: str | date) -> str:
    return value.isoformat() if isinstance(value, date) else value


class AsyncCalendar(AsyncNamespace):
    """`client.calendar`: the model calendar, current period and fiscal year."""

    async def get(self) -> ModelCalendar:
        """The model calendar."""
        return await self._run(core.model_calendar(self._ctx))

    async def current_period(self) -> CurrentPeriod:
        """The current period (blank when none is set)."""
        return await self._run(core.current_period(self._ctx))

    async def set_current_period(self, day: str | date) -> CurrentPeriod:
        """Make the period holding `day` current (`""` clears it). Changing time settings can
        drop periods and their data in Anaplan."""
        return await self._run(core.set_current_period(self._ctx, _day(day)))

    async def set_fiscal_year(self, year: str) -> FiscalYear:
        """Move the current fiscal year (`"FY26"`)."""
        return await self._run(core.set_fiscal_year(self._ctx, year))


class AsyncVersions(AsyncNamespace):
    """`client.versions`: the model's versions and their switchover."""

    async def list(self) -> builtins.list[Version]:
        """Every version."""
        return await self._run(core.list_versions(self._ctx))

    async def set_switchover(self, version: str, day: str | date) -> Switchover:
        """Set a forecast version's (id or name) switchover to the period holding `day`."""
        version_id = version
        if not version.isdigit():
            found = {v.name: v.id for v in await self.list()}
            if version not in found:
                raise core._closest("version", version, builtins.list(found))
            version_id = found[version]
        return await self._run(core.set_switchover(self._ctx, version_id, _day(day)))


class AsyncUsers(AsyncNamespace):
    """`client.users`: the signed-in user and the tenant's users."""

    async def me(self) -> User:
        """The signed-in user."""
        return await self._run(core.get_user(self._ctx, "me"))

    async def get(self, user_id: str) -> User:
        """One user of the tenant."""
        return await self._run(core.get_user(self._ctx, user_id))

    async def list(self, *, sort: Sequence[str] = ()) -> builtins.list[User]:
        """Every user of the tenant (Anaplan allows it to workspace administrators).

        Args:
            sort: Fields to order by, first key first, `-` before a field for descending:
                `["lastName", "-lastLoginDate"]`. Anaplan sorts by `firstName`, `lastName`,
                `email`, `active` and `lastLoginDate`; another field raises ValueError.
        """
        return await self._run(core.list_users(self._ctx, tuple(sort)))
