"""In-memory stand-ins for the ingest ports, and a message builder."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate
from uuid import uuid4

from contracts.commands import CommandEnvelope
from contracts.common import Status
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.ports import PublishFailed
from services.ticket_service.domain.ids import ticket_id_for

SUPPORT = "support@helpdesk.localhost"


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[CommandEnvelope] = []
        self.fail = False

    async def publish(self, command: CommandEnvelope) -> None:
        if self.fail:
            raise PublishFailed("broker down")
        self.published.append(command)


def mail(
    *,
    sender: str = "alice@example.com",
    subject: str = "Printer on fire",
    body: str = "It is on fire.",
    to: str = SUPPORT,
    cc: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = formatdate()
    msg["Message-ID"] = message_id or f"<{uuid4().hex}@example.com>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return bytes(msg)


def add_ticket(
    index: SqliteTicketIndex,
    number: int,
    *,
    requester: str = "alice@example.com",
    cc: tuple[str, ...] = (),
    status: Status = Status.OPEN,
    message_id: str | None = None,
) -> None:
    index.apply(
        {
            "event_type": "TicketCreated",
            "ticket_id": str(ticket_id_for(number)),
            "ticket_number": number,
            "version": 1,
            "correlation_id": f"email:{message_id}" if message_id else None,
            "data": {"number": number, "requester": requester, "cc": list(cc), "status": status},
        }
    )
