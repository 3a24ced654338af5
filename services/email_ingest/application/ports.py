"""What the ingest application needs from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.commands import CommandEnvelope
from services.email_ingest.domain.thread_match import TicketLookup


class CommandPublisher(Protocol):
    async def publish(self, command: CommandEnvelope) -> None:
        """Return only once the broker has durably acknowledged the command."""
        ...


class PublishFailed(Exception):
    """The command could not be handed on; the message must not be acknowledged."""


class TicketIndex(TicketLookup, Protocol):
    """Tickets and Message-IDs as learned from the event stream, plus what we handed on."""

    def record_handed_on(self, message_id: str, command_id: str, kind: str) -> None: ...

    def handed_on(self, message_id: str) -> str | None:
        """The kind of command already published for this Message-ID, if any."""
        ...


@dataclass(frozen=True)
class QuarantinedMail:
    id: str
    reason: str
    detail: str
    received_at: datetime
    size: int
    subject: str
    sender: str
    attempts: int


class Quarantine(Protocol):
    def put(
        self,
        raw: bytes,
        reason: str,
        detail: str = "",
        *,
        mail_from: str | None = None,
        recipients: tuple[str, ...] = (),
    ) -> str:
        """Keep the message whole with its reason, durably; returns its id."""
        ...

    def list(self) -> list[QuarantinedMail]: ...

    def get(self, id: str) -> tuple[bytes, str | None, tuple[str, ...]]:
        """Raw bytes, envelope sender and recipients of a kept message."""
        ...

    def remove(self, id: str) -> None: ...


@dataclass(frozen=True)
class SuspendedMail:
    """A mail held back because its sender is not proven (docs/email.md, trust model)."""

    id: str
    reason: str
    """``unauthenticated`` or ``ambiguous_sender``."""
    detail: str
    received_at: datetime
    size: int
    subject: str
    sender: str
    """The sender as written in ``From`` (not an attributed address)."""
    message_id: str | None
    ticket_number: int | None
    """The ticket the mail would have acted on."""
    mail_from: str | None
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    id: str
    action: str
    """``released`` or ``rejected``."""
    by: str
    message_id: str | None
    outcome: str


class SuspendedNotFound(KeyError):
    pass


class SuspendedQueue(Protocol):
    """Durable, whole, with the reason; released or rejected by an admin."""

    def put(
        self,
        raw: bytes,
        reason: str,
        detail: str,
        *,
        message_id: str | None,
        ticket_number: int | None,
        mail_from: str | None,
        recipients: tuple[str, ...],
    ) -> str: ...

    def list(self) -> list[SuspendedMail]: ...

    def get(self, id: str) -> SuspendedMail:
        """Raises :class:`SuspendedNotFound`."""
        ...

    def raw(self, id: str) -> bytes: ...

    def remove(self, id: str, *, action: str, by: str, outcome: str) -> AuditRecord:
        """Delete the entry, leaving an audit record."""
        ...

    def audit(self, id: str | None = None) -> tuple[AuditRecord, ...]: ...

    def size(self) -> int: ...
