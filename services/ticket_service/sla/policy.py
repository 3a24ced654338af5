"""SLA targets per priority, with defaults, and the policy file that overrides them.

A policy file is TOML (``.toml``) or YAML (``.yaml``/``.yml``)::

    name = "support-2026"

    [targets.urgent]
    first_reply = "1h"
    resolution = "8h"

    [calendar]                      # optional: without it, calendar time counts
    time_zone = "Europe/Berlin"
    holidays = ["2026-12-25"]
    [calendar.hours]                # days not listed are closed
    mon = ["09:00-17:00"]
    fri = ["09:00-12:00", "13:00-15:00"]

Durations are ``<n><unit>`` parts (``s``, ``m``, ``h``, ``d``, ``w``), e.g. ``1h30m``, or a
number of seconds. Priorities not listed keep their default targets.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from contracts.common import Priority
from services.ticket_service.sla.calendar import MICROS, BusinessCalendar, CalendarTime, Clock

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class PolicyError(ValueError):
    """The policy file is not valid; the message says where."""


@dataclass(frozen=True)
class Targets:
    """Target durations in microseconds of counted time."""

    first_reply: int
    resolution: int


HOUR = 3600 * MICROS
DEFAULT_TARGETS: dict[Priority, Targets] = {
    Priority.URGENT: Targets(first_reply=1 * HOUR, resolution=8 * HOUR),
    Priority.HIGH: Targets(first_reply=4 * HOUR, resolution=24 * HOUR),
    Priority.NORMAL: Targets(first_reply=8 * HOUR, resolution=72 * HOUR),
    Priority.LOW: Targets(first_reply=24 * HOUR, resolution=168 * HOUR),
}


@dataclass(frozen=True)
class SlaPolicy:
    name: str = "default"
    targets: dict[Priority, Targets] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    calendar: BusinessCalendar | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "clock", self.calendar or CalendarTime())

    clock: Clock = field(init=False, repr=False, compare=False, default=CalendarTime())

    def for_priority(self, priority: str) -> Targets:
        try:
            return self.targets[Priority(priority)]
        except ValueError:
            return self.targets[Priority.NORMAL]

    def describe(self) -> str:
        parts = [
            f"{p.value} {format_duration(t.first_reply)}/{format_duration(t.resolution)}"
            for p, t in sorted(self.targets.items(), key=lambda kv: _PRIORITY_ORDER[kv[0]])
        ]
        return f"{self.name}: {', '.join(parts)} (first reply/resolution), {self.clock.describe()}"


_PRIORITY_ORDER = {p: i for i, p in enumerate(Priority)}


def parse_duration(value: Any, where: str) -> int:
    """A duration in microseconds from ``"1h30m"``-style text or a number of seconds."""
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.replace(" ", "")
        parts = _PART.findall(text)
        if "".join(n + u for n, u in parts) != text:
            raise PolicyError(f"{where}: cannot read duration {value!r} (try '4h' or '1d12h')")
        seconds = sum(int(n) * _UNIT[u] for n, u in parts)
    else:
        raise PolicyError(f"{where}: expected a duration, got {value!r}")
    if seconds <= 0:
        raise PolicyError(f"{where}: a target must be positive, got {value!r}")
    return round(seconds * MICROS)


def format_duration(micros: int) -> str:
    """Short text for a target (``8h``, ``1d12h``)."""
    seconds = micros // MICROS
    out = []
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, _UNIT[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out) or "0s"


def parse_policy(raw: dict[str, Any], name: str = "custom") -> SlaPolicy:
    unknown = set(raw) - {"name", "targets", "calendar"}
    if unknown:
        raise PolicyError(f"unknown keys: {', '.join(sorted(unknown))}")
    targets = dict(DEFAULT_TARGETS)
    for key, spec in (raw.get("targets") or {}).items():
        try:
            priority = Priority(key)
        except ValueError:
            raise PolicyError(f"targets.{key}: not a priority (low|normal|high|urgent)") from None
        if not isinstance(spec, dict) or set(spec) - {"first_reply", "resolution"}:
            raise PolicyError(f"targets.{key}: give first_reply and/or resolution")
        base = targets[priority]
        targets[priority] = Targets(
            first_reply=parse_duration(spec["first_reply"], f"targets.{key}.first_reply")
            if "first_reply" in spec
            else base.first_reply,
            resolution=parse_duration(spec["resolution"], f"targets.{key}.resolution")
            if "resolution" in spec
            else base.resolution,
        )
    calendar = _parse_calendar(raw["calendar"]) if raw.get("calendar") else None
    return SlaPolicy(name=str(raw.get("name", name)), targets=targets, calendar=calendar)


def _parse_calendar(raw: dict[str, Any]) -> BusinessCalendar:
    unknown = set(raw) - {"time_zone", "hours", "holidays"}
    if unknown:
        raise PolicyError(f"calendar: unknown keys: {', '.join(sorted(unknown))}")
    hours = raw.get("hours")
    if hours is None:
        weekly = BusinessCalendar().weekly
    else:
        bad = set(hours) - set(_DAYS)
        if bad:
            raise PolicyError(f"calendar.hours: unknown days {sorted(bad)}; use {', '.join(_DAYS)}")
        weekly = tuple(
            tuple(_window(w, f"calendar.hours.{d}") for w in hours.get(d, [])) for d in _DAYS
        )
    holidays = []
    for h in raw.get("holidays", []):
        try:
            holidays.append(h if isinstance(h, date) else date.fromisoformat(str(h)))
        except ValueError:
            raise PolicyError(f"calendar.holidays: {h!r} is not a YYYY-MM-DD date") from None
    try:
        return BusinessCalendar(
            time_zone=str(raw.get("time_zone", "UTC")), weekly=weekly, holidays=tuple(holidays)
        )
    except (ValueError, KeyError) as error:
        raise PolicyError(f"calendar: {error}") from None


def _window(text: Any, where: str) -> tuple[int, int]:
    match = _WINDOW.match(str(text))
    if not match:
        raise PolicyError(f"{where}: {text!r} is not like '09:00-17:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = (h1 * 60 + m1) * 60 * MICROS, (h2 * 60 + m2) * 60 * MICROS
    if not (m1 < 60 and m2 < 60 and 0 <= start < end <= 24 * HOUR):
        raise PolicyError(f"{where}: {text!r} must start before it ends, within the day")
    return start, end


def load_policy(path: Path | None) -> SlaPolicy:
    """The policy in ``path`` (TOML or YAML by suffix), or the defaults when ``None``."""
    if path is None:
        return SlaPolicy()
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in {".yaml", ".yml"}:
            raw = yaml.safe_load(text) or {}
        else:
            raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise PolicyError(f"{path}: {error}") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: expected a table of settings")
    return parse_policy(raw, name=path.stem)
