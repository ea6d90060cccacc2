"""The model calendar (Calendar Months/Quarters/Years), its current period, the fiscal year, and
versions with their switchover.

They are part of the model's structure (`ModelDef.calendar`, `ModelDef.versions`): a change over
the API saves a new structure version, so it survives restarts and ALM sees it.
"""

from __future__ import annotations

import calendar as months
from datetime import date
from typing import Any

from .. import errors
from ..definitions import CalendarDef, ModelDef, VersionDef
from .lists import ModelHost
from .timescale import HALF_YEAR_TOTALS, QUARTER_TOTALS, TOTAL_OF_ALL_PERIODS

CALENDAR_TYPE = "Calendar Months/Quarters/Years"
START_OF_TIMESCALE = {"periodText": "Start of Timescale", "date": "1900-01-01"}
END_OF_TIMESCALE = {"periodText": "End of Timescale", "date": "2399-12-31"}


def _add_years(day: date, years: int) -> date:
    return day.replace(year=day.year + years)


def _month_end(day: date) -> date:
    return day.replace(day=months.monthrange(day.year, day.month)[1])


def period_text(day: date) -> str:
    """`Mar 25`: the month holding the day, as Anaplan labels it."""
    return f"{months.month_abbr[day.month]} {day.year % 100:02d}"


def _parse_date(text: str) -> date:
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or len(text) != 10:
        raise errors.BadRequest(
            f"Invalid ISO date format '{text}'. Date should match format YYYY-MM-DD"
        )
    return parsed


