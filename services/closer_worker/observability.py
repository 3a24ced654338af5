"""The closer's metrics (prometheus_client) and structured log.

Pending timers, closes published, lateness of each close (due time → broker ack of the close
command), and the timer changes applied from the event stream.
"""

from __future__ import annotations

import structlog
from prometheus_client import Counter, Gauge, Histogram

log = structlog.get_logger("closer")

PENDING = Gauge("helpdesk_closer_pending_timers", "Timers waiting in Redis (leased included).")
CLOSES_PUBLISHED = Counter(
    "helpdesk_closer_closes_published_total", "CloseTicket commands confirmed by the broker."
)
CLOSES_CONFIRMED = Counter(
    "helpdesk_closer_closes_confirmed_total",
    "TicketClosed events by the automation seen on the event stream.",
)
PUBLISH_FAILURES = Counter(
    "helpdesk_closer_publish_failures_total", "Close commands the broker did not confirm."
)
LATENESS = Histogram(
    "helpdesk_closer_close_lateness_seconds",
    "From a timer's due time to the broker's ack of its close command.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400),
)
SCHEDULED = Counter("helpdesk_closer_timers_scheduled_total", "Timers scheduled or moved.")
CANCELLED = Counter("helpdesk_closer_timers_cancelled_total", "Timers cancelled.")
UNREADABLE = Counter(
    "helpdesk_closer_unreadable_events_total", "Event messages the closer could not parse."
)
REBUILDS = Counter("helpdesk_closer_rebuilds_total", "Rebuilds of the timer store from history.")
REBUILD_SECONDS = Histogram(
    "helpdesk_closer_rebuild_seconds", "Duration of a rebuild.", buckets=(0.1, 1, 10, 60, 600)
)
