"""Acceptance of issue #17 over a real broker, the real ticket service and email ingest, and
a real aiosmtpd relay on loopback: acknowledgements, threading back by In-Reply-To, public
comments and internal notes, follow-ups, solved, an auto-replying robot, a relay outage."""

from __future__ import annotations

import smtplib
import threading
import uuid

from contracts import Actor, TicketFields
from services.outbound_mail.bootstrap import OutboundMail
from services.ticket_service.application.context import RequestContext
from tests.fixtures.smtp_relay import Received, SmtpRelay
from tests.integration.email.conftest import SUPPORT, EmailStack
from tests.integration.outbound_mail.conftest import RATE_LIMIT, until
from tests.unit.email.fakes import mail

AGENT = RequestContext(actor=Actor(role="agent", email="agent@example.com"))


async def new_mail_ticket(stack: EmailStack, sender: str, **kwargs: object) -> int:
    mid = f"<{uuid.uuid4().hex}@example.com>"
    code, reply = await stack.send(mail(sender=sender, message_id=mid, **kwargs))  # type: ignore[arg-type]
    assert code == 250, reply
    return await stack.indexed(mid)


async def settle(stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail) -> None:
    """Every event before now has been planned and sent: a new ticket's acknowledgement
    arrives (one partition: events are planned in order), then nothing is pending."""
    sender = f"barrier-{uuid.uuid4().hex[:8]}@example.com"
    await new_mail_ticket(stack, sender)
    await until(lambda: relay.to(sender), "the barrier's acknowledgement")
    await outbound.until_idle()


async def test_a_mail_ticket_is_acknowledged_and_a_reply_threaded_by_in_reply_to_lands_on_it(
    stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail
) -> None:
    number = await new_mail_ticket(stack, "alice@example.com", subject="Printer on fire")
    [ack] = await until(lambda: relay.to("alice@example.com"), "the acknowledgement")
    assert f"[#{number}]" in ack.subject
    assert f"opened ticket #{number}" in ack.text()
    assert ack.message["Reply-To"] == f"support+{number}@helpdesk.localhost"
    assert ack.message["Auto-Submitted"] == "auto-generated"
    assert ack.message["X-Auto-Response-Suppress"] == "All"

    # Threaded only by In-Reply-To: no tag in the subject, to the plain support address.
    reply = mail(
        sender="alice@example.com",
        subject="Re: your request",
        in_reply_to=ack.message_id,
        body="It is still smoking.",
    )
    code, text = await stack.send(reply, rcpt=SUPPORT)
    assert (code, "add_comment" in text) == (250, True), text
    ticket = await stack.ticket_when(number, lambda t: len(t.comments) == 1)
    assert ticket.comments[0]["body"] == "It is still smoking."
    await settle(stack, relay, outbound)
    assert len(relay.to("alice@example.com")) == 1, "a requester's comment is not mailed"
    assert len(stack.tickets()) == 2  # the ticket and the barrier's


async def test_public_comment_mails_requester_and_ccs_not_the_agent_and_notes_mail_nobody(
    stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail
) -> None:
    fields = TicketFields(
        subject="VPN down", requester="req@example.com", cc=["cc@example.com", "agent@example.com"]
    )
    number = stack.app.create_ticket(fields, AGENT, channel="agent").number
    stack.app.add_comment(number, AGENT, body="Internal: blame DNS", public=False, channel="agent")
    stack.app.add_comment(number, AGENT, body="Please restart it.", public=True, channel="agent")
    await settle(stack, relay, outbound)
    for person in ("req@example.com", "cc@example.com"):
        ack, comment = relay.to(person)
        assert f"[#{number}]" in ack.subject and "We received" in ack.subject
        assert comment.subject == f"[#{number}] New reply: VPN down"
        assert "Please restart it." in comment.text()
        assert comment.message["In-Reply-To"] is not None
    assert relay.to("agent@example.com") == []
    assert not any("blame DNS" in r.text() for r in relay.all())


async def test_solved_is_mailed(
    stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail
) -> None:
    number = await new_mail_ticket(stack, "sol@example.com", subject="Slow laptop")
    stack.set_status(number, "solved")
    await settle(stack, relay, outbound)
    _ack, solved = relay.to("sol@example.com")
    assert solved.subject == f"[#{number}] Solved: Slow laptop"
    assert "reply to this message: the ticket opens again" in solved.text()


