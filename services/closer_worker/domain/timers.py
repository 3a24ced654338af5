"""Timers: one per solved ticket, named by the solve it belongs to.

A ticket has at most one timer. Each timer carries the stream ``version`` of the event that
set it, so a change only applies when it is newer than what is stored: an old event
delivered again can neither resurrect a cancelled timer nor overwrite a newer solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from contracts.common import Status
from contracts.events import (
    Event,
    FollowUpCreated,
    StatusChanged,
    StreamEvent,
    TicketClosed,
    TicketCreated,
)


@dataclass(frozen=True, slots=True)
class Timer:
    """Close ``ticket_id`` at ``due_at`` if it is still solved by ``solve_id``."""

    ticket_id: UUID
    solve_id: int
    due_at: datetime
    version: int
    """Stream version of the event that scheduled it."""

    @property
    def due_ts(self) -> float:
        return self.due_at.timestamp()


@dataclass(frozen=True, slots=True)
class Schedule:
    timer: Timer

    @property
    def ticket_id(self) -> UUID:
        return self.timer.ticket_id

    @property
    def version(self) -> int:
        return self.timer.version


@dataclass(frozen=True, slots=True)
class Cancel:
    """The ticket left ``solved`` (reopened, closed by other means) at ``version``."""

    ticket_id: UUID
    version: int


TimerChange = Schedule | Cancel


def change_for(event: Event) -> TimerChange | None:
    """What an event on ``helpdesk.ticket-events`` does to the ticket's timer, if anything."""
    match event:
        case TicketCreated(data=data) | FollowUpCreated(data=data):
            if data.solve_id is not None and data.auto_close_due_at is not None:
                return Schedule(_timer(event, data.solve_id, data.auto_close_due_at))
            return None
        case StatusChanged(data=data):
            if data.to_status == Status.SOLVED:
                if data.solve_id is None or data.auto_close_due_at is None:
                    return Cancel(event.ticket_id, event.version)  # no due time: nothing to run
                return Schedule(_timer(event, data.solve_id, data.auto_close_due_at))
            return Cancel(event.ticket_id, event.version)
        case TicketClosed():
            return Cancel(event.ticket_id, event.version)
        case _:
            return None


def _timer(event: StreamEvent, solve_id: int, due_at: datetime) -> Timer:
    return Timer(
        ticket_id=event.ticket_id,
        solve_id=solve_id,
        due_at=as_utc(due_at),
        version=event.version,
    )


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def newer(change: TimerChange, stored_version: int | None) -> bool:
    """A change applies only over an older stored timer (or none)."""
    return stored_version is None or change.version > stored_version


class PendingTimers:
    """The timers that should exist after a run of events: the fold a rebuild computes.

    Holds only currently solved tickets, so its size follows the pending timers, not the
    number of tickets ever seen.
    """

    def __init__(self) -> None:
        self._timers: dict[UUID, Timer] = {}

    def apply(self, change: TimerChange) -> None:
        current = self._timers.get(change.ticket_id)
        if current is not None and not newer(change, current.version):
            return
        if isinstance(change, Schedule):
            self._timers[change.ticket_id] = change.timer
        else:
            self._timers.pop(change.ticket_id, None)

    def __len__(self) -> int:
        return len(self._timers)

    def timers(self) -> list[Timer]:
        return list(self._timers.values())
