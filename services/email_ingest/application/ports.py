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
