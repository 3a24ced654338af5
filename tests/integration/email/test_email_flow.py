"""Acceptance of issue 6 over real SMTP (smtplib) and a real broker."""

from __future__ import annotations

from typing import Any

from contracts.common import Channel, Status
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.ingest import IngestService, Kind
from services.email_ingest.domain.addresses import SupportAddress
from tests.integration.email.conftest import SUPPORT, EmailStack
from tests.unit.email.fakes import add_ticket, mail


async def _new_ticket(stack: EmailStack, mid: str, **kwargs: Any) -> int:
    code, reply = await stack.send(mail(message_id=mid, **kwargs))
    assert code == 250, reply
    return await stack.indexed(mid)


async def test_new_mail_creates_an_email_ticket(stack: EmailStack) -> None:
    raw = mail(
        sender="Alice <Alice@example.com>",
        cc="Carol <carol@example.com>, bob@example.com",
        subject="Printer on fire",
        body="Please help.",
        message_id="<new-1@example.com>",
    )
    code, reply = await stack.send(raw)
    assert (code, "create_ticket" in reply) == (250, True)
    ticket = await stack.ticket(1)
    assert ticket.channel == Channel.EMAIL
    assert ticket.requester == "alice@example.com"
    assert ticket.cc == ["carol@example.com", "bob@example.com"]
    assert (ticket.subject, ticket.description) == ("Printer on fire", "Please help.")


async def test_requester_replies_thread_by_headers_subject_tag_and_plus_address(
    stack: EmailStack,
) -> None:
    number = await _new_ticket(stack, "<t-1@example.com>", cc="carol@example.com")
    quoted = "\n\nOn Mon, 2 Mar 2026, Support wrote:\n> earlier text"
    await stack.send(mail(in_reply_to="<t-1@example.com>", body="by header" + quoted))
    await stack.send(
        mail(subject=f"Re: [#{number}] Printer", body="by tag", sender="carol@example.com")
    )
    await stack.send(
        mail(subject="no tag", body="by plus"), rcpt=f"support+{number}@helpdesk.localhost"
    )
    ticket = await stack.ticket_when(number, lambda t: len(t.comments) == 3)
    assert [c["body"] for c in ticket.comments] == ["by header", "by tag", "by plus"]
    assert all(c["public"] and c["channel"] == "email" for c in ticket.comments)
    assert [c["author"]["email"] for c in ticket.comments] == [
        "alice@example.com",
        "carol@example.com",
        "alice@example.com",
    ]
    assert len(stack.tickets()) == 1


async def test_reply_on_solved_ticket_reopens_it(stack: EmailStack) -> None:
    number = await _new_ticket(stack, "<s-1@example.com>")
    stack.set_status(number, "solved")
    await stack.send(mail(in_reply_to="<s-1@example.com>", body="still broken"))
    ticket = await stack.ticket_when(number, lambda t: bool(t.comments))
    assert ticket.status == Status.OPEN


async def test_reply_on_closed_ticket_creates_exactly_one_follow_up(stack: EmailStack) -> None:
    number = await _new_ticket(stack, "<c-1@example.com>", subject="VPN down")
    stack.close_by_integration(number)
    await stack.indexed_status(number, "closed")
    history = len(list(stack.app.ticket_events(number)))
    reply = mail(
        in_reply_to="<c-1@example.com>",
        message_id="<c-reply@example.com>",
        body="It is down again.\n\nOn Tue, Support <support@helpdesk.localhost> wrote:\n> fixed",
    )
    code, text = await stack.send(reply)
    assert (code, "follow_up_requested" in text) == (250, True)
    follow_up = await stack.ticket(number + 1)
    assert follow_up.follow_up_of == {"number": number, "id": str(stack.app.get_ticket(number).id)}
    assert follow_up.description == f"Follow-up to #{number}\n\nIt is down again."
    assert follow_up.source_key == "<c-reply@example.com>"
    assert follow_up.subject == f"Follow-up to #{number}: VPN down"

    # The same mail again: over SMTP (local dedupe) and through a second ingest that has
    # never seen it (the ticket service dedupes by the Message-ID's command id).
    code, text = await stack.send(reply)
    assert (code, "duplicate" in text) == (250, True)
    fresh = IngestService(
        index=SqliteTicketIndex(),
        publisher=stack.ingest.publisher,
        quarantine=stack.ingest.quarantine,
        suspended=stack.ingest.suspended,
        support=SupportAddress(SUPPORT),
        max_bytes=stack.settings.email_max_bytes,
    )
    add_ticket(fresh.index, number, status=Status.CLOSED, message_id="<c-1@example.com>")  # type: ignore[arg-type]
    assert (await fresh.ingest(reply)).kind == Kind.FOLLOW_UP

    barrier = await _new_ticket(stack, "<c-barrier@example.com>", sender="zed@example.com")
    assert barrier == number + 2, "the redelivered reply created a ticket"
    assert len(list(stack.app.ticket_events(number))) == history
    assert stack.app.get_ticket(number).status == Status.CLOSED


async def test_reply_racing_a_close_still_becomes_a_follow_up(stack: EmailStack) -> None:
    number = await _new_ticket(stack, "<r-1@example.com>")
    stack.close_by_integration(number)
    # An ingest whose index still thinks the ticket is open routes a reply (AddComment):
    # the ticket service, the authority, turns it into a follow-up.
    stale = IngestService(
        index=SqliteTicketIndex(),
        publisher=stack.ingest.publisher,
        quarantine=stack.ingest.quarantine,
        suspended=stack.ingest.suspended,
        support=SupportAddress(SUPPORT),
        max_bytes=stack.settings.email_max_bytes,
    )
    add_ticket(stale.index, number, message_id="<r-1@example.com>")  # type: ignore[arg-type]
    outcome = await stale.ingest(mail(in_reply_to="<r-1@example.com>", body="late reply"))
    assert outcome.kind == Kind.REPLIED
    follow_up = await stack.ticket(number + 1)
    assert follow_up.follow_up_of is not None and follow_up.follow_up_of["number"] == number
    assert follow_up.description.endswith("late reply")
    assert stack.app.get_ticket(number).comments == []


async def test_stranger_reply_creates_a_new_ticket(stack: EmailStack) -> None:
    number = await _new_ticket(stack, "<x-1@example.com>")
    history = len(list(stack.app.ticket_events(number)))
    raw = mail(sender="mallory@example.com", in_reply_to="<x-1@example.com>", subject="Re: hi")
    await stack.send(raw)
    stranger = await stack.ticket(number + 1)
    assert stranger.requester == "mallory@example.com"
    assert stranger.follow_up_of is None
    assert len(list(stack.app.ticket_events(number))) == history


async def test_out_of_office_creates_nothing(stack: EmailStack) -> None:
    number = await _new_ticket(stack, "<o-1@example.com>")
    history = len(list(stack.app.ticket_events(number)))
    ooo = mail(
        in_reply_to="<o-1@example.com>",
        body="I am out of the office.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    code, text = await stack.send(ooo)
    assert (code, "dropped" in text) == (250, True)
    new = mail(headers={"Auto-Submitted": "auto-replied"})
    assert "dropped" in (await stack.send(new))[1]
    barrier = await _new_ticket(stack, "<o-barrier@example.com>", sender="zed@example.com")
    assert barrier == number + 1
    assert len(list(stack.app.ticket_events(number))) == history


async def test_rcpt_for_another_address_is_refused(stack: EmailStack) -> None:
    code, _ = await stack.send(mail(), rcpt="someone@elsewhere.example.com")
    assert code == 550
