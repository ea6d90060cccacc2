"""The Time dimension of a model with a Calendar Months/Quarters/Years calendar: its months,
and the quarter, year and all-periods totals the calendar's `totalsSelection` switches on.

A module dimensioned by `Time` keeps its cells by month label (`Jan 25`, as Anaplan writes
periods in exports and accepts them in imports); the totals are aggregates, computed when a view
shows them. Periods are listed as Anaplan's time scale shows them: each total right after the
months it sums (`Jan 25`, `Feb 25`, `Mar 25`, `Q1 FY25`, …, `FY25`), `All Periods` last.

Ids (10 digits, invented but stable across restarts and fiscal-year moves): a month is
`5YYYY000MM` (its calendar year and month), a quarter `4FFFF0000Q` and a year `2FFFF00000` (FFFF
the fiscal year, named by the calendar year it ends in), `All Periods` `1000000000`.
"""

from __future__ import annotations

import calendar as months
from dataclasses import dataclass
from datetime import date

from ..definitions import CalendarDef

TIME_ID = "20000000003"
"""The Time dimension."""

TIME_NAME = "Time"

ALL_PERIODS = "All Periods"

QUARTER_TOTALS = True
HALF_YEAR_TOTALS = False
TOTAL_OF_ALL_PERIODS = True
"""The totals the emulator's calendar shows (its `totalsSelection`)."""


@dataclass(frozen=True)
class Period:
    """One period of the time scale: a month, or a total of months."""

    id: str
    label: str
    level: str  # "Month", "Quarter", "Year" or "All"
    months: tuple[str, ...]  # the labels of the months it sums (a month: itself)
    first_day: date | None = None  # a month's first day

    @property
    def is_total(self) -> bool:
        """Whether the period is an aggregate (not a month)."""
        return self.level != "Month"


def month_label(day: date) -> str:
    """`Mar 25`: the month holding the day, as Anaplan labels it."""
    return f"{months.month_abbr[day.month]} {day.year % 100:02d}"


def fiscal_start(calendar: CalendarDef) -> date:
    """The first day of the current fiscal year's first month."""
    return date.fromisoformat(calendar.fiscal_year_start).replace(day=1)


def _add_months(day: date, count: int) -> date:
    total = day.year * 12 + day.month - 1 + count
    return date(total // 12, total % 12 + 1, 1)


def periods(calendar: CalendarDef) -> list[Period]:
    """Every period of the time scale, in the order Anaplan shows them."""
    start = fiscal_start(calendar)
    first = start.replace(year=start.year - calendar.past_years)
    found: list[Period] = []
    every: list[str] = []
    for year in range(calendar.past_years + 1 + calendar.future_years):
        year_start = _add_months(first, 12 * year)
        end_year = _add_months(year_start, 11).year
        fy = f"FY{end_year % 100:02d}"
        year_months: list[str] = []
        for quarter in range(4):
            quarter_months: list[str] = []
            for position in range(3):
                day = _add_months(year_start, 3 * quarter + position)
                label = month_label(day)
                found.append(
                    Period(f"5{day.year:04d}{day.month:05d}", label, "Month", (label,), day)
                )
                quarter_months.append(label)
            if QUARTER_TOTALS:
                found.append(
                    Period(
                        f"4{end_year:04d}{quarter + 1:05d}",
                        f"Q{quarter + 1} {fy}",
                        "Quarter",
                        tuple(quarter_months),
                    )
                )
            year_months += quarter_months
        found.append(Period(f"2{end_year:04d}00000", fy, "Year", tuple(year_months)))
        every += year_months
    if TOTAL_OF_ALL_PERIODS:
        found.append(Period("1000000000", ALL_PERIODS, "All", tuple(every)))
    return found


def month_of(label: str, calendar: CalendarDef) -> Period | None:
    """The month a label names (case-insensitive), or None."""
    wanted = label.strip().lower()
    return next(
        (p for p in periods(calendar) if p.level == "Month" and p.label.lower() == wanted), None
    )


def months_before(calendar: CalendarDef, day: date) -> frozenset[str]:
    """The labels of the time scale's months that start before `day`'s month."""
    first = day.replace(day=1)
    return frozenset(
        p.label for p in periods(calendar) if p.first_day is not None and p.first_day < first
    )
