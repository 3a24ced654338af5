"""Issue #20 item 1: the message a reply came in and its attachments are kept whole in the
mail store, referenced from the comment, and download byte for byte; a requester of another
ticket gets the help center's one 404; a new app on the same data directory serves them."""

from __future__ import annotations

import hashlib
import os
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contracts.commands import AddComment, CreateFollowUp, CreateTicket
from contracts.common import Status
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.ingest import IngestService, Kind
from services.email_ingest.domain.addresses import SupportAddress
from services.mail_store import FileMailStore, mail_store_for
from services.settings import Settings
from services.ticket_service.application.messagebus import handle_command
from services.ticket_service.bootstrap import create_app
from tests.unit.email.fakes import SUPPORT, RecordingPublisher, add_ticket, mail
from tests.unit.http.api_client import OTHER, REQUESTER, SECRET, Api

CONTENT = os.urandom(200_000) + bytes(range(256))
"""Binary content with every byte value: base64 in the mail, bytes again on download."""


def reply_with_attachment(number: int) -> bytes:
    raw = mail(
        sender=REQUESTER,
        subject=f"Re: [#{number}] Printer on fire",
        body="The dump is attached.\n\nOn Mon, 2 Mar 2026, Support wrote:\n> Send the dump",
        message_id="<reply-with-dump@example.com>",
    )
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(CONTENT, maintype="application", subtype="octet-stream", filename="d.bin")
    return bytes(msg)


def tickets_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.services.get().tickets  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail-downloads")


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, jwt_secret=SECRET)


@pytest.fixture(scope="module")
async def replied(settings: Settings) -> tuple[int, str, bytes, AddComment]:
    """A ticket, a reply with an attachment ingested as email, and the comment applied."""
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        number = api.create()["number"]
        index = SqliteTicketIndex()
        add_ticket(index, number, requester=REQUESTER)
        publisher = RecordingPublisher()
        ingest = IngestService(
            index=index,
            publisher=publisher,
            quarantine=FileQuarantine(settings.data_dir / "q"),
            suspended=FileSuspendedQueue(settings.data_dir / "s"),
            support=SupportAddress(SUPPORT),
            max_bytes=10_000_000,
            mail_store=FileMailStore.in_data_dir(settings.data_dir),
        )
        raw = reply_with_attachment(number)
        assert (await ingest.ingest(raw)).kind == Kind.REPLIED
        (command,) = publisher.published
        assert isinstance(command, AddComment)
        assert handle_command(tickets_of(client), command).ok
        comment = r_json(client.get(f"/api/v1/tickets/{number}", headers=api.headers("agent")))
        comment_id = comment["comments"][-1]["id"]
    return number, comment_id, raw, command


