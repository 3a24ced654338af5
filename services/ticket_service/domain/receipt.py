"""Receipts make retries harmless: one receipt per command id, idempotency key or email
Message-ID, saved in the same transaction as the effect. A second attempt collides on the
receipt's deterministic id and gets the first outcome back instead of a second effect.

A receipt of a client's request key (an HTTP ``Idempotency-Key``) also holds the request's
``fingerprint``: the key means that one request, and a different request under it is
refused (:meth:`Receipt.answers`). Such a receipt lasts a limited time; an expired one is
:meth:`renewed <Receipt.renew>` by the next request with its key, as if the key were new.
Receipts without a fingerprint (Kafka command ids, email Message-IDs) deduplicate
deliveries of one message and never expire."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from typing_extensions import TypedDict

from services.ticket_service.domain.ids import receipt_id_for
from services.ticket_service.domain.snapshot import TypedSnapshot


class ReceiptState(TypedDict, total=False):
    key: str
    outcome: str
    ticket_id: UUID | None
    ticket_number: int | None
    command_type: str | None
    error: str | None
    reason: str | None
    fingerprint: str | None
    at: datetime


class Receipt(Aggregate):
    Snapshot = TypedSnapshot
    snapshot_state = ReceiptState

    @staticmethod
    def create_id(key: str) -> UUID:
        return receipt_id_for(key)

    @event("Recorded")
    def __init__(
        self,
        *,
        key: str,
        outcome: str,
        ticket_id: UUID | None,
        ticket_number: int | None,
        at: datetime,
        meta: dict[str, Any],
        command_type: str | None = None,
        error: str | None = None,
        reason: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        self.key = key
        self.outcome = outcome
        self.ticket_id = ticket_id
        self.ticket_number = ticket_number
        self.command_type = command_type
        self.error = error
        self.reason = reason
        self.fingerprint = fingerprint
        self.at = at

    @classmethod
    def record(
        cls,
        *,
        key: str,
        outcome: str,
        ticket_id: UUID | None,
        ticket_number: int | None,
        at: datetime,
        meta: dict[str, Any],
        command_type: str | None,
        error: str | None,
        reason: str | None,
        fingerprint: str | None = None,
    ) -> Receipt:
        """``Receipt(...)``, the same ``Recorded`` event, created without binding the
        arguments to ``__init__`` again (a batch of commands records one per command)."""
        return cls._create(
            cls.Recorded,  # type: ignore[attr-defined]
            id=receipt_id_for(key),
            key=key,
            outcome=outcome,
            ticket_id=ticket_id,
            ticket_number=ticket_number,
            at=at,
            meta=meta,
            command_type=command_type,
            error=error,
            reason=reason,
            fingerprint=fingerprint,
        )

    @event("Renewed")
    def renew(
        self,
        *,
        ticket_id: UUID | None,
        ticket_number: int | None,
        fingerprint: str | None,
        at: datetime,
    ) -> None:
        """An expired key used again: the receipt now stands for this new request."""
        self.outcome = "accepted"
        self.ticket_id = ticket_id
        self.ticket_number = ticket_number
        self.fingerprint = fingerprint
        self.at = at

    def expired(self, now: datetime, lifetime: timedelta) -> bool:
        """Whether a request key recorded here has outlived ``lifetime`` (receipts without
        a fingerprint deduplicate deliveries and never expire)."""
        return self.fingerprint is not None and now - self.at >= lifetime

    def answers(self, fingerprint: str | None) -> bool:
        """Whether the request with ``fingerprint`` is the one this receipt recorded."""
        return self.fingerprint == fingerprint

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"
