"""What the webhook service needs from the outside: a store (subscriptions, audit, ticket
projection, deliveries with their attempts), a sender (HTTP) and a resolver."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    event_types: tuple[str, ...]
    description: str | None
    active: bool
    created_at: float
    updated_at: float
    disabled_reason: str | None = None
    last_success_at: float | None = None


@dataclass(frozen=True)
class NewDelivery:
    """A delivery planned from an event (or a ping): its body is fixed once, here."""

    id: str
    webhook_id: str
    ordering_key: str
    """Deliveries with one key go out one at a time in order (the ticket's id)."""
    type: str
    body: bytes
    event_at: float


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to one dispatcher, with what it takes to send it."""

    id: str
    webhook_id: str
    url: str
    secrets: tuple[str, ...]
    """The signing secrets: the current one, and the previous during a rotation overlap."""
    body: bytes
    attempts: int
    expires_at: float
    event_at: float


@dataclass(frozen=True)
class Answer:
    """What one attempt got: an HTTP status, or an error (no answer)."""

    status: int | None
    duration: float
    error: str | None = None
    body: bytes = b""
    retry_after: str | None = None


@dataclass(frozen=True)
class Settled:
    """One attempt's outcome, to record."""

    delivery_id: str
    webhook_id: str
    attempt_at: float
    answer: Answer
    status: str
    next_attempt_at: float | None


@dataclass
class DeliveryRow:
    id: str
    webhook_id: str
    type: str
    status: str
    created_at: float
    next_attempt_at: float | None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    payload: bytes = b""


class WebhookStore(Protocol):
    def consume(self, events: Sequence[dict[str, Any]]) -> int:
        """Fold a consumed batch into the ticket projection and record the deliveries of
        every subscribed webhook, in one transaction; returns how many were recorded."""
        ...

    def settle_and_claim(
        self,
        settled: Sequence[Settled],
        owner: str,
        now: float,
        limit: int,
        exclude: Sequence[str],
        lease_seconds: float,
        disable_after: float,
        per_endpoint: int | None = None,
        room: dict[str, int] | None = None,
    ) -> list[Claimed]:
        """Record attempts and claim the next deliveries: one transaction a round."""
        ...

    def backlog(self) -> dict[str, int]: ...


class Sender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes) -> Answer: ...

    async def close(self) -> None: ...


class SubscriptionStore(Protocol):
    """What the management API uses of the store."""

    def create_webhook(
        self, url: str, event_types: Sequence[str], description: str | None, actor: str
    ) -> tuple[Webhook, str]: ...

    def webhook(self, webhook_id: str) -> Webhook | None: ...

    def webhooks(self) -> list[Webhook]: ...

    def update_webhook(
        self, webhook_id: str, changes: dict[str, Any], actor: str
    ) -> Webhook | None: ...

    def delete_webhook(self, webhook_id: str, actor: str) -> bool: ...

    def rotate_secret(self, webhook_id: str, actor: str, overlap_seconds: float) -> str | None: ...

    def audit(self, webhook_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]: ...

    def deliveries(
        self,
        webhook_id: str,
        *,
        status: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> tuple[list[DeliveryRow], int | None]: ...

    def redeliver(self, webhook_id: str, delivery_id: str, actor: str) -> bool: ...

    def ping(self, webhook_id: str) -> str | None: ...

    def close(self) -> None: ...
