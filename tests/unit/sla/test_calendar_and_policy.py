"""Business-hours arithmetic against a brute-force count, and the policy file loader."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.common import Priority
from services.ticket_service.sla.calendar import (
    MICROS,
    BusinessCalendar,
    CalendarTime,
    from_micros,
    to_micros,
)
from services.ticket_service.sla.policy import (
    DEFAULT_TARGETS,
    PolicyError,
    load_policy,
    parse_duration,
)

H = 3600 * MICROS
CAL = BusinessCalendar(
    time_zone="Europe/Berlin",
    weekly=(
        ((9 * H, 12 * H), (13 * H, 17 * H)),
        ((9 * H, 17 * H),),
        ((9 * H, 17 * H),),
        ((9 * H, 17 * H),),
        ((9 * H, 15 * H),),
        ((10 * H, 12 * H),),
        (),
    ),
    holidays=(date(2026, 3, 31), date(2026, 4, 3), date(2026, 12, 25)),
)
START = to_micros(datetime(2026, 3, 20, tzinfo=UTC))


def brute_force(calendar: BusinessCalendar, start: int, end: int) -> int:
    """Open minutes between two minute-aligned instants, one minute at a time."""
    zone = ZoneInfo(calendar.time_zone)
    total = 0
    for minute in range(start, end, 60 * MICROS):
        local = from_micros(minute).astimezone(zone)
        if local.date() in calendar.holidays:
            continue
        offset = (local.hour * 60 + local.minute) * 60 * MICROS
        if any(a <= offset < b for a, b in calendar.weekly[local.weekday()]):
            total += 60 * MICROS
    return total


@settings(max_examples=60, deadline=None)
@given(a=st.integers(0, 40 * 24 * 60), length=st.integers(0, 20 * 24 * 60))
def test_business_time_matches_a_minute_by_minute_count(a: int, length: int) -> None:
    """Across weekends, holidays, split days and the 29 March 2026 DST change."""
    start = START + a * 60 * MICROS
    end = start + length * 60 * MICROS
    assert CAL.elapsed(start, end) == brute_force(CAL, start, end)


@given(a=st.integers(0, 10**6), b=st.integers(0, 10**6), c=st.integers(0, 10**6))
def test_business_time_adds_up(a: int, b: int, c: int) -> None:
    x, y, z = sorted(START + v * 10**7 for v in (a, b, c))
    assert CAL.elapsed(x, z) == CAL.elapsed(x, y) + CAL.elapsed(y, z)


def test_calendar_time_counts_everything_and_never_negative() -> None:
    assert CalendarTime().elapsed(10, 25) == 15
    assert CalendarTime().elapsed(25, 10) == 0


def test_durations() -> None:
    assert parse_duration("1h30m", "x") == 90 * 60 * MICROS
    assert parse_duration("2d", "x") == 48 * H
    assert parse_duration(90, "x") == 90 * MICROS
    for bad in ("", "soon", "0s", -5, True, "1h x"):
        with pytest.raises(PolicyError):
            parse_duration(bad, "targets.urgent.first_reply")


def test_toml_policy_overrides_some_targets_and_adds_a_calendar(tmp_path: Path) -> None:
    path = tmp_path / "support.toml"
    path.write_text(
        """
[targets.urgent]
first_reply = "30m"

[calendar]
time_zone = "America/New_York"
holidays = ["2026-07-03"]
[calendar.hours]
mon = ["08:00-12:00", "13:00-17:30"]
"""
    )
    policy = load_policy(path)
    assert policy.name == "support"
    assert policy.targets[Priority.URGENT].first_reply == 30 * 60 * MICROS
    assert policy.targets[Priority.URGENT].resolution == DEFAULT_TARGETS[Priority.URGENT].resolution
    assert policy.targets[Priority.LOW] == DEFAULT_TARGETS[Priority.LOW]
    assert policy.calendar is not None
    assert policy.calendar.weekly[0] == ((8 * H, 12 * H), (13 * H, 17 * H + 30 * 60 * MICROS))
    assert policy.calendar.weekly[1] == ()
    assert policy.calendar.holidays == (date(2026, 7, 3),)
    assert policy.clock is policy.calendar


def test_yaml_policy(tmp_path: Path) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(
        "name: yaml-policy\ntargets:\n  low: {resolution: 2w}\ncalendar: {time_zone: UTC}\n"
    )
    policy = load_policy(path)
    assert policy.name == "yaml-policy"
    assert policy.targets[Priority.LOW].resolution == 14 * 24 * H
    assert policy.calendar is not None and policy.calendar.weekly[0] == ((9 * H, 17 * H),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[targets.critical]\nfirst_reply = '1h'\n", "not a priority"),
        ("[targets.low]\nfirst_response = '1h'\n", "first_reply and/or resolution"),
        ("[calendar]\ntime_zone = 'Mars/Olympus'\n", "calendar"),
        ("[calendar.hours]\nmonday = ['09:00-17:00']\n", "unknown days"),
        ("[calendar.hours]\nmon = ['17:00-09:00']\n", "must start before it ends"),
        ("[calendar]\nholidays = ['christmas']\n", "YYYY-MM-DD"),
        ("surprise = 1\n", "unknown keys"),
        ("[targets\n", "support.toml"),
    ],
)
def test_invalid_policy_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "support.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_no_policy_file_means_the_defaults() -> None:
    policy = load_policy(None)
    assert policy.targets == DEFAULT_TARGETS and policy.calendar is None
    assert policy.describe().endswith("calendar time")


def test_daylight_saving_day_counts_wall_clock_hours() -> None:
    """29 March 2026 is a Sunday (closed); Monday 30 March opens 09:00 CEST = 07:00 UTC."""
    monday = to_micros(datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    assert CAL.elapsed(monday - 24 * H, monday + H) == H
    assert CAL.elapsed(monday, monday + timedelta(hours=8) // timedelta(microseconds=1)) == 7 * H
