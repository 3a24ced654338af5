"""Mail of any size makes commands within the contracts' limits (issue #12, item 6): the
text is clipped, the attachment list cut to fit, and the event the command causes stays
below a default Kafka record — never a quarantine for being long, never an oversized
event."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from contracts import limits
from contracts.commands import AddComment, CommandAdapter, CreateFollowUp, CreateTicket
from contracts.common import Status
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.ingest import IngestService, Kind
from services.email_ingest.domain.addresses import SupportAddress
from tests.unit.email.fakes import SUPPORT, RecordingPublisher, add_ticket


def huge_mail(in_reply_to: str | None, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["Subject"] = "s" * 2_000
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content("line of text \u00e9\u2603\n" * 40_000)  # ~600,000 characters
    for i in range(limits.ATTACHMENTS_MAX + 50):
        msg.add_attachment(
            b"x", maintype="application", subtype="octet-stream", filename=f"{i}" + "n" * 2_000
        )
    return bytes(msg)


async def test_huge_mail_makes_commands_within_the_limits(tmp_path: Path) -> None:
    index = SqliteTicketIndex()
    add_ticket(index, 1, message_id="<t1@example.com>", requester="alice@example.com")
    add_ticket(index, 2, status=Status.CLOSED, message_id="<t2@example.com>")
    publisher = RecordingPublisher()
    service = IngestService(
        index=index,
        publisher=publisher,
        quarantine=FileQuarantine(tmp_path / "q"),
        suspended=FileSuspendedQueue(tmp_path / "s"),
        support=SupportAddress(SUPPORT),
        max_bytes=25 * 1024 * 1024,
        resolve_wait=0.1,
    )
    for parent, message_id, kind in (
        (None, "<new@example.com>", Kind.CREATED),
        ("<t1@example.com>", "<reply@example.com>", Kind.REPLIED),
        ("<t2@example.com>", "<late@example.com>", Kind.FOLLOW_UP),
    ):
        outcome = await service.ingest(huge_mail(parent, message_id))
        assert outcome.kind == kind, outcome
    create, reply, follow_up = publisher.published
    assert isinstance(create, CreateTicket)
    assert isinstance(reply, AddComment)
    assert isinstance(follow_up, CreateFollowUp)
    assert len(create.data.subject) <= limits.SUBJECT_MAX
    assert len(create.data.description) <= limits.TEXT_MAX
    assert len(reply.data.body) <= limits.TEXT_MAX
    assert 0 < len(reply.data.attachments) <= limits.ATTACHMENTS_MAX
    for command in publisher.published:
        wire = command.model_dump_json()
        CommandAdapter.validate_json(wire)  # what the ticket service will decode
        assert len(wire.encode()) < 1_000_000