async def test_a_reply_to_a_closed_ticket_gets_one_mail_naming_the_follow_up(
    stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail
) -> None:
    number = await new_mail_ticket(stack, "bob@example.com", subject="Wifi")
    [ack] = await until(lambda: relay.to("bob@example.com"), "the acknowledgement")
    stack.close_by_integration(number)
    await stack.indexed_status(number, "closed")
    code, text = await stack.send(
        mail(sender="bob@example.com", subject="Re: Wifi", in_reply_to=ack.message_id)
    )
    assert (code, "follow_up_requested" in text) == (250, True), text
    follow_up = await stack.ticket(number + 1)
    assert follow_up.follow_up_of is not None
    await settle(stack, relay, outbound)
    _, news = relay.to("bob@example.com")
    assert f"[#{follow_up.number}]" in news.subject
    assert f"Ticket #{number} was already closed, so your message started" in news.text()
    assert f"#{follow_up.number}" in news.text()


class Robot:
    """Answers every mail it receives, twice: a threaded reply (In-Reply-To, to the
    Reply-To address, no auto-reply headers) and a fresh mail with neither tag nor
    threading (a new ticket each time). ``polite`` robots send RFC 3834 auto-replies."""

    def __init__(self, address: str, smtp_port: int, *, polite: bool = False) -> None:
        self.address = address
        self.port = smtp_port
        self.polite = polite
        self.answered = 0
        self.received = 0
        self.lock = threading.Lock()

    def __call__(self, received: Received) -> None:
        if received.recipient != self.address:
            return
        with self.lock:
            self.received += 1
        threading.Thread(target=self._answer, args=(received,), daemon=True).start()

    def _answer(self, received: Received) -> None:
        headers = {"Auto-Submitted": "auto-replied"} if self.polite else {}
        threaded = mail(
            sender=self.address,
            subject=f"Out of office: {received.subject}",
            in_reply_to=received.message_id,
            headers=headers,
            body="I am away.",
        )
        replies = [(threaded, str(received.message["Reply-To"]))]
        if not self.polite:
            fresh = mail(sender=self.address, subject="Out of office", body="I am away.")
            replies.append((fresh, SUPPORT))
        with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as client:
            for raw, rcpt in replies:
                client.sendmail(self.address, [rcpt], raw)
        with self.lock:
            self.answered += 1


async def test_an_auto_replying_robot_gets_a_bounded_number_of_mails(
    stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail
) -> None:
    robot = Robot("robot@example.com", stack.ingest.smtp_port)
    relay.on_mail = robot
    await new_mail_ticket(stack, robot.address, subject="Hello")
    await until(
        lambda: any(
            r["recipient"] == robot.address for r in outbound.store.entries("rate_limited")
        ),
        "the rate limit to stop the loop",
    )
    await until(lambda: robot.answered == robot.received, "the robot's last answers")
    await settle(stack, relay, outbound)
    assert len(relay.to(robot.address)) == RATE_LIMIT
    robot_tickets = [t for t in stack.tickets() if t.requester == robot.address]
    assert len(robot_tickets) == RATE_LIMIT + 1
    assert all(len(t.comments) <= 1 for t in robot_tickets), "a ticket grew with the loop"


async def test_a_polite_robot_is_suppressed_and_hears_nothing_more(
    stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail
) -> None:
    robot = Robot("polite@example.com", stack.ingest.smtp_port, polite=True)
    relay.on_mail = robot
    number = await new_mail_ticket(stack, robot.address, subject="Hello")
    await until(lambda: robot.answered == 1, "the robot's auto-reply")
    await until(
        lambda: outbound.suppression.among([robot.address]), "the robot on the suppression list"
    )
    stack.app.add_comment(number, AGENT, body="Anyone there?", public=True, channel="agent")
    await settle(stack, relay, outbound)
    assert len(relay.to(robot.address)) == 1  # the acknowledgement, before it auto-replied
    assert stack.app.get_ticket(number).comments[-1]["body"] == "Anyone there?"
    assert len(stack.app.get_ticket(number).comments) == 1


async def test_a_relay_refusing_connections_for_a_while_gets_every_mail_once(
    stack: EmailStack, relay: SmtpRelay, outbound: OutboundMail
) -> None:
    relay.stop()
    people = [f"p{n}@example.com" for n in range(8)]
    for person in people:
        fields = TicketFields(subject="Outage", requester=person)
        stack.app.create_ticket(fields, AGENT, channel="agent")
    await until(lambda: len(outbound.store.entries("pending")) == len(people), "intents recorded")
    relay.start()
    await outbound.until_idle()
    for person in people:
        assert len(relay.to(person)) == 1
    assert outbound.store.counts() == {"sent": len(people)}
