"""Email ingest's Prometheus metrics (prometheus_client, default registry)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge

EMAILS = Counter(
    "helpdesk_email_messages_total",
    "Messages ingested, by outcome (create_ticket, add_comment, follow_up_requested, "
    "dropped, duplicate, quarantined, suspended).",
    ("outcome",),
)
AUTHENTICATION = Counter(
    "helpdesk_email_authentication_total",
    "Authentication outcomes of mail that would make or change a ticket (pass, fail, "
    "no_verdict, unchecked, released).",
    ("outcome",),
)
SUSPENDED_ACTIONS = Counter(
    "helpdesk_email_suspended_actions_total",
    "Admin actions on the suspended queue (released, rejected).",
    ("action",),
)
SUSPENDED_QUEUE = Gauge(
    "helpdesk_email_suspended_messages",
    "Messages waiting in the suspended queue.",
)


def count(outcome: str) -> None:
    EMAILS.labels(outcome=outcome).inc()


def count_authentication(outcome: str) -> None:
    AUTHENTICATION.labels(outcome=outcome).inc()


def count_suspended_action(action: str) -> None:
    SUSPENDED_ACTIONS.labels(action=action).inc()


def watch_suspended_queue(size: Callable[[], int]) -> None:
    """The gauge reads the queue's size at each scrape."""
    SUSPENDED_QUEUE.set_function(lambda: float(size()))
