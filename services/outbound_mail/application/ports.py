"""What the notifier needs from the outside: a store (ticket projection, processed events,
the sent log), the suppression list, a renderer and a transport (SMTP relay or Maildir)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from services.outbound_mail.domain.notifications import Notification, TicketState


class Status(StrEnum):
    PENDING = "pending"
    """Intent recorded, not yet confirmed by the relay (re-sent after a restart)."""
    SENT = "sent"
    FAILED = "failed"
    """Permanent: a 5xx, or 4xx / unreachable relay past ``smtp_give_up_after``."""
    RATE_LIMITED = "rate_limited"
    """Not sent: the recipient had its allowance for the window (loop defence)."""


@dataclass(frozen=True)
class Intent:
    """One (event, recipient) mail, rendered once: a re-send uses these very bytes."""

    event_id: str
    recipient: str
    message_id: str
    ticket_number: int
    kind: str
    raw: bytes
    created_at: float
    """Unix time the intent was recorded."""
    seq: int = 0
    """Position in the sent log (set by the store)."""


@dataclass(frozen=True)
class Planned:
    """What one event changed: its ticket's state, and the mails it causes."""

    ticket_id: str
    state: TicketState | None
    event_id: str
    intents: Sequence[Intent] = ()
    rate_limited: Sequence[Intent] = ()
    unrenderable: Sequence[tuple[Intent, str]] = ()
    """Mails whose template failed (an override's typo): recorded as failed with the error,
    so the event is done and the next ones go on."""


class TemporaryFailure(Exception):
    """Connection error or 4xx: try again later."""


class PermanentFailure(Exception):
    """5xx: recorded as failed with this reason, never retried."""


class NotificationStore(Protocol):
    def state(self, ticket_id: str) -> TicketState | None: ...

    def processed(self, event_id: str) -> bool: ...

    def record(self, planned: Sequence[Planned]) -> None:
        """For each planned event: the ticket's new state, the event as processed and its
        intents. One transaction for them all (a consumed batch)."""
        ...

    def pending_after(self, seq: int, limit: int) -> list[Intent]: ...

    def mark_sent(self, intent: Intent, reply: str) -> None: ...

    def mark_failed(self, intent: Intent, reason: str) -> None: ...

    def recent_sends(self, since: float) -> list[tuple[str, float]]:
        """(recipient, time) of intents recorded since ``since`` (to seed the rate limit)."""
        ...


class Suppression(Protocol):
    def among(self, addresses: list[str] | tuple[str, ...]) -> set[str]: ...


class Renderer(Protocol):
    def render(self, notification: Notification, sender: str) -> bytes: ...


class Transport(Protocol):
    """Hands one message to the relay (or the outbox). Returns the server's reply."""

    async def send(self, sender: str, recipient: str, raw: bytes) -> str: ...

    async def close(self) -> None: ...


def recipients_of(state: TicketState | None) -> tuple[str, ...]:
    return () if state is None else (state.requester, *state.cc)