class TimeSettings:
    """The time settings of one model."""

    def __init__(self, host: ModelHost, model_id: str):
        self.host = host
        self.model_id = model_id
        self.catalog = host.catalog_of(model_id)
        self.calendar: CalendarDef = self.catalog.structure.calendar

    # -- the time scale ----------------------------------------------------------------------
    @property
    def fiscal_start(self) -> date:
        return date.fromisoformat(self.calendar.fiscal_year_start)

    def fiscal_label(self, start: date | None = None) -> str:
        """`FY25`: the fiscal year named by the year it ends in."""
        begin = start or self.fiscal_start
        end = date.fromordinal(_add_years(begin, 1).toordinal() - 1)
        return f"FY{end.year % 100:02d}"

    @property
    def timescale(self) -> tuple[date, date]:
        start = _add_years(self.fiscal_start, -self.calendar.past_years)
        end = date.fromordinal(
            _add_years(self.fiscal_start, 1 + self.calendar.future_years).toordinal() - 1
        )
        return start, end

    def fiscal_year(self) -> dict[str, str]:
        return {
            "year": self.fiscal_label(),
            "startDate": self.fiscal_start.isoformat(),
            "endDate": date.fromordinal(
                _add_years(self.fiscal_start, 1).toordinal() - 1
            ).isoformat(),
        }

    # -- current period ----------------------------------------------------------------------
    def current_period(self) -> dict[str, str]:
        """`periodText`, `lastDay` (blank when unset) and `calendarType`."""
        current = self.calendar.current_period
        if current is None:
            return {"periodText": "", "lastDay": "", "calendarType": CALENDAR_TYPE}
        day = date.fromisoformat(current)
        return {
            "periodText": period_text(day),
            "lastDay": _month_end(day).isoformat(),
            "calendarType": CALENDAR_TYPE,
        }

    def set_current_period(self, text: str) -> dict[str, str]:
        """Make the month holding `text` current (blank resets it)."""
        if text == "":
            self._save(calendar=self.calendar.model_copy(update={"current_period": None}))
            return self.current_period()
        day = _parse_date(text)
        start, end = self.timescale
        if not start <= day <= end:
            raise errors.BadRequest(
                f"Specified date '{text}' is out of timescale range {start.isoformat()} - "
                f"{end.isoformat()}"
            )
        self._save(calendar=self.calendar.model_copy(update={"current_period": day.isoformat()}))
        return self.current_period()

    def model_calendar(self) -> dict[str, Any]:
        current = self.current_period()
        return {
            "calendarType": CALENDAR_TYPE,
            "fiscalYear": self.fiscal_year(),
            "pastYearsCount": self.calendar.past_years,
            "futureYearsCount": self.calendar.future_years,
            "currentPeriod": {"periodText": current["periodText"], "lastDay": current["lastDay"]},
            "totalsSelection": {
                "quarterTotals": QUARTER_TOTALS,
                "halfYearTotals": HALF_YEAR_TOTALS,
                "yearToDateSummary": False,
                "yearToGoSummary": False,
                "totalOfAllPeriods": TOTAL_OF_ALL_PERIODS,
            },
        }

    def set_fiscal_year(self, label: str) -> dict[str, Any]:
        """Move the fiscal year to `FY26` (or `2026`), within ten years of the present one."""
        digits = label.upper().removeprefix("FY")
        if not digits.isdigit():
            raise errors.BadRequest(f"Invalid fiscal year '{label}'")
        number = int(digits)
        current_end_year = int(self.fiscal_label()[2:])
        year = number if number >= 100 else (self._century() + number)
        shift = year - (self._century() + current_end_year)
        if abs(shift) > 10:
            raise errors.BadRequest(f"Specified year is out of range: {year}")
        start = _add_years(self.fiscal_start, shift)
        self._save(
            calendar=self.calendar.model_copy(update={"fiscal_year_start": start.isoformat()})
        )
        return {"fiscalYear": self.fiscal_year()}

    def _century(self) -> int:
        end = date.fromordinal(_add_years(self.fiscal_start, 1).toordinal() - 1)
        return end.year - end.year % 100

    # -- versions ----------------------------------------------------------------------------
    def versions(self) -> list[dict[str, Any]]:
        """`versionMetadata`: unset fields left out."""
        found = []
        for version in self.catalog.structure.versions:
            entry: dict[str, Any] = {
                "id": self.catalog.id_of("version", version.name),
                "name": version.name,
                "isCurrent": version.current,
                "isActual": version.actual,
                "editFrom": dict(START_OF_TIMESCALE),
                "editTo": dict(END_OF_TIMESCALE),
            }
            if version.switchover is not None:
                day = date.fromisoformat(version.switchover)
                entry["switchover"] = {"periodText": period_text(day), "date": day.isoformat()}
            found.append(entry)
        return found

    def set_switchover(self, version_id: str, text: str) -> dict[str, str]:
        """Set (or, with `""`, clear) a forecast version's switchover to the month of a date."""
        versions = list(self.catalog.structure.versions)
        position = next(
            (
                i
                for i, v in enumerate(versions)
                if self.catalog.ids.get(("version", v.name)) == version_id
            ),
            None,
        )
        if position is None:
            raise errors.NotFound(f"Version {version_id} not found")
        version: VersionDef = versions[position]
        if version.actual:
            raise errors.BadRequest("The switchover of the actual version cannot be set.")
        if text == "":
            versions[position] = version.model_copy(update={"switchover": None})
            self._save(versions=versions)
            return {"periodText": "", "date": "", "calendarType": CALENDAR_TYPE}
        day = _parse_date(text)
        start, end = self.timescale
        if not start <= day <= end:
            raise errors.BadRequest(
                f"Specified date '{text}' is out of timescale range {start.isoformat()} - "
                f"{end.isoformat()}"
            )
        first = day.replace(day=1)
        versions[position] = version.model_copy(update={"switchover": first.isoformat()})
        self._save(versions=versions)
        return {
            "periodText": period_text(first),
            "date": first.isoformat(),
            "calendarType": CALENDAR_TYPE,
        }

    def _save(self, **changes: Any) -> None:
        structure: ModelDef = self.catalog.structure.model_copy(update=changes)
        replace = self.host.replace_structure
        replace(self.model_id, structure)
        self.catalog = self.host.catalog_of(self.model_id)
        self.calendar = self.catalog.structure.calendar
