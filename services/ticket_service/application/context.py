"""Who asks, and the ids that tie a request to the events it causes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from contracts.common import SCHEMA_VERSION, Actor


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RequestContext:
    actor: Actor
    correlation_id: str | None = None
    causation_id: str | None = None
    at: datetime = field(default_factory=utcnow)

    @property
    def actor_dict(self) -> dict[str, Any]:
        return self.actor.model_dump(mode="json", exclude_none=True)

    @property
    def meta(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("correlation_id", self.correlation_id),
                ("causation_id", self.causation_id),
            )
            if v is not None
        }

    def command_head(self, number: int | None = None) -> dict[str, Any]:
        """The envelope of a command made for this context (an API request, an in-process
        call), to build with ``model_construct``: the request was validated already. Its
        id only names it in logs (a request is keyed by its idempotency key), so it need
        not be unguessable: ``uuid4()`` reads the OS's random source, which releases the GIL
        on every request."""
        return {
            "command_id": UUID(int=random.getrandbits(128), version=4),
            "issued_at": self.at,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "ticket_id": None,
            "ticket_number": number,
            "schema_version": SCHEMA_VERSION,
        }
