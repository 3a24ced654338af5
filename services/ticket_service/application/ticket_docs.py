"""Pure fold of public event envelopes into ticket documents (the rows of the views).

A document is the ticket JSON of design §9 without the conversation. The same fold serves
the incremental projection and the from-scratch rebuild, so both always agree.
"""

from __future__ import annotations

from typing import Any

from contracts import events as ev
from contracts.common import Status
from services.ticket_service.domain.participants import participants

Doc = dict[str, Any]


def apply(docs: dict[int, Doc], envelope: ev.EventEnvelope, position: int) -> int | None:
    """Fold one envelope into ``docs`` (keyed by ticket number); returns the number of the
    ticket it changed, or None when it is not a ticket event."""
    number = envelope.ticket_number
    if number is None:
        return None
    at = envelope.model_dump(mode="json")["occurred_at"]
    if isinstance(envelope, ev.TicketCreated | ev.FollowUpCreated):
        data = envelope.data.model_dump(mode="json")
        docs[number] = {
            "id": str(envelope.ticket_id),
            "number": number,
            "subject": data["subject"],
            "description": data["description"],
            "status": data["status"],
            "requester": data["requester"],
            "cc": data["cc"],
            "assignee": data["assignee"],
            "division": data["division"],
            "priority": data["priority"],
            "form": data["form"],
            "tags": data["tags"],
            "custom_fields": data["custom_fields"],
            "channel": data["channel"],
            "created_at": at,
            "updated_at": at,
            "solved_at": at if data["status"] == Status.SOLVED else None,
            "closed_at": None,
            "follow_up_of": data.get("follow_up_of"),
            "organization_id": data.get("organization_id"),
            "version": envelope.version,
            "closed_position": None,
        }
        return number
    doc = docs.get(number)
    if doc is None:
        return None
    if isinstance(envelope, ev.TicketUpdated):
        doc.update(envelope.model_dump(mode="json")["data"]["changes"])
    elif isinstance(envelope, ev.StatusChanged):
        doc["status"] = envelope.data.to_status.value
        if envelope.data.to_status == Status.SOLVED:
            doc["solved_at"] = at
    elif isinstance(envelope, ev.TicketClosed):
        doc["status"] = Status.CLOSED.value
        doc["closed_at"] = at
        doc["closed_position"] = position
    elif not isinstance(envelope, ev.CommentAdded):
        return None
    doc["updated_at"] = at
    doc["version"] = envelope.version
    return number


def organization_of(doc: Doc) -> str:
    """The organization the ticket got when it was created, for the indexed column: its id,
    or ``""`` for none (no organization id is empty, so no org-wide viewer matches it)."""
    return str(doc.get("organization_id") or "")


def participants_of(doc: Doc) -> set[str]:
    """The requester and the CC'd users, lower-cased: who sees it in My requests."""
    return set(participants(str(doc["requester"]), (str(c) for c in doc["cc"])))


def public_doc(doc: Doc) -> Doc:
    """The document without projection bookkeeping."""
    return {k: v for k, v in doc.items() if k != "closed_position"}
