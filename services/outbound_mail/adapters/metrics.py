"""Outbound mail's metrics (prometheus_client), served on ``HELPDESK_METRICS_PORT``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NOTIFICATIONS = Counter(
    "helpdesk_mail_notifications_total",
    "Notification outcomes: sent (250), failed (5xx or given up), retried (connection error "
    "or 4xx, tried again), rate_limited (not sent), suppressed (an event with a suppressed "
    "recipient left out).",
    ["outcome"],
)
SEND_SECONDS = Histogram(
    "helpdesk_mail_send_seconds",
    "One SMTP transaction (or outbox write) that the relay accepted.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DELIVERY_LAG = Histogram(
    "helpdesk_mail_delivery_lag_seconds",
    "From an intent recorded (the event consumed) to the relay's 250.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
PENDING = Gauge("helpdesk_mail_pending", "Intents in the sent log not yet sent.")


def count(outcome: str) -> None:
    NOTIFICATIONS.labels(outcome=outcome).inc()


def observe(send_seconds: float, lag_seconds: float) -> None:
    SEND_SECONDS.observe(send_seconds)
    DELIVERY_LAG.observe(lag_seconds)