def r_json(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return response.json()


def test_the_event_carries_a_reference_not_the_bytes(
    replied: tuple[int, str, bytes, AddComment],
) -> None:
    _, _, raw, command = replied
    original = command.data.original
    assert original is not None
    assert (original.size, original.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert original.message_id == "<reply-with-dump@example.com>"
    (attachment,) = command.data.attachments
    assert attachment["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert attachment["attachment_id"] == "1"
    assert len(command.model_dump_json()) < 10_000  # the 200 KB live in the store only


def test_agents_and_integrations_download_byte_for_byte(
    settings: Settings, replied: tuple[int, str, bytes, AddComment]
) -> None:
    number, comment_id, raw, _ = replied
    with TestClient(create_app(settings)) as client:  # a new app: a restart keeps them
        api = Api(client, settings)
        base = f"/api/v1/tickets/{number}/comments/{comment_id}"
        for role in ("agent", "admin", "integration"):
            r = client.get(f"{base}/original", headers=api.headers(role))
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("message/rfc822")
            assert r.content == raw
            r = client.get(f"{base}/attachments/1", headers=api.headers(role))
            assert r.status_code == 200, r.text
            assert r.content == CONTENT
            assert r.headers["content-type"] == "application/octet-stream"
            assert 'filename="d.bin"' in r.headers["content-disposition"]
        shown = r_json(client.get(f"/api/v1/tickets/{number}", headers=api.headers("agent")))
        last = shown["comments"][-1]
        assert last["body"] == "The dump is attached."
        assert last["quoted_text"].endswith("> Send the dump")
        assert last["original"]["sha256"] == hashlib.sha256(raw).hexdigest()
        assert client.get(f"{base}/attachments/2", headers=api.headers("agent")).status_code == 404
        requester = api.headers("requester")
        assert client.get(f"{base}/original", headers=requester).status_code == 403


def test_requesters_get_their_own_attachments_and_others_the_one_404(
    settings: Settings, replied: tuple[int, str, bytes, AddComment]
) -> None:
    number, comment_id, _, _ = replied
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        path = f"/helpcenter/v1/requests/{number}/comments/{comment_id}/attachments/1"
        own = client.get(path, headers=api.headers("requester"))
        assert own.status_code == 200 and own.content == CONTENT
        other = client.get(path, headers=api.headers("requester", email=OTHER))
        unknown = client.get(
            f"/helpcenter/v1/requests/{number}/comments/{comment_id}/attachments/9",
            headers=api.headers("requester"),
        )
        assert other.status_code == unknown.status_code == 404
        assert other.content == unknown.content
        assert CONTENT[:64] not in other.content


def test_the_store_is_content_addressed_and_refuses_other_names(tmp_path: Path) -> None:
    store = FileMailStore(tmp_path)
    digest = store.put(b"hello")
    assert store.put(b"hello") == digest == hashlib.sha256(b"hello").hexdigest()
    assert store.get(digest) == b"hello"
    assert store.get("../" + digest[3:]) is None
    assert store.get("0" * 64) is None
    assert store.purge(30, now=os.path.getmtime(tmp_path / digest[:2] / digest) + 31 * 86_400)
    assert store.get(digest) is None


def ingest_service(settings: Settings, index: SqliteTicketIndex) -> IngestService:
    return IngestService(
        index=index,
        publisher=RecordingPublisher(),
        quarantine=FileQuarantine(settings.data_dir / "q"),
        suspended=FileSuspendedQueue(settings.data_dir / "s"),
        support=SupportAddress(SUPPORT),
        max_bytes=10_000_000,
        mail_store=mail_store_for(settings),
    )


def with_attachment(raw: bytes) -> bytes:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(CONTENT, maintype="application", subtype="octet-stream", filename="d.bin")
    return bytes(msg)


async def test_the_mail_that_opened_a_ticket_or_follow_up_downloads_byte_for_byte(
    tmp_path: Path,
) -> None:
    """Every inbound mail is kept, not only replies: a new ticket and a follow-up of a
    closed one reference the message that opened them, served by ``/{number}/original``."""
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        index = SqliteTicketIndex()
        ingest = ingest_service(settings, index)
        publisher = ingest.publisher
        assert isinstance(publisher, RecordingPublisher)
        new_mail = with_attachment(mail(sender=REQUESTER, message_id="<opens@example.com>"))
        assert (await ingest.ingest(new_mail)).kind == Kind.CREATED
        closed = api.closed_ticket()["number"]
        add_ticket(index, closed, requester=REQUESTER, status=Status.CLOSED)
        follow_mail = with_attachment(
            mail(sender=REQUESTER, subject=f"Re: [#{closed}] Printer on fire", body="Again.")
        )
        assert (await ingest.ingest(follow_mail)).kind == Kind.FOLLOW_UP
        # a reply routed while the index still saw the ticket open: the ticket service
        # makes it a follow-up, which keeps the reference too
        raced = api.closed_ticket()["number"]
        add_ticket(index, raced, requester=REQUESTER)
        late_mail = mail(sender=REQUESTER, subject=f"Re: [#{raced}] Printer on fire", body="Hi")
        assert (await ingest.ingest(late_mail)).kind == Kind.REPLIED
        created, followed, late = publisher.published
        assert isinstance(created, CreateTicket) and isinstance(followed, CreateFollowUp)
        assert isinstance(late, AddComment)
        for command, raw in ((created, new_mail), (followed, follow_mail), (late, late_mail)):
            assert command.data.original is not None
            assert command.data.original.sha256 == hashlib.sha256(raw).hexdigest()
            assert command.data.original.size == len(raw)
            assert len(command.model_dump_json()) < 10_000  # a reference, never the bytes
        numbers = []
        for command in (created, followed, late):
            outcome = handle_command(tickets_of(client), command)
            assert outcome.ok and outcome.ticket_number is not None
            numbers.append(outcome.ticket_number)
        events = [
            e
            for n in numbers
            for e in client.get(f"/api/v1/tickets/{n}/events", headers=api.headers("agent")).json()[
                "events"
            ][:1]
        ]
        assert [e["event_type"] for e in events] == [
            "TicketCreated",
            "FollowUpCreated",
            "FollowUpCreated",
        ]
        assert [len(e["data"]["attachments"]) for e in events] == [1, 1, 0]
        assert events[1]["data"]["attachments"][0]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
        assert [e["data"]["original"]["sha256"] for e in events] == [
            hashlib.sha256(raw).hexdigest() for raw in (new_mail, follow_mail, late_mail)
        ]
    with TestClient(create_app(settings)) as client:  # a new app on the same data directory
        api = Api(client, settings)
        for number, raw in zip(numbers, (new_mail, follow_mail, late_mail), strict=True):
            for role in ("agent", "admin", "integration"):
                r = client.get(f"/api/v1/tickets/{number}/original", headers=api.headers(role))
                assert r.status_code == 200, r.text
                assert r.headers["content-type"].startswith("message/rfc822")
                assert r.content == raw
            shown = r_json(client.get(f"/api/v1/tickets/{number}", headers=api.headers("agent")))
            assert shown["original"]["sha256"] == hashlib.sha256(raw).hexdigest()
            path = f"/api/v1/tickets/{number}/original"
            assert client.get(path, headers=api.headers("requester")).status_code == 403
            if raw is not late_mail:  # the two with an attachment
                assert shown["attachments"][0]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
                agent_path = f"/api/v1/tickets/{number}/attachments/1"
                r = client.get(agent_path, headers=api.headers("integration"))
                assert (r.status_code, r.content) == (200, CONTENT)
                assert 'filename="d.bin"' in r.headers["content-disposition"]
                own = client.get(
                    f"/helpcenter/v1/requests/{number}/attachments/1",
                    headers=api.headers("requester"),
                )
                assert (own.status_code, own.content) == (200, CONTENT)
                mine = r_json(
                    client.get(
                        f"/helpcenter/v1/requests/{number}", headers=api.headers("requester")
                    )
                )
                assert mine["attachments"][0]["attachment_id"] == "1"
                for forbidden in (
                    client.get(
                        f"/helpcenter/v1/requests/{number}/attachments/1",
                        headers=api.headers("requester", email=OTHER),
                    ),
                    client.get(
                        f"/helpcenter/v1/requests/{number}/attachments/2",
                        headers=api.headers("requester"),
                    ),
                    client.get(
                        f"/api/v1/tickets/{number}/attachments/2", headers=api.headers("agent")
                    ),
                ):
                    assert forbidden.status_code == 404
                    assert CONTENT[:64] not in forbidden.content
            other = client.get(
                f"/helpcenter/v1/requests/{number}", headers=api.headers("requester", email=OTHER)
            )
            assert other.status_code == 404
        # a ticket not made from mail has no original: the one 404
        plain = api.create()["number"]
        r = client.get(f"/api/v1/tickets/{plain}/original", headers=api.headers("agent"))
        assert r.status_code == 404
