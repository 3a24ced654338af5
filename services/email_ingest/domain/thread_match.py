"""Which ticket a message belongs to, in order of precedence (docs/email.md):

1. ``In-Reply-To``, then ``References`` newest first, against Message-IDs the system knows
   (mail it received, and notification ids of the form ``<ticket-<n>.…@<support domain>>``);
2. a ``[#<n>]`` tag in the subject;
3. a ``+<n>`` plus address among the recipients.

Headers come first because they are the most specific (they name one message of one
thread); a subject tag survives clients that drop headers; plus addressing is the weakest
(a user may simply keep writing to an old address).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.message import ParsedEmail
from services.email_ingest.domain.tickets import TicketView

SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")
NOTIFICATION_ID = re.compile(r"^<ticket-(\d{1,12})\.[^@<>]*@(?P<domain>[^<>]+)>$")

MatchedBy = Literal["in_reply_to", "references", "notification_id", "subject_tag", "plus_address"]


class TicketLookup(Protocol):
    def ticket(self, number: int) -> TicketView | None: ...

    def ticket_for_message(self, message_id: str) -> TicketView | None: ...

    def is_pending(self, message_id: str) -> bool:
        """We handed this message on but have not yet seen which ticket it made."""
        ...

    def highest_number(self) -> int:
        """The highest ticket number known (0 for none)."""
        ...


@dataclass(frozen=True)
class Match:
    ticket: TicketView
    by: MatchedBy


@dataclass(frozen=True)
class Unresolved:
    """A thread header names a message we handed on whose ticket is not known yet."""

    message_id: str


def subject_tag(subject: str) -> int | None:
    match = SUBJECT_TAG.search(subject)
    return int(match.group(1)) if match else None


def notification_number(message_id: str, support: SupportAddress) -> int | None:
    match = NOTIFICATION_ID.match(message_id)
    if not match or match["domain"].lower() != support.domain:
        return None
    return int(match.group(1))


def match_ticket(
    mail: ParsedEmail,
    lookup: TicketLookup,
    support: SupportAddress,
    recipients: Iterable[str] = (),
) -> Match | Unresolved | None:
    """The ticket this message answers, or None when it starts a new conversation."""
    for mid in mail.thread_ids:
        by: MatchedBy = "in_reply_to" if mid in mail.in_reply_to else "references"
        if (ticket := lookup.ticket_for_message(mid)) is not None:
            return Match(ticket, by)
        number = notification_number(mid, support)
        if number is not None and (ticket := lookup.ticket(number)) is not None:
            return Match(ticket, "notification_id")
        if number is not None and number > lookup.highest_number():
            # Our notification about a ticket newer than any the index has seen yet: the
            # index lags the events (an acknowledgement answered within moments).
            return Unresolved(mid)
        if lookup.is_pending(mid):
            # The most specific known parent decides, even if its ticket is not known yet.
            return Unresolved(mid)
    number = subject_tag(mail.subject)
    if number is not None and (ticket := lookup.ticket(number)) is not None:
        return Match(ticket, "subject_tag")
    for address in (*recipients, *mail.to, *mail.cc):
        number = support.ticket_number(address)
        if number is not None and (ticket := lookup.ticket(number)) is not None:
            return Match(ticket, "plus_address")
    return None
