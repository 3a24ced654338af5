"""The webhook dispatcher's metrics (prometheus_client), served on ``HELPDESK_METRICS_PORT``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "helpdesk_webhook_deliveries_total",
    "Attempt outcomes: delivered (2xx), retried (to be tried again), failed (a final "
    "refusal, or past the horizon).",
    ["outcome"],
)
LATENCY = Histogram(
    "helpdesk_webhook_delivery_latency_seconds",
    "From the event (its occurred_at) to the endpoint's 2xx.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
BACKLOG = Gauge(
    "helpdesk_webhook_backlog", "Pending deliveries per endpoint (webhook id).", ["webhook"]
)
RECORDED = Counter("helpdesk_webhook_planned_total", "Deliveries recorded from events.")

_known: set[str] = set()


def count(outcome: str) -> None:
    DELIVERIES.labels(outcome=outcome).inc()


def observe(latency: float) -> None:
    LATENCY.observe(latency)


def backlog(per_endpoint: dict[str, int]) -> None:
    for webhook in _known - set(per_endpoint):
        BACKLOG.labels(webhook=webhook).set(0)
    for webhook, pending in per_endpoint.items():
        BACKLOG.labels(webhook=webhook).set(pending)
    _known.update(per_endpoint)
