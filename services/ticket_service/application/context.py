"""Who asks, and the ids that tie a request to the events it causes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.common import Actor


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
