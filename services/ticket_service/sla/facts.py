"""The slice of a ticket event that SLA figures depend on.

Both sources (the event store and the Kafka topic) reduce each public event envelope to a
:class:`Fact`; events that cannot move an SLA clock (internal notes, requester comments,
field changes other than priority, policy changes, rejected commands) give none.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple
from uuid import UUID

from contracts import events as ev
from contracts.common import INTERNAL_ROLES
from services.ticket_service.sla.calendar import to_micros


class Kind(IntEnum):
    CREATED = 1
    STATUS = 2
    REPLY = 3
    """A public comment by an internal user: stops the first-reply clock."""
    PRIORITY = 4
    CLOSED = 5


class Fact(NamedTuple):
    ticket_id: UUID | str
    """As the source gives it (the store's own text form, or the envelope's UUID): it only
    keys the ticket's clocks within one audit, which uses one source."""
    version: int
    kind: Kind
    at: int
    """Microseconds since the epoch (UTC)."""
    status: str | None = None
    """The new status (CREATED, STATUS)."""
    priority: str | None = None
    """The priority (CREATED, PRIORITY)."""
    number: int | None = None
    follow_up_of: int | None = None


def fact_from_envelope(envelope: ev.EventEnvelope) -> Fact | None:
    """The fact of one public envelope, or None when it cannot move an SLA clock."""
    if not isinstance(envelope, ev.StreamEvent):
        return None  # a rejected command: in no ticket's stream
    head = (envelope.ticket_id, envelope.version)
    at = to_micros(envelope.occurred_at)
    if isinstance(envelope, ev.TicketCreated | ev.FollowUpCreated):
        data = envelope.data
        origin = (
            envelope.data.follow_up_of.number if isinstance(envelope, ev.FollowUpCreated) else None
        )
        return Fact(
            *head,
            Kind.CREATED,
            at,
            status=data.status.value,
            priority=data.priority.value,
            number=data.number,
            follow_up_of=origin,
        )
    if isinstance(envelope, ev.StatusChanged):
        return Fact(*head, Kind.STATUS, at, status=envelope.data.to_status.value)
    if isinstance(envelope, ev.CommentAdded):
        data_c = envelope.data
        if data_c.public and data_c.author.role in INTERNAL_ROLES:
            return Fact(*head, Kind.REPLY, at)
        return None
    if isinstance(envelope, ev.TicketUpdated):
        priority = envelope.data.changes.get("priority")
        if priority is None:
            return None
        return Fact(*head, Kind.PRIORITY, at, priority=str(priority))
    if isinstance(envelope, ev.TicketClosed):
        return Fact(*head, Kind.CLOSED, at)
    return None
