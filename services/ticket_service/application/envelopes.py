"""Stored domain events → the public event envelopes of ``contracts.events``.

One mapping serves the outbox relay, the history endpoint, read models and the SLA audit.
``event_id`` is derived from (aggregate id, version), so a republished event keeps its id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid5

from contracts import events as ev
from services.ticket_service.domain.organization import Organization
from services.ticket_service.domain.policy import AutoClosePolicy
from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

Envelope = ev.EventEnvelope


def event_id_for(aggregate_id: UUID, version: int) -> UUID:
    return uuid5(aggregate_id, str(version))


def _head(
    domain_event: Any, ticket_id: UUID, number: int | None, *, in_stream: bool = True
) -> dict[str, Any]:
    """The envelope's head; ``in_stream=False`` for a message that is in no stream of the
    ticket (a rejection): no version, and an event id that is its own."""
    meta = getattr(domain_event, "meta", {}) or {}
    return {
        "event_id": event_id_for(domain_event.originator_id, domain_event.originator_version),
        "ticket_id": ticket_id,
        "ticket_number": number,
        "version": domain_event.originator_version if in_stream else None,
        "occurred_at": getattr(domain_event, "at", None) or domain_event.timestamp,
        "correlation_id": meta.get("correlation_id"),
        "causation_id": meta.get("causation_id"),
    }


def _ticket_head(e: Any) -> dict[str, Any]:
    number = e.number if hasattr(e, "number") else e.meta.get("ticket_number")
    return _head(e, e.originator_id, number)


_CREATED_FIELDS = frozenset(ev.TicketCreatedData.model_fields)


def _created(e: Any) -> Envelope:
    solve = e.solve or {}
    data: dict[str, Any] = {
        **{k: v for k, v in e.fields.items() if k in _CREATED_FIELDS},
        "number": e.number,
        "channel": e.channel,
        "created_by": e.actor,
        "solve_id": solve.get("solve_id"),
        "auto_close_due_at": solve.get("due_at"),
        "organization_id": getattr(e, "organization_id", None),  # absent before organizations
        "original": getattr(e, "original", None),  # absent before issue #20
        "attachments": getattr(e, "attachments", None) or [],
    }
    if e.follow_up_of:
        return ev.FollowUpCreated(
            **_ticket_head(e),
            data={**data, "follow_up_of": e.follow_up_of, "source_key": e.source_key},
        )
    return ev.TicketCreated(**_ticket_head(e), data=data)


def _updated(e: Any) -> Envelope:
    return ev.TicketUpdated(**_ticket_head(e), data={"changes": e.changes, "changed_by": e.actor})


def _status_changed(e: Any) -> Envelope:
    solve = e.solve or {}
    return ev.StatusChanged(
        **_ticket_head(e),
        data={
            "from_status": e.from_status,
            "to_status": e.to_status,
            "changed_by": e.actor,
            "reason": e.reason,
            "solve_id": solve.get("solve_id"),
            "auto_close_due_at": solve.get("due_at"),
        },
    )


def _commented(e: Any) -> Envelope:
    return ev.CommentAdded(
        **_ticket_head(e),
        data={
            "comment_id": e.comment_id,
            "author": e.actor,
            "body": e.body,
            "public": e.public,
            "channel": e.channel,
            "attachments": e.attachments,
            "quoted_text": getattr(e, "quoted_text", ""),
            "original": getattr(e, "original", None),
        },
    )


def _closed(e: Any) -> Envelope:
    return ev.TicketClosed(
        **_ticket_head(e),
        data={
            "closed_by": e.closed_by,
            "solve_id": e.solve_id,
            "from_status": e.from_status,
            "actor": e.actor,
        },
    )


def _policy_changed(e: Any) -> Envelope:
    return ev.AutoClosePolicyChanged(
        **_head(e, e.originator_id, None),
        data={"after_seconds": e.after_seconds, "changed_by": e.actor},
    )


def _organization_created(e: Any) -> Envelope:
    return ev.OrganizationCreated(
        **_head(e, e.originator_id, None),
        data={"name": e.name, "members": e.members, "domains": e.domains, "created_by": e.actor},
    )


def _organization_changed(e: Any) -> Envelope:
    return ev.OrganizationChanged(
        **_head(e, e.originator_id, None),
        data={"name": e.name, "members": e.members, "domains": e.domains, "changed_by": e.actor},
    )


def _organization_deleted(e: Any) -> Envelope:
    return ev.OrganizationDeleted(**_head(e, e.originator_id, None), data={"deleted_by": e.actor})


def _receipt(e: Any) -> Envelope | None:
    if e.outcome != "rejected":
        return None
    return ev.CommandRejected(
        **_head(e, e.ticket_id or e.originator_id, e.ticket_number, in_stream=False),
        data={
            "command_id": e.key.removeprefix("command:"),
            "command_type": e.command_type or "unknown",
            "reason": e.reason or "",
            "error": e.error or "rejected",
        },
    )


_MAPPERS: dict[str, Callable[[Any], Envelope | None]] = {
    f"{Ticket.__name__}.Created": _created,
    f"{Ticket.__name__}.Updated": _updated,
    f"{Ticket.__name__}.StatusChanged": _status_changed,
    f"{Ticket.__name__}.Commented": _commented,
    f"{Ticket.__name__}.Closed": _closed,
    f"{AutoClosePolicy.__name__}.Created": _policy_changed,
    f"{AutoClosePolicy.__name__}.Changed": _policy_changed,
    f"{Organization.__name__}.Created": _organization_created,
    f"{Organization.__name__}.Changed": _organization_changed,
    f"{Organization.__name__}.Deleted": _organization_deleted,
    f"{Receipt.__name__}.Recorded": _receipt,
}
"""Keyed by the domain event class's qualified name (``Ticket.Created``...)."""


MAPPED_EVENT_NAMES = frozenset(_MAPPERS)
"""The qualified names of the stored events that can have an envelope: a stored event of
another name (a snapshot, the organization directory's index) never has one."""
RECEIPT_EVENT_NAME = f"{Receipt.__name__}.Recorded"
"""A receipt has an envelope only when its ``outcome`` is ``"rejected"`` (see ``_receipt``)."""


def may_have_envelope(event_name: str, outcome: str | None = None) -> bool:
    """Whether a stored event of this qualified name (and, for a receipt, this
    ``outcome`` when known) can have an envelope: readers of the notification log skip the
    others without decoding them."""
    if event_name == RECEIPT_EVENT_NAME and outcome is not None:
        return outcome == "rejected"
    return event_name in MAPPED_EVENT_NAMES


def to_envelope(domain_event: Any) -> Envelope | None:
    """The public envelope of a stored domain event, or None for internal ones
    (snapshots, accepted receipts, the organization directory's index)."""
    mapper = _MAPPERS.get(type(domain_event).__qualname__)
    return mapper(domain_event) if mapper else None
