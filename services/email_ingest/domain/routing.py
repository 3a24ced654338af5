"""The routing decision of design §6, as a pure function of the message and what is known
about tickets. The ticket service stays the authority: a reply routed to an active ticket
carries ``follow_up_if_closed`` so a close in between still yields a follow-up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.loops import automated_reason
from services.email_ingest.domain.message import ParsedEmail
from services.email_ingest.domain.reply_text import ReplyText, extract_reply
from services.email_ingest.domain.thread_match import (
    Match,
    TicketLookup,
    Unresolved,
    match_ticket,
)


@dataclass(frozen=True)
class NewTicket:
    """No ticket matched, or the sender is not a participant of the one that did."""

    body: str
    matched: Match | None = None
    """Set when a ticket matched but the sender is unknown to it (kept for the log)."""


@dataclass(frozen=True)
class Reply:
    """A public comment from the requester or a CC on an active ticket."""

    match: Match
    body: str
    quoted: str = ""
    """The quoted history below the reply (``reply_text``), kept apart from the body."""


@dataclass(frozen=True)
class FollowUp:
    """A reply on a closed ticket: the ticket service makes a follow-up of it."""

    match: Match
    body: str


@dataclass(frozen=True)
class Drop:
    reason: str


@dataclass(frozen=True)
class Quarantine:
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Suspend:
    """Held for an admin: the sender cannot be told (``ambiguous_sender``)."""

    reason: str
    detail: str = ""


Decision = NewTicket | Reply | FollowUp | Drop | Quarantine | Suspend | Unresolved


def reply_of(mail: ParsedEmail) -> ReplyText:
    """What the sender wrote, and the history they quoted kept apart (``reply_text``)."""
    return extract_reply(mail.body)


def route(
    mail: ParsedEmail,
    lookup: TicketLookup,
    support: SupportAddress,
    recipients: Iterable[str] = (),
) -> Decision:
    if (reason := automated_reason(mail, support)) is not None:
        return Drop(reason)
    if mail.sender is None and mail.sender_problem is not None:
        return Suspend("ambiguous_sender", mail.sender_problem)
    if mail.sender is None:
        return Quarantine("no_sender", "neither From nor Sender names an address")
    found = match_ticket(mail, lookup, support, recipients)
    if isinstance(found, Unresolved):
        return found
    reply = reply_of(mail)
    body = reply.visible
    if found is None:
        return NewTicket(body)
    if not found.ticket.is_participant(mail.sender):
        return NewTicket(body, matched=found)
    if found.ticket.is_closed:
        return FollowUp(found, body)
    return Reply(found, body, reply.quoted)
