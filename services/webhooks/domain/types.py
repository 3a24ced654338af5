"""Which ticket event becomes which webhook type (docs/webhooks.md#event-types)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

EVENT_TO_TYPE: Final[dict[str, str]] = {
    "TicketCreated": "ticket.created",
    "TicketUpdated": "ticket.updated",
    "StatusChanged": "ticket.status_changed",
    "CommentAdded": "ticket.commented",
    "TicketClosed": "ticket.closed",
    "FollowUpCreated": "ticket.follow_up_created",
    "AutoClosePolicyChanged": "auto_close_policy.changed",
}
"""Organization events and ``CommandRejected`` are not delivered."""

PING: Final = "webhook.ping"

EVENT_TYPES: Final[tuple[str, ...]] = tuple(EVENT_TO_TYPE.values())
"""What a subscription may list in ``event_types`` (none listed: all of them)."""


def webhook_type(event_type: str) -> str | None:
    return EVENT_TO_TYPE.get(event_type)


def subscribed(event_types: Iterable[str], webhook_type: str) -> bool:
    """An empty subscription takes every event type; a ping always goes."""
    types = tuple(event_types)
    return webhook_type == PING or not types or webhook_type in types


def unknown_types(event_types: Iterable[str]) -> list[str]:
    return [t for t in event_types if t not in EVENT_TYPES]
