"""Records of ``helpdesk.ticket-events`` → contract events the closer acts on."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from contracts.events import Event, EventAdapter
from services.closer_worker import observability as obs

RELEVANT_TYPES = frozenset({"TicketCreated", "FollowUpCreated", "StatusChanged", "TicketClosed"})
"""The only event types that touch a timer; the rest are skipped without parsing."""


def event_type_header(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    for key, value in headers or ():
        if key == "event_type":
            return value.decode(errors="replace")
    return None


def parse_record(value: bytes | None, headers: Sequence[tuple[str, bytes]] | None) -> Event | None:
    """The event in a record, or None when it cannot touch a timer or cannot be read
    (counted and logged: the closer is not the place to repair the event stream)."""
    declared = event_type_header(headers)
    if declared is not None and declared not in RELEVANT_TYPES:
        return None
    if not value:
        return None
    try:
        event = EventAdapter.validate_json(value)
    except ValidationError as error:
        if declared is None and b'"event_type"' in value and not _relevant(value):
            return None  # a type the closer does not know or need
        obs.UNREADABLE.inc()
        obs.log.error("unreadable_event", error=str(error)[:500], value=value[:200])
        return None
    return event if event.event_type in RELEVANT_TYPES else None


def _relevant(value: bytes) -> bool:
    return any(f'"event_type":"{t}"'.encode() in value for t in RELEVANT_TYPES)
