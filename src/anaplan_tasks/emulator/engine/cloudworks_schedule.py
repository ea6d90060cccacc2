"""CloudWorks schedules: validating one, and when it next fires.

A schedule (reference §11.10) names a `type` and the fields that type needs, a `timezone` (an
IANA name), a `startDate` and an optional `endDate` (`YYYY-MM-DD`); times are `HH:mm` in that
timezone and weekdays count from 0 = Sunday. Every rule broken is Anaplan's one message,
`Invalid Schedule`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import errors

INVALID = "Invalid Schedule"

TYPES = ("hourly", "daily", "weekly", "monthly_specific_day", "monthly_relative_weekday")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_FIELDS: dict[str, tuple[str, ...]] = {
    "daily": ("time",),
    "weekly": ("time", "daysOfWeek"),
    "hourly": ("fromTime", "toTime", "daysOfWeek"),
    "monthly_specific_day": ("time", "dayOfMonth"),
    "monthly_relative_weekday": ("time", "dayOfWeek", "repeatEvery"),
}
"""The fields each type needs (an hourly schedule's `repeatEvery` defaults to 1 hour)."""
_COMMON = ("name", "type", "timezone", "startDate", "endDate", "status", "daysOfWeek")
"""Fields any schedule may carry: anaplan-sdk sends `daysOfWeek` with every type."""
_OPTIONAL = {"hourly": ("repeatEvery",)}
_HORIZON_DAYS = 800
"""How far ahead `next_fire` looks (a monthly schedule on the 31st fires within 62 days)."""


def _bad() -> errors.BadRequest:
    return errors.BadRequest(INVALID)


def _hhmm(value: Any) -> time:
    if not isinstance(value, str) or not _TIME.match(value):
        raise _bad()
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _day(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _bad()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad() from None


def _int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad()
    return value


def validate(schedule: Any, now: float) -> dict[str, Any]:
    """The schedule as stored, or `BadRequest("Invalid Schedule")`.

    Args:
        schedule: the request's `schedule` object.
        now: the emulator's clock (epoch seconds): `startDate` must not be in the past.
    """
    if not isinstance(schedule, dict):
        raise _bad()
    kind = schedule.get("type")
    if kind not in _FIELDS:
        raise _bad()
    allowed = set(_COMMON) | set(_FIELDS[kind]) | set(_OPTIONAL.get(kind, ()))
    if set(schedule) - allowed:
        raise _bad()
    for name in _FIELDS[kind]:
        if name not in schedule:
            raise _bad()
    if not isinstance(schedule.get("name"), str) or not schedule["name"].strip():
        raise _bad()
    zone = _zone(schedule.get("timezone"))
    start = _day(schedule.get("startDate"))
    end = _day(schedule["endDate"]) if schedule.get("endDate") is not None else None
    if end is not None and end < start:
        raise _bad()
    today = datetime.fromtimestamp(now, tz=zone).date()
    if start < today:
        raise _bad()
    if "time" in schedule:
        _hhmm(schedule["time"])
    if kind == "hourly":
        if _hhmm(schedule["fromTime"]) > _hhmm(schedule["toTime"]):
            raise _bad()
        _int(schedule.get("repeatEvery", 1), 1, 23)
    if "daysOfWeek" in schedule:
        days = schedule["daysOfWeek"]
        if not isinstance(days, list) or (not days and kind in ("weekly", "hourly")):
            raise _bad()
        for day in days:
            _int(day, 0, 6)
    if kind == "monthly_specific_day":
        _int(schedule["dayOfMonth"], 1, 31)
    if kind == "monthly_relative_weekday":
        _int(schedule["dayOfWeek"], 0, 6)
        _int(schedule["repeatEvery"], 1, 5)
    stored = {key: value for key, value in schedule.items() if key != "status"}
    if next_fire(stored, now - 1) is None:
        raise _bad()  # it would never fire (a start-date-only window already past, …)
    return stored


def _zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        raise _bad()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad() from None


def _anaplan_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7  # Python: Monday 0; CloudWorks: Sunday 0


def _times_on(schedule: dict[str, Any], day: date) -> list[time]:
    kind = schedule["type"]
    weekday = _anaplan_weekday(day)
    if kind == "daily":
        return [_hhmm(schedule["time"])]
    if kind == "weekly":
        return [_hhmm(schedule["time"])] if weekday in schedule["daysOfWeek"] else []
    if kind == "hourly":
        if weekday not in schedule["daysOfWeek"]:
            return []
        start, stop = _hhmm(schedule["fromTime"]), _hhmm(schedule["toTime"])
        step = int(schedule.get("repeatEvery", 1))
        return [
            time(hour, start.minute)
            for hour in range(start.hour, 24, step)
            if time(hour, start.minute) <= stop
        ]
    if kind == "monthly_specific_day":
        return [_hhmm(schedule["time"])] if day.day == schedule["dayOfMonth"] else []
    # monthly_relative_weekday: the n-th such weekday of the month (our reading, [LOW])
    nth = (day.day - 1) // 7 + 1
    if weekday == schedule["dayOfWeek"] and nth == schedule["repeatEvery"]:
        return [_hhmm(schedule["time"])]
    return []


def next_fire(schedule: dict[str, Any], after: float) -> float | None:
    """The first time (epoch seconds) strictly after `after` the schedule fires, or None."""
    zone = ZoneInfo(schedule["timezone"])
    start = date.fromisoformat(schedule["startDate"])
    end = date.fromisoformat(schedule["endDate"]) if schedule.get("endDate") else None
    day = max(start, datetime.fromtimestamp(after, tz=zone).date())
    for _ in range(_HORIZON_DAYS):
        if end is not None and day > end:
            return None
        for at in _times_on(schedule, day):
            moment = datetime.combine(day, at, tzinfo=zone).astimezone(UTC).timestamp()
            if moment > after:
                return moment
        day += timedelta(days=1)
    return None
