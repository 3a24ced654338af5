"""The ticket service's Prometheus metrics (prometheus_client, default registry).

HTTP requests (by method, route template and status; latency), the HTTP group commit
(transactions and commands), commands applied by the Kafka intake (by outcome) and dead
letters, events relayed, parked by the relay, and the relay's lag.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "helpdesk_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ("method", "route", "status"),
)
HTTP_LATENCY = Histogram(
    "helpdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_GROUP_COMMITS = Counter(
    "helpdesk_http_group_commits_total",
    "Store transactions of the HTTP group commit (a command run alone counts as one).",
)
HTTP_GROUP_COMMANDS = Counter(
    "helpdesk_http_group_commit_commands_total",
    "Commands saved through the HTTP group commit (divide by the transactions: group size).",
)
INTAKE_COMMANDS = Counter(
    "helpdesk_intake_commands_total",
    "Commands applied by the Kafka intake, by outcome (accepted, rejected, duplicate, failed).",
    ("outcome",),
)
INTAKE_DEAD_LETTERS = Counter(
    "helpdesk_intake_dead_letters_total",
    "Records from the commands topic sent to the dead-letter topic (could not be decoded, "
    "or kept failing).",
)
RELAY_EVENTS = Counter(
    "helpdesk_relay_events_published_total",
    "Events published to the events topic by the outbox relay (republished ones included).",
)
RELAY_PARKED = Counter(
    "helpdesk_relay_parked_events_total",
    "Events the outbox relay could not publish (too large for the producer or the broker) "
    "and parked in the store instead: list them with `helpdesk relay parked`.",
)
RELAY_LAG = Gauge(
    "helpdesk_relay_lag_events",
    "Newest notification id in the store minus the relay's published position.",
)

for _outcome in ("accepted", "rejected", "duplicate", "failed"):
    INTAKE_COMMANDS.labels(outcome=_outcome)


def outcome_label(ok: bool, duplicate: bool) -> str:
    if duplicate:
        return "duplicate"
    return "accepted" if ok else "rejected"
