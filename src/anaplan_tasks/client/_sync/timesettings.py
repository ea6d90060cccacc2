# Generated from src/anaplan_tasks/client/_async/timesettings.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
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
from .runner import Namespace


def _day(value: str | date) -> str:
    return value.isoformat() if isinstance(value, date) else value


class Calendar(Namespace):
    """`client.calendar`: the model calendar, current period and fiscal year."""

    def get(self) -> ModelCalendar:
        """The model calendar."""
        return self._run(core.model_calendar(self._ctx))

    def current_period(self) -> CurrentPeriod:
        """The current period (blank when none is set)."""
        return self._run(core.current_period(self._ctx))

    def set_current_period(self, day: str | date) -> CurrentPeriod:
        """Make the period holding `day` current (`""` clears it). Changing time settings can
        drop periods and their data in Anaplan."""
        return self._run(core.set_current_period(self._ctx, _day(day)))

    def set_fiscal_year(self, year: str) -> FiscalYear:
        """Move the current fiscal year (`"FY26"`)."""
        return self._run(core.set_fiscal_year(self._ctx, year))


class Versions(Namespace):
    """`client.versions`: the model's versions and their switchover."""

    def list(self) -> builtins.list[Version]:
        """Every version."""
        return self._run(core.list_versions(self._ctx))

    def set_switchover(self, version: str, day: str | date) -> Switchover:
        """Set a forecast version's (id or name) switchover to the period holding `day`."""
        version_id = version
        if not version.isdigit():
            found = {v.name: v.id for v in self.list()}
            if version not in found:
                raise core._closest("version", version, builtins.list(found))
            version_id = found[version]
        return self._run(core.set_switchover(self._ctx, version_id, _day(day)))


class Users(Namespace):
    """`client.users`: the signed-in user and the tenant's users."""

    def me(self) -> User:
        """The signed-in user."""
        return self._run(core.get_user(self._ctx, "me"))

    def get(self, user_id: str) -> User:
        """One user of the tenant."""
        return self._run(core.get_user(self._ctx, user_id))

    def list(self, *, sort: Sequence[str] = ()) -> builtins.list[User]:
        """Every user of the tenant (Anaplan allows it to workspace administrators).

        Args:
            sort: Fields to order by, first key first, `-` before a field for descending:
                `["lastName", "-lastLoginDate"]`. Anaplan sorts by `firstName`, `lastName`,
                `email`, `active` and `lastLoginDate`; another field raises ValueError.
        """
        return self._run(core.list_users(self._ctx, tuple(sort)))
