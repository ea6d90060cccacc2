"""CloudWorks schedules: the rules of `Invalid Schedule` and when each type fires next."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from anaplan_tasks.emulator.engine.cloudworks_schedule import INVALID, next_fire, validate
from anaplan_tasks.emulator.errors import BadRequest

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC).timestamp()  # a Friday


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def schedule(**fields: Any) -> dict[str, Any]:
    base = {"name": "s", "timezone": "Europe/London", "startDate": "2027-01-15"}
    return {**base, **fields}


def test_daily_fires_at_its_time_in_its_timezone() -> None:
    daily = validate(schedule(type="daily", time="06:30", timezone="America/New_York"), NOW)
    assert next_fire(daily, NOW) == at("2027-01-15T11:30:00+00:00")  # 06:30 EST
    assert next_fire(daily, at("2027-01-15T11:30:00+00:00")) == at("2027-01-16T11:30:00+00:00")


def test_weekly_counts_days_from_sunday_zero() -> None:
    weekly = validate(schedule(type="weekly", time="09:00", daysOfWeek=[0]), NOW)
    assert next_fire(weekly, NOW) == at("2027-01-17T09:00:00+00:00")  # Sunday


def test_hourly_repeats_between_its_times() -> None:
    hourly = validate(
        schedule(type="hourly", fromTime="09:15", toTime="13:00", repeatEvery=2, daysOfWeek=[5]),
        NOW,
    )
    fired = []
    moment = NOW
    for _ in range(3):
        moment = next_fire(hourly, moment) or 0
        fired.append(datetime.fromtimestamp(moment, tz=UTC).strftime("%a %H:%M"))
    assert fired == ["Fri 09:15", "Fri 11:15", "Fri 09:15"]  # then next Friday


def test_monthly_schedules() -> None:
    day = validate(schedule(type="monthly_specific_day", time="00:00", dayOfMonth=31), NOW)
    assert next_fire(day, NOW) == at("2027-01-31T00:00:00+00:00")
    assert next_fire(day, at("2027-01-31T00:00:00+00:00")) == at("2027-03-31T00:00:00+01:00")
    second_tuesday = validate(
        schedule(type="monthly_relative_weekday", time="12:00", dayOfWeek=2, repeatEvery=2), NOW
    )
    assert next_fire(second_tuesday, NOW) == at("2027-02-09T12:00:00+00:00")


def test_an_end_date_ends_it() -> None:
    short = validate(schedule(type="daily", time="10:00", endDate="2027-01-16"), NOW)
    assert next_fire(short, at("2027-01-16T10:00:00+00:00")) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "yearly", "time": "10:00"},
        {"type": "daily"},
        {"type": "daily", "time": "7:00"},
        {"type": "daily", "time": "10:00", "startDate": "2027-01-14"},
        {"type": "daily", "time": "10:00", "endDate": "2027-01-14"},
        {"type": "daily", "time": "10:00", "timezone": "Nowhere/Else"},
        {"type": "daily", "time": "10:00", "timezone": "../etc/passwd"},
        {"type": "daily", "time": "10:00", "colour": "blue"},
        {"type": "weekly", "time": "10:00", "daysOfWeek": []},
        {"type": "weekly", "time": "10:00", "daysOfWeek": [True]},
        {"type": "hourly", "fromTime": "12:00", "toTime": "11:00", "daysOfWeek": [1]},
        {"type": "monthly_specific_day", "time": "10:00", "dayOfMonth": 32},
        {"type": "monthly_relative_weekday", "time": "10:00", "dayOfWeek": 1, "repeatEvery": 6},
        {"type": "daily", "time": "07:00", "endDate": "2027-01-15"},  # its only turn is past
    ],
)
def test_invalid_schedules(fields: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match=INVALID):
        validate(schedule(**fields), NOW)
