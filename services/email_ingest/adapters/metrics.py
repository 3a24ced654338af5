"""Email ingest's Prometheus metrics (prometheus_client, default registry)."""

from __future__ import annotations

from prometheus_client import Counter

EMAILS = Counter(
    "helpdesk_email_messages_total",
    "Messages ingested, by outcome (create_ticket, add_comment, follow_up_requested, "
    "dropped, duplicate, quarantined).",
    ("outcome",),
)


def count(outcome: str) -> None:
    EMAILS.labels(outcome=outcome).inc()
