"""The ingest application with an in-memory publisher: commands, dedupe, quarantine."""

import hashlib
from pathlib import Path

import pytest

from contracts.commands import AddComment, CreateFollowUp, CreateTicket
from contracts.common import Channel, Role, Status
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.commands import command_id_for
from services.email_ingest.application.ingest import IngestService, Kind
from services.email_ingest.application.ports import PublishFailed
from services.email_ingest.domain.addresses import SupportAddress
from tests.unit.email.fakes import SUPPORT, RecordingPublisher, add_ticket, mail


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def service(tmp_path: Path, publisher: RecordingPublisher) -> IngestService:
    index = SqliteTicketIndex()
    add_ticket(index, 1, cc=("carol@example.com",), message_id="<t1@example.com>")
    add_ticket(index, 2, status=Status.CLOSED, message_id="<t2@example.com>")
    return IngestService(
        index=index,
        publisher=publisher,
        quarantine=FileQuarantine(tmp_path / "q"),
        suspended=FileSuspendedQueue(tmp_path / "s"),
        support=SupportAddress(SUPPORT),
        max_bytes=100_000,
        resolve_wait=0.1,
    )


async def test_new_mail_makes_create_ticket(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    raw = mail(
        sender="Dave <Dave@Example.com>",
        cc="carol@example.com, support@helpdesk.localhost, not-an-address, dave@example.com",
        message_id="<new@example.com>",
    )
    outcome = await service.ingest(raw)
    assert outcome.kind == Kind.CREATED
    [command] = publisher.published
    assert isinstance(command, CreateTicket)
    assert command.command_id == command_id_for("<new@example.com>")
    assert command.correlation_id == "email:<new@example.com>"
    assert command.data.channel == Channel.EMAIL
    assert command.data.requester == "dave@example.com"
    assert command.data.cc == ["carol@example.com"]
    assert command.actor.role == Role.REQUESTER


async def test_reply_makes_add_comment_that_may_become_a_follow_up(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    outcome = await service.ingest(mail(sender="carol@example.com", in_reply_to="<t1@example.com>"))
    assert (outcome.kind, outcome.ticket_number) == (Kind.REPLIED, 1)
    [command] = publisher.published
    assert isinstance(command, AddComment)
    assert command.ticket_number == 1
    assert command.data.follow_up_if_closed and command.data.public
    assert command.data.channel == Channel.EMAIL
    assert command.actor.email == "carol@example.com"


async def test_closed_ticket_makes_follow_up_requested(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    raw = mail(in_reply_to="<t2@example.com>", message_id="<r@example.com>")
    outcome = await service.ingest(raw)
    assert outcome.kind == Kind.FOLLOW_UP
    [command] = publisher.published
    assert isinstance(command, CreateFollowUp)
    assert (command.ticket_number, command.data.source_key) == (2, "<r@example.com>")


async def test_same_message_id_is_handed_on_once(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    raw = mail(message_id="<once@example.com>")
    assert (await service.ingest(raw)).kind == Kind.CREATED
    assert (await service.ingest(raw)).kind == Kind.DUPLICATE
    assert len(publisher.published) == 1


async def test_auto_reply_is_dropped(service: IngestService, publisher: RecordingPublisher) -> None:
    raw = mail(in_reply_to="<t1@example.com>", headers={"Auto-Submitted": "auto-replied"})
    outcome = await service.ingest(raw)
    assert (outcome.kind, outcome.reason) == (Kind.DROPPED, "auto_submitted:auto-replied")
    assert publisher.published == []


async def test_too_large_is_quarantined_whole(service: IngestService) -> None:
    raw = mail(body="x" * 200_000)
    outcome = await service.ingest(raw)
    assert (outcome.kind, outcome.reason) == (Kind.QUARANTINED, "too_large")
    assert outcome.quarantine_id is not None
    [entry] = service.quarantine.list()
    assert entry.reason == "too_large"
    assert service.quarantine.get(outcome.quarantine_id)[0] == raw
    # a retry with a higher limit hands it on
    retried = await service.ingest(raw, max_bytes=1_000_000)
    assert retried.kind == Kind.CREATED


async def test_unparseable_is_quarantined(service: IngestService) -> None:
    outcome = await service.ingest(b"\r\n\x00\x01garbage")
    assert (outcome.kind, outcome.reason) == (Kind.QUARANTINED, "no_headers")


async def test_missing_from_uses_the_envelope_sender(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    raw = b"To: support@helpdesk.localhost\r\nSubject: s\r\nMessage-ID: <nf@example.com>\r\n\r\nb"
    outcome = await service.ingest(raw, mail_from="env@example.com")
    assert outcome.kind == Kind.CREATED
    assert publisher.published[0].data.requester == "env@example.com"  # type: ignore[attr-defined]
    outcome = await service.ingest(raw.replace(b"nf@", b"nf2@"))
    assert (outcome.kind, outcome.reason) == (Kind.QUARANTINED, "no_sender")


async def test_publish_failure_propagates_and_nothing_is_recorded(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    publisher.fail = True
    raw = mail(message_id="<retry@example.com>")
    with pytest.raises(PublishFailed):
        await service.ingest(raw)
    publisher.fail = False
    assert (await service.ingest(raw)).kind == Kind.CREATED


async def test_unresolved_parent_is_quarantined_after_waiting(service: IngestService) -> None:
    service.index.record_handed_on("<p@example.com>", "c", "create_ticket")
    outcome = await service.ingest(mail(in_reply_to="<p@example.com>"))
    assert (outcome.kind, outcome.reason) == (Kind.QUARANTINED, "unresolved_thread")


async def test_attachments_are_listed(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["Subject"] = "with file"
    msg["In-Reply-To"] = "<t1@example.com>"
    msg.set_content("see file")
    msg.add_attachment(b"%PDF" * 10, maintype="application", subtype="pdf", filename="a.pdf")
    await service.ingest(bytes(msg))
    [command] = publisher.published
    assert isinstance(command, AddComment)
    assert command.data.attachments == [
        {
            "attachment_id": "1",
            "filename": "a.pdf",
            "content_type": "application/pdf",
            "size": 40,
            "sha256": hashlib.sha256(b"%PDF" * 10).hexdigest(),
        }
    ]


async def test_each_outcome_is_counted_once(service: IngestService) -> None:
    counted: list[str] = []
    service.count = counted.append
    raw = mail(sender="dave@example.com", message_id="<counted@example.com>")
    first, again = await service.ingest(raw), await service.ingest(raw)
    assert (first.kind, again.kind) == (Kind.CREATED, Kind.DUPLICATE)
    assert counted == ["create_ticket", "duplicate"]


@pytest.mark.parametrize(
    "sender", ["bob@customer.test", "ops@corp.local", "it@intranet.internal", "root@mailhost"]
)
async def test_mail_from_an_intranet_address_is_a_ticket(
    service: IngestService, publisher: RecordingPublisher, sender: str
) -> None:
    cc = "carol@corp.local, dan@customer.test"
    outcome = await service.ingest(mail(sender=sender, cc=cc))
    assert outcome.kind == Kind.CREATED
    [command] = publisher.published
    assert isinstance(command, CreateTicket)
    assert command.data.requester == sender
    assert command.data.cc == ["carol@corp.local", "dan@customer.test"]
