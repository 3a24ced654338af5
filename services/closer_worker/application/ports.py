"""What the closer's use cases need from the outside world."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.events import Event
from services.closer_worker.domain.timers import Timer, TimerChange


@dataclass(frozen=True, slots=True)
class Claimed:
    """A due timer leased to this worker; ``token`` identifies exactly what was leased."""

    timer: Timer
    token: str


@dataclass(frozen=True, slots=True)
class Applied:
    scheduled: int = 0
    cancelled: int = 0


class TimerStore(Protocol):
    async def apply(self, changes: Sequence[TimerChange]) -> Applied:
        """Apply changes in order; each only over an older stored timer."""
        ...

    async def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Claimed]:
        """Lease up to ``limit`` timers due by ``now`` (and not leased by someone else)."""
        ...

    async def complete(self, claimed: Sequence[Claimed]) -> int:
        """Remove timers whose close was published, unless they changed since the claim."""
        ...

    async def release(self, claimed: Sequence[Claimed]) -> None:
        """Give leased timers back at once (their close could not be published)."""
        ...

    async def pending(self) -> int: ...

    async def next_due(self) -> float | None: ...

    async def is_built(self) -> bool:
        """Whether the store holds a completed rebuild (False after a flush or on a new Redis)."""
        ...

    async def mark_built(self) -> None: ...

    async def lock_rebuild(self, owner: str, seconds: float) -> bool:
        """Take the rebuild lock (one rebuild at a time across workers)."""
        ...

    async def renew_rebuild(self, owner: str, seconds: float) -> bool:
        """Extend the lock this owner holds by ``seconds`` (False: it is not held)."""
        ...

    async def unlock_rebuild(self, owner: str) -> None: ...


class CommandPublisher(Protocol):
    async def publish_closes(self, timers: Sequence[Timer], issued_at: datetime) -> list[bool]:
        """Publish (acks=all) the close command of each due timer, as
        :func:`~services.closer_worker.domain.closing.close_command` makes it; one flag
        per timer, True when the broker confirmed its command."""
        ...


class EventHistory(Protocol):
    def read(self) -> AsyncIterator[Event]:
        """Every event from the start of the log up to its end as of the call."""
        ...
