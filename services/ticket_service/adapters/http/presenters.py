"""Aggregates and view documents → the API's response bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Response
from pydantic import TypeAdapter

from contracts.common import Role, Status
from services.ticket_service.adapters.http import schemas
from services.ticket_service.adapters.http.audience import Audience
from services.ticket_service.domain.ticket import Ticket

TICKET_DETAIL = TypeAdapter(schemas.TicketDetail)

TICKET_FIELDS = tuple(
    name
    for name in schemas.Ticket.model_fields
    if name not in {"id", "version", "follow_up_of", "follow_ups"}
)


def ticket_doc(ticket: Ticket) -> dict[str, Any]:
    doc = {name: getattr(ticket, name) for name in TICKET_FIELDS}
    doc.update(id=ticket.id, version=ticket.version, follow_up_of=ticket.follow_up_of)
    return doc


def comments(ticket: Ticket, *, public_only: bool) -> list[schemas.Comment]:
    return [
        schemas.Comment.model_validate(c) for c in ticket.comments if c["public"] or not public_only
    ]


def ticket_detail(
    ticket: Ticket, role: Role, follow_ups: list[int] | None = None
) -> schemas.TicketDetail:
    return schemas.TicketDetail(
        **ticket_doc(ticket),
        follow_ups=follow_ups if role == Role.INTEGRATION else None,
        comments=comments(ticket, public_only=False),
        original=ticket.original,
        attachments=list(ticket.attachments),
    )


def view_row(doc: dict[str, Any]) -> schemas.ViewRow:
    return schemas.ViewRow(**doc, bulk_selectable=doc["status"] != Status.CLOSED)


def request_fields(doc: dict[str, Any], audience: Audience) -> dict[str, Any]:
    closed = doc["status"] == Status.CLOSED
    return {
        **{k: doc[k] for k in schemas.Request.model_fields if k in doc},
        "status": Status.SOLVED if closed else doc["status"],
        "read_only": closed or audience != Audience.PARTICIPANT,
        "can_follow_up": closed and audience == Audience.PARTICIPANT,
    }


def request_detail(ticket: Ticket, audience: Audience) -> schemas.RequestDetail:
    return schemas.RequestDetail(
        **request_fields(ticket_doc(ticket), audience),
        comments=comments(ticket, public_only=True),
        attachments=list(ticket.attachments),
    )


def json_response(
    body: bytes, *, status_code: int = 200, headers: Sequence[tuple[bytes, bytes]] = ()
) -> Response:
    """A JSON response built as FastAPI builds one for a ``response_model`` (same headers,
    in the same order), from a body already serialised."""
    response = Response(body, status_code=status_code, media_type="application/json")
    response.headers.raw.extend(headers)
    return response
