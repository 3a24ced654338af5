"""The acceptance criteria of issue 14 on the ingest application: forged senders are
suspended and the ticket unchanged; genuine replies comment; release has its effect once."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.commands import AddComment, CreateFollowUp, CreateTicket
from contracts.common import Status
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.authentication import MtaVerdict
from services.email_ingest.application.ingest import IngestService, Kind
from services.email_ingest.application.ports import SuspendedNotFound
from services.email_ingest.application.suspension import AlreadyHandled, reject, release
from services.email_ingest.domain.addresses import SupportAddress
from tests.unit.email.fakes import SUPPORT, RecordingPublisher, add_ticket, mail

OURS = "mx.helpdesk.localhost"
ANN = "ann@example.com"
PASS = f"{OURS}; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com; dmarc=pass"
FAIL = f"{OURS}; dkim=fail header.d=example.com; spf=fail smtp.mailfrom=evil.example; dmarc=fail"


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def queue(tmp_path: Path) -> FileSuspendedQueue:
    return FileSuspendedQueue(tmp_path / "suspended")


def make_service(
    tmp_path: Path, publisher: RecordingPublisher, queue: FileSuspendedQueue, *, checked: bool
) -> IngestService:
    index = SqliteTicketIndex()
    add_ticket(index, 7, requester=ANN, message_id="<t7@example.com>")
    add_ticket(index, 8, requester=ANN, status=Status.CLOSED, message_id="<t8@example.com>")
    extra = {"authenticator": MtaVerdict(OURS)} if checked else {}
    return IngestService(
        index=index,
        publisher=publisher,
        quarantine=FileQuarantine(tmp_path / "q"),
        suspended=queue,
        support=SupportAddress(SUPPORT),
        max_bytes=100_000,
        resolve_wait=0.1,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def service(
    tmp_path: Path, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> IngestService:
    return make_service(tmp_path, publisher, queue, checked=True)


def forged(verdict: str = FAIL, **kwargs: str) -> bytes:
    return mail(sender=ANN, headers={"Authentication-Results": verdict}, **kwargs)


ACTING_ON_TICKET = {
    "subject_tag": {"subject": "Re: [#7] printer"},
    "plus_address": {"to": "support+7@helpdesk.localhost"},
    "notification_id": {"in_reply_to": "<ticket-7.n1@helpdesk.localhost>"},
    "in_reply_to": {"in_reply_to": "<t7@example.com>"},
    "references": {"references": "<t7@example.com>"},
    "closed_ticket": {"subject": "Re: [#8] printer"},
}


@pytest.mark.parametrize("how", sorted(ACTING_ON_TICKET))
async def test_forged_requester_is_suspended_and_the_ticket_unchanged(
    service: IngestService, publisher: RecordingPublisher, queue: FileSuspendedQueue, how: str
) -> None:
    raw = forged(**ACTING_ON_TICKET[how])
    outcome = await service.ingest(raw)
    assert (outcome.kind, outcome.reason) == (Kind.SUSPENDED, "unauthenticated")
    assert publisher.published == []
    [entry] = queue.list()
    assert entry.id == outcome.suspended_id
    assert entry.ticket_number in (7, 8)
    assert "dmarc=fail" in entry.detail
    assert queue.raw(entry.id) == raw  # kept whole


@pytest.mark.parametrize(
    "headers",
    [
        ["evil.example; dmarc=pass; dkim=pass header.d=example.com"],  # another authserv-id
        [],  # no verdict at all
        [f"{OURS}; dmarc=fail", PASS],  # ours on top fails; a pass written below by the sender
    ],
)
async def test_no_pass_from_our_server_suspends(
    service: IngestService, publisher: RecordingPublisher, headers: list[str]
) -> None:
    lines = b"".join(f"Authentication-Results: {h}\n".encode() for h in headers)
    outcome = await service.ingest(lines + mail(sender=ANN, subject="[#7]"))
    assert outcome.kind == Kind.SUSPENDED
    assert publisher.published == []


async def test_our_pass_above_a_forged_fail_wins(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    raw = mail(sender=ANN, subject="[#7]", headers={"Authentication-Results": FAIL})
    outcome = await service.ingest(f"Authentication-Results: {PASS}\n".encode() + raw)
    assert outcome.kind == Kind.REPLIED
    [command] = publisher.published
    assert isinstance(command, AddComment) and command.ticket_number == 7


async def test_genuine_reply_comments_and_closed_ticket_follows_up(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    assert (await service.ingest(forged(PASS, in_reply_to="<t7@example.com>"))).kind == (
        Kind.REPLIED
    )
    assert (await service.ingest(forged(PASS, subject="[#8]"))).kind == Kind.FOLLOW_UP
    assert [type(c) for c in publisher.published] == [AddComment, CreateFollowUp]


async def test_display_name_trick_is_not_attributed_to_the_requester(
    service: IngestService, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    # Our server even says dmarc=pass -- for mallory's domain, not ann's.
    raw = mail(
        sender="ann@example.com <mallory@evil.example>",
        subject="[#7]",
        headers={"Authentication-Results": f"{OURS}; dmarc=pass header.from=evil.example"},
    )
    outcome = await service.ingest(raw, mail_from="ann@example.com")
    assert (outcome.kind, outcome.reason) == (Kind.SUSPENDED, "ambiguous_sender")
    assert publisher.published == []
    quoted = mail(sender='"ann@example.com" <mallory@evil.example>', subject="[#7]")
    outcome = await service.ingest(quoted)
    assert outcome.kind == Kind.CREATED  # mallory is not a participant of #7: a new ticket
    [command] = publisher.published
    assert isinstance(command, CreateTicket)
    assert command.data.requester == "mallory@evil.example"


async def test_ambiguous_sender_is_suspended_without_the_setting_too(
    tmp_path: Path, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    service = make_service(tmp_path, publisher, queue, checked=False)
    raw = mail(sender="ann@example.com, mallory@evil.example", subject="[#7]")
    assert (await service.ingest(raw)).kind == Kind.SUSPENDED
    assert publisher.published == []


async def test_new_ticket_is_processed_and_marked_unverified(
    service: IngestService, publisher: RecordingPublisher
) -> None:
    outcome = await service.ingest(forged(subject="New problem"))
    assert (outcome.kind, outcome.authenticity) == (Kind.CREATED, "fail")
    await service.ingest(forged(PASS, subject="Another problem"))
    first, second = publisher.published
    assert isinstance(first, CreateTicket) and isinstance(second, CreateTicket)
    details = first.data.custom_fields["channel_details"]
    assert (details["channel"], details["authenticity"]) == ("email", "unverified")
    assert "dmarc=fail" in details["reason"]
    assert second.data.custom_fields["channel_details"]["authenticity"] == "verified"


async def test_without_the_setting_todays_behaviour(
    tmp_path: Path, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    service = make_service(tmp_path, publisher, queue, checked=False)
    outcome = await service.ingest(forged(subject="[#7]"))
    assert (outcome.kind, outcome.authenticity) == (Kind.REPLIED, "unchecked")
    outcome = await service.ingest(forged(subject="new"))
    [_, created] = publisher.published
    assert isinstance(created, CreateTicket) and created.data.custom_fields == {}


async def test_release_has_its_effect_once_even_when_released_twice(
    service: IngestService, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    outcome = await service.ingest(forged(subject="[#7]", message_id="<f@example.com>"))
    sid = outcome.suspended_id
    assert sid is not None
    done = await release(service, queue, sid, by="admin@example.com")
    assert done.outcome.kind == Kind.REPLIED and done.outcome.authenticity == "released"
    [command] = publisher.published
    assert isinstance(command, AddComment) and command.data.source_key == "<f@example.com>"
    with pytest.raises(AlreadyHandled):
        await release(service, queue, sid, by="admin@example.com")
    assert len(publisher.published) == 1
    assert queue.list() == []
    [record] = queue.audit(sid)
    assert (record.action, record.by, record.outcome) == (
        "released",
        "admin@example.com",
        "add_comment",
    )
    # The same mail delivered again (the sender retried): suspended again, and its release
    # finds the Message-ID handed on: no second comment.
    again = await service.ingest(forged(subject="[#7]", message_id="<f@example.com>"))
    assert again.kind == Kind.DUPLICATE
    assert len(publisher.published) == 1


async def test_concurrent_releases_publish_once(
    service: IngestService, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    first = await service.ingest(forged(subject="[#7]", message_id="<c@example.com>"))
    # A redelivery with other trace headers: another entry, the same Message-ID.
    second = await service.ingest(
        b"Received: from relay2\n" + forged(subject="[#7]", message_id="<c@example.com>")
    )
    assert first.suspended_id != second.suspended_id
    ids = [first.suspended_id, second.suspended_id]
    results = await asyncio.gather(
        *(release(service, queue, sid, by="admin") for sid in ids if sid), return_exceptions=True
    )
    assert all(not isinstance(r, BaseException) for r in results), results
    assert len(publisher.published) == 1
    assert queue.list() == []


async def test_reject_deletes_with_an_audit_record(
    service: IngestService, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    sid = (await service.ingest(forged(subject="[#7]"))).suspended_id
    assert sid is not None
    record = reject(queue, sid, by="owner@example.com")
    assert (record.action, record.by) == ("rejected", "owner@example.com")
    assert queue.list() == [] and publisher.published == []
    with pytest.raises(AlreadyHandled):
        await release(service, queue, sid, by="admin")
    with pytest.raises(SuspendedNotFound):
        reject(queue, "0" * 32, by="admin")
    with pytest.raises(SuspendedNotFound):
        queue.get("../../etc/passwd")


async def test_release_of_an_ambiguous_sender_uses_the_envelope_or_stays(
    service: IngestService, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    raw = mail(sender="ann@example.com <mallory@evil.example>", subject="[#7]")
    no_envelope = await service.ingest(raw)
    assert no_envelope.suspended_id
    stays = await release(service, queue, no_envelope.suspended_id, by="admin")
    assert stays.still_suspended and publisher.published == []
    raw2 = mail(sender="ann@example.com <mallory@evil.example>", subject="[#7] again")
    with_envelope = await service.ingest(raw2, mail_from="mallory@evil.example")
    assert with_envelope.suspended_id
    done = await release(service, queue, with_envelope.suspended_id, by="admin")
    assert done.outcome.kind == Kind.CREATED  # mallory is no participant of #7
    [command] = publisher.published
    assert isinstance(command, CreateTicket) and command.data.requester == "mallory@evil.example"


async def test_metrics_count_outcomes_and_watch_the_queue(
    tmp_path: Path, publisher: RecordingPublisher, queue: FileSuspendedQueue
) -> None:
    from prometheus_client import REGISTRY

    from services.email_ingest.adapters import metrics

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    service = make_service(tmp_path, publisher, queue, checked=True)
    service.count, service.count_auth = metrics.count, metrics.count_authentication
    metrics.watch_suspended_queue(queue.size)
    before = {
        "fail": sample("helpdesk_email_authentication_total", outcome="fail"),
        "pass": sample("helpdesk_email_authentication_total", outcome="pass"),
        "suspended": sample("helpdesk_email_messages_total", outcome="suspended"),
        "released": sample("helpdesk_email_suspended_actions_total", action="released"),
    }
    sid = (await service.ingest(forged(subject="[#7]"))).suspended_id
    await service.ingest(forged(PASS, subject="[#7] genuine"))
    assert sample("helpdesk_email_suspended_messages") == 1
    assert sid is not None
    await release(service, queue, sid, by="admin", count=metrics.count_suspended_action)
    assert sample("helpdesk_email_suspended_messages") == 0
    assert sample("helpdesk_email_authentication_total", outcome="fail") == before["fail"] + 1
    assert sample("helpdesk_email_authentication_total", outcome="pass") == before["pass"] + 1
    assert sample("helpdesk_email_messages_total", outcome="suspended") == before["suspended"] + 1
    assert (
        sample("helpdesk_email_suspended_actions_total", action="released")
        == before["released"] + 1
    )


# A mail: (Message-ID number, verdict, how it names ticket 7); an admin act: release or
# reject the n-th entry of the queue.
mails = st.tuples(
    st.integers(0, 3),
    st.sampled_from(["pass", "fail", "foreign-pass", "none"]),
    st.sampled_from(sorted(ACTING_ON_TICKET)),
)
acts = st.tuples(st.sampled_from(["release", "reject"]), st.integers(0, 5))
VERDICTS = {
    "pass": PASS,
    "fail": FAIL,
    "foreign-pass": "evil.example; dmarc=pass",
    "none": f"{OURS}; dmarc=none; dkim=pass header.d=evil.example",
}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(mails, acts), max_size=12))
def test_only_proven_or_released_mail_acts_on_a_ticket_and_only_once(
    steps: list[tuple[object, ...]],
) -> None:
    """Whatever arrives and whatever admins do: a comment or follow-up on ticket 7 or 8
    comes only from a mail our server passed or an admin released, at most once per
    Message-ID; a rejected mail never acts; every suspended mail is kept until acted on."""

    async def scenario(directory: Path) -> None:
        publisher = RecordingPublisher()
        queue = FileSuspendedQueue(directory / "s")
        service = make_service(directory, publisher, queue, checked=True)
        proven: set[str] = set()
        released: set[str] = set()
        for step in steps:
            if isinstance(step[0], int):
                number, verdict, how = step
                mid = f"<m{number}@example.com>"
                raw = forged(VERDICTS[str(verdict)], message_id=mid, **ACTING_ON_TICKET[str(how)])
                outcome = await service.ingest(raw)
                if verdict == "pass":
                    proven.add(mid)
                else:
                    assert outcome.kind in (Kind.SUSPENDED, Kind.DUPLICATE), outcome
            else:
                act, n = step
                entries = queue.list()
                if not entries:
                    continue
                entry = entries[int(str(n)) % len(entries)]
                if act == "release":
                    await release(service, queue, entry.id, by="admin")
                    released.add(str(entry.message_id))
                else:
                    reject(queue, entry.id, by="admin")
        acting = [c for c in publisher.published if isinstance(c, AddComment | CreateFollowUp)]
        mids = [c.correlation_id for c in acting]
        assert len(mids) == len(set(mids))  # once per Message-ID
        for command in acting:
            mid = str(command.correlation_id).removeprefix("email:")
            assert mid in proven | released
        assert len(publisher.published) == len(acting)  # every mail here acts on 7 or 8

    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(scenario(Path(directory)))
