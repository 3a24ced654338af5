"""One message in, one outcome out: parse → drop / quarantine / route → authenticate →
suspend / publish.

A mail that would act on an existing ticket (a reply, a follow-up, a thread we handed on)
must be vouched for by the :class:`Authenticator`; otherwise it is suspended whole until an
admin releases (processed once, as if authenticated) or rejects it. A mail that only
creates a ticket is processed, its authenticity recorded in the ticket's channel details.

The caller (SMTP session, file import) acknowledges the message only after :meth:`ingest`
returns; a :class:`PublishFailed` means "not handed on, try again later" (SMTP 451).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import ValidationError

from contracts.common import MailReference
from services.email_ingest.application.authentication import Authenticator, Unchecked
from services.email_ingest.application.commands import (
    build_command,
    correlation_for,
    valid_address,
)
from services.email_ingest.application.ports import (
    CommandPublisher,
    PublishFailed,
    Quarantine,
    SuspendedQueue,
    TicketIndex,
)
from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.authenticity import Authenticity, Outcome
from services.email_ingest.domain.message import ParsedEmail, Unparseable, parse_email
from services.email_ingest.domain.routing import (
    Drop,
    FollowUp,
    NewTicket,
    Reply,
    Suspend,
    route,
)
from services.email_ingest.domain.routing import Quarantine as QuarantineDecision
from services.email_ingest.domain.thread_match import Unresolved
from services.logging_setup import bind_correlation_id, clear_correlation_id
from services.mail_store import MailStore
from services.mail_suppression import suppresses

log = logging.getLogger("helpdesk.email_ingest")

PARSE_IN_THREAD_BYTES = 512 * 1024
"""Messages larger than this are parsed off the event loop so SMTP sessions keep moving."""


class Kind(StrEnum):
    CREATED = "create_ticket"
    REPLIED = "add_comment"
    FOLLOW_UP = "follow_up_requested"
    DROPPED = "dropped"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class IngestOutcome:
    kind: Kind
    message_id: str | None = None
    reason: str = ""
    ticket_number: int | None = None
    """The matched ticket (replies, follow-ups, unknown senders on a matched ticket)."""
    command_id: str | None = None
    quarantine_id: str | None = None
    suspended_id: str | None = None
    authenticity: str | None = None
    """The authentication outcome (``pass``, ``fail``, ``no_verdict``, ``unchecked``,
    ``released``) when one was assessed."""

    @property
    def handed_on(self) -> bool:
        return self.kind in (Kind.CREATED, Kind.REPLIED, Kind.FOLLOW_UP)


@dataclass
class IngestService:
    index: TicketIndex
    publisher: CommandPublisher
    quarantine: Quarantine
    suspended: SuspendedQueue
    support: SupportAddress
    max_bytes: int
    authenticator: Authenticator = dataclasses.field(default_factory=Unchecked)
    resolve_wait: float = 10.0
    """How long to wait for the index to learn the ticket of a parent message we handed
    on moments ago, before the reply goes to quarantine (``unresolved_thread``)."""
    clock: Callable[[], datetime] = dataclasses.field(default=lambda: datetime.now(UTC))
    count: Callable[[str], None] = dataclasses.field(default=lambda outcome: None)
    """Called with each outcome's kind (the Prometheus counter in production)."""
    count_auth: Callable[[str], None] = dataclasses.field(default=lambda outcome: None)
    """Called with each authentication outcome assessed."""
    mail_store: MailStore | None = None
    """Where every mail handed on (a new ticket, a reply, a follow-up) is kept whole — the
    message and each attachment's content — before its command is published; the ticket
    or comment it makes references them (issue #20)."""
    suppress: Callable[[str, str], None] | None = None
    """Called with (sender, reason) for a dropped auto-submitted, bulk or list mail: the
    suppression list outbound mail never writes to (``services/mail_suppression.py``)."""
    _in_flight: set[str] = dataclasses.field(default_factory=set)

    async def ingest(
        self,
        raw: bytes,
        *,
        mail_from: str | None = None,
        recipients: tuple[str, ...] = (),
        max_bytes: int | None = None,
        released_by: str | None = None,
    ) -> IngestOutcome:
        """``released_by``: an admin released this mail from the suspended queue; it is
        processed as if authenticated (once: the Message-ID dedupe still applies)."""
        try:
            outcome = await self._ingest(raw, mail_from, recipients, max_bytes, released_by)
        except PublishFailed:
            raise
        except Exception as error:  # a bug must not lose the message: keep it
            log.exception("email ingest failed; quarantining")
            outcome = self._quarantine(
                raw, "internal_error", f"{type(error).__name__}: {error}", mail_from, recipients
            )
        finally:
            clear_correlation_id()
        self.count(outcome.kind.value)
        return outcome

    async def _ingest(
        self,
        raw: bytes,
        mail_from: str | None,
        recipients: tuple[str, ...],
        max_bytes: int | None,
        released_by: str | None,
    ) -> IngestOutcome:
        limit = self.max_bytes if max_bytes is None else max_bytes
        if len(raw) > limit:
            return self._quarantine(
                raw, "too_large", f"{len(raw)} bytes > {limit}", mail_from, recipients
            )
        try:
            if len(raw) > PARSE_IN_THREAD_BYTES:
                mail = await asyncio.to_thread(parse_email, raw)
            else:
                mail = parse_email(raw)
        except Unparseable as error:
            return self._quarantine(raw, error.reason, error.detail, mail_from, recipients)
        if (
            mail.sender is None
            and (mail.sender_problem is None or released_by is not None)
            and mail_from
            and valid_address(mail_from)
        ):
            # An ambiguous From is not replaced by the envelope unless an admin released it.
            mail = dataclasses.replace(mail, sender=mail_from.lower(), sender_problem=None)
        mid = mail.message_id
        bind_correlation_id(correlation_for(mid))
        if self.index.handed_on(mid) is not None or mid in self._in_flight:
            log.info("email duplicate message_id=%s dropped", mid)
            return IngestOutcome(Kind.DUPLICATE, mid, "message_id_seen")
        self._in_flight.add(mid)
        try:
            return await self._route_and_publish(raw, mail, mail_from, recipients, released_by)
        finally:
            self._in_flight.discard(mid)

    async def _route_and_publish(
        self,
        raw: bytes,
        mail: ParsedEmail,
        mail_from: str | None,
        recipients: tuple[str, ...],
        released_by: str | None,
    ) -> IngestOutcome:
        mid = mail.message_id
        decision = route(mail, self.index, self.support, recipients)
        auth: Authenticity | None = None
        if isinstance(decision, NewTicket | Reply | FollowUp | Unresolved):
            auth = await self._authenticate(raw, mail, released_by)
            if not auth.trusted and not isinstance(decision, NewTicket):
                ticket = None if isinstance(decision, Unresolved) else decision.match.ticket
                return self._suspend(
                    raw,
                    "unauthenticated",
                    auth.reason,
                    mail,
                    mail_from,
                    recipients,
                    ticket.number if ticket else None,
                    auth,
                )
        waited = 0.0
        while isinstance(decision, Unresolved) and waited < self.resolve_wait:
            await asyncio.sleep(0.05)
            waited += 0.05
            decision = route(mail, self.index, self.support, recipients)
        match decision:
            case Drop(reason=reason):
                log.info("email dropped message_id=%s reason=%s", mid, reason)
                if self.suppress is not None and mail.sender and suppresses(reason):
                    self.suppress(mail.sender, reason)
                return IngestOutcome(Kind.DROPPED, mid, reason)
            case QuarantineDecision(reason=reason, detail=detail):
                return self._quarantine(raw, reason, detail, mail_from, recipients, mid)
            case Suspend(reason=reason, detail=detail):
                return self._suspend(raw, reason, detail, mail, mail_from, recipients, None)
            case Unresolved(message_id=parent):
                return self._quarantine(
                    raw,
                    "unresolved_thread",
                    f"parent {parent} was handed on but its ticket is not known yet",
                    mail_from,
                    recipients,
                    mid,
                )
        assert isinstance(decision, NewTicket | Reply | FollowUp) and auth is not None
        original = None
        if self.mail_store is not None:
            original = await self._keep(raw, mail)
        try:
            command = build_command(
                decision,
                mail,
                self.support,
                self.clock(),
                authenticity=auth,
                original=original,
            )
        except ValidationError as error:
            fields = ",".join(str(e["loc"][-1]) for e in error.errors() if e["loc"]) or "?"
            return self._quarantine(
                raw, "invalid_command", f"fields: {fields}", mail_from, recipients, mid
            )
        await self.publisher.publish(command)
        kind = {NewTicket: Kind.CREATED, Reply: Kind.REPLIED, FollowUp: Kind.FOLLOW_UP}[
            type(decision)
        ]
        self.index.record_handed_on(mid, str(command.command_id), kind.value)
        matched = decision.match if not isinstance(decision, NewTicket) else decision.matched
        log.info(
            "email %s message_id=%s sender=%s ticket=%s by=%s auth=%s",
            kind.value,
            mid,
            mail.sender,
            matched.ticket.number if matched else None,
            matched.by if matched else None,
            auth.outcome.value,
        )
        return IngestOutcome(
            kind,
            mid,
            ticket_number=matched.ticket.number if matched else None,
            command_id=str(command.command_id),
            authenticity=auth.outcome.value,
        )

    async def _keep(self, raw: bytes, mail: ParsedEmail) -> MailReference:
        """Store the message and its attachments durably (before the command that refers
        to them is published); an error here quarantines the message, never loses it."""
        store = self.mail_store
        assert store is not None

        def keep() -> str:
            for attachment in mail.attachments:
                store.put(attachment.content)
            return store.put(raw)

        digest = await asyncio.to_thread(keep)
        return MailReference(message_id=mail.message_id, size=len(raw), sha256=digest)

    async def _authenticate(
        self, raw: bytes, mail: ParsedEmail, released_by: str | None
    ) -> Authenticity:
        if released_by is not None:
            auth = Authenticity(Outcome.RELEASED, f"released by {released_by}")
        else:
            auth = await self.authenticator.assess(raw, mail)
        self.count_auth(auth.outcome.value)
        log.info(
            "email authentication message_id=%s sender=%s outcome=%s reason=%s",
            mail.message_id,
            mail.sender,
            auth.outcome.value,
            auth.reason,
        )
        return auth

    def _suspend(
        self,
        raw: bytes,
        reason: str,
        detail: str,
        mail: ParsedEmail,
        mail_from: str | None,
        recipients: tuple[str, ...],
        ticket_number: int | None,
        auth: Authenticity | None = None,
    ) -> IngestOutcome:
        sid = self.suspended.put(
            raw,
            reason,
            detail,
            message_id=mail.message_id,
            ticket_number=ticket_number,
            mail_from=mail_from,
            recipients=recipients,
        )
        log.warning(
            "email suspended id=%s message_id=%s reason=%s detail=%s ticket=%s",
            sid,
            mail.message_id,
            reason,
            detail,
            ticket_number,
        )
        return IngestOutcome(
            Kind.SUSPENDED,
            mail.message_id,
            reason,
            ticket_number=ticket_number,
            suspended_id=sid,
            authenticity=auth.outcome.value if auth else None,
        )

    def _quarantine(
        self,
        raw: bytes,
        reason: str,
        detail: str,
        mail_from: str | None,
        recipients: tuple[str, ...],
        message_id: str | None = None,
    ) -> IngestOutcome:
        qid = self.quarantine.put(raw, reason, detail, mail_from=mail_from, recipients=recipients)
        log.warning("email quarantined id=%s reason=%s detail=%s", qid, reason, detail)
        return IngestOutcome(Kind.QUARANTINED, message_id, reason, quarantine_id=qid)
