"""When to try a delivery again, and when to give up (docs/webhooks.md#retries).

Retried: timeouts, connection errors, 408, 409, 429 and 5xx. Any other answer outside 2xx
fails at once. The pause after the n-th failed attempt is ``first · 2^(n-1)`` capped at
``cap``, times a jitter in [0.5, 1.0); a ``Retry-After`` longer than that is honoured. A
delivery whose next attempt would fall past its horizon ends ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def accepted(status: int) -> bool:
    return 200 <= status < 300


def retryable(status: int | None) -> bool:
    """``None``: no answer (timeout, connection error, refused address)."""
    return status is None or status in RETRYABLE_STATUSES or 500 <= status < 600


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetrySchedule:
    first_seconds: float = 5.0
    cap_seconds: float = 3600.0

    def pause(self, failures: int, jitter: float, retry_after: float | None = None) -> float:
        """Pause after ``failures`` failed attempts (≥ 1); ``jitter`` in [0, 1)."""
        base = min(self.cap_seconds, self.first_seconds * 2 ** max(0, failures - 1))
        pause = base * (0.5 + jitter / 2)
        if retry_after is not None:
            pause = max(pause, retry_after)
        return pause


@dataclass(frozen=True)
class Verdict:
    status: str
    """``delivered``, ``pending`` (try again at ``next_attempt_at``) or ``failed``."""
    next_attempt_at: float | None = None


def judge(
    *,
    status: int | None,
    failures: int,
    now: float,
    expires_at: float,
    schedule: RetrySchedule,
    jitter: float,
    retry_after: float | None = None,
) -> Verdict:
    """The fate of a delivery after an attempt. ``failures`` counts this attempt."""
    if status is not None and accepted(status):
        return Verdict("delivered")
    if not retryable(status):
        return Verdict("failed")
    at = now + schedule.pause(failures, jitter, retry_after)
    if at > expires_at:
        return Verdict("failed")
    return Verdict("pending", at)


def disable_due(failing_since: float, now: float, disable_after: float) -> bool:
    """An endpoint failing with no success for ``disable_after`` seconds (since its first
    failure after its last success) is disabled."""
    return now - failing_since >= disable_after


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()
