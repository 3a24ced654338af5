"""How SLA time is counted: wall-clock time, or business hours in a time zone.

All arithmetic is in integer microseconds since the Unix epoch (UTC), so the same history
gives exactly the same figures on every machine.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROS = 1_000_000
_ONE_US = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """Exact microseconds since the epoch (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _ONE_US


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class Clock(Protocol):
    def elapsed(self, start: int, end: int) -> int:
        """Counted microseconds between two instants (0 when ``end <= start``)."""
        ...

    def describe(self) -> str: ...


class CalendarTime:
    """Every second counts (the default when no business calendar is given)."""

    def elapsed(self, start: int, end: int) -> int:
        return end - start if end > start else 0

    def describe(self) -> str:
        return "calendar time"


Window = tuple[int, int]
"""Open hours of one day as (start, end) microseconds after local midnight."""


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly open hours (Monday = 0) and holidays, in one time zone.

    A day's windows are placed on the local calendar with the zone's offset of that day, so
    daylight-saving changes move them with the wall clock.
    """

    time_zone: str = "UTC"
    weekly: tuple[tuple[Window, ...], ...] = field(
        default_factory=lambda: (
            (*tuple(((9 * 3600 * MICROS, 17 * 3600 * MICROS),) for _ in range(5)), (), ())
        )
    )
    holidays: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly hours need 7 days, Monday first")
        for day in self.weekly:
            for start, end in day:
                if not 0 <= start < end <= 24 * 3600 * MICROS:
                    raise ValueError("each open window must start before it ends, within a day")
        object.__setattr__(self, "holidays", tuple(sorted(set(self.holidays))))
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))
        week = sum(end - start for day in self.weekly for start, end in day)
        object.__setattr__(self, "_week", week)

    def describe(self) -> str:
        return f"business hours ({self.time_zone}, {len(self.holidays)} holidays)"

    def elapsed(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        zone: ZoneInfo = self._zone  # type: ignore[attr-defined]
        first = from_micros(start).astimezone(zone).date()
        last = from_micros(end).astimezone(zone).date()
        if first == last:
            return self._open_between(first, start, end)
        total = self._open_between(first, start, end) + self._open_between(last, start, end)
        day = first + timedelta(days=1)
        # Whole days in between: whole weeks at once, then the rest day by day.
        whole_days = (last - day).days
        weeks, _ = divmod(whole_days, 7)
        total += weeks * self._week  # type: ignore[attr-defined]
        lo = bisect_left(self.holidays, day)
        hi = bisect_left(self.holidays, day + timedelta(days=7 * weeks))
        total -= sum(self._day_total(h) for h in self.holidays[lo:hi])
        day += timedelta(days=7 * weeks)
        while day < last:
            if not self._is_holiday(day):
                total += self._day_total(day)
            day += timedelta(days=1)
        return total

    def _is_holiday(self, day: date) -> bool:
        i = bisect_right(self.holidays, day)
        return i > 0 and self.holidays[i - 1] == day

    def _day_total(self, day: date) -> int:
        return sum(end - start for start, end in self.weekly[day.weekday()])

    def _open_between(self, day: date, start: int, end: int) -> int:
        """Open microseconds of ``day`` (local) that fall within [start, end)."""
        if self._is_holiday(day):
            return 0
        zone: ZoneInfo = self._zone  # type: ignore[attr-defined]
        midnight = datetime.combine(day, time(), tzinfo=zone)
        # Local wall-clock offsets within the day; UTC instant via the offset of that moment.
        total = 0
        for w_start, w_end in self.weekly[day.weekday()]:
            a = to_micros(_local(midnight, w_start, zone))
            b = to_micros(_local(midnight, w_end, zone))
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
        return total


def _local(midnight: datetime, offset: int, zone: ZoneInfo) -> datetime:
    wall = midnight.replace(tzinfo=None) + timedelta(microseconds=offset)
    return wall.replace(tzinfo=zone)
