"""Ticket events → timer changes in the store."""

from __future__ import annotations

from collections.abc import Iterable

from contracts.events import Event, TicketClosed
from services.closer_worker import observability as obs
from services.closer_worker.application.ports import Applied, TimerStore
from services.closer_worker.domain.timers import change_for


async def apply_events(store: TimerStore, events: Iterable[Event]) -> Applied:
    """Schedule, move or cancel the timers a batch of events calls for, in order."""
    changes = []
    for event in events:
        if isinstance(event, TicketClosed) and event.data.closed_by == "automation":
            obs.CLOSES_CONFIRMED.inc()
            obs.log.debug(
                "auto_close_confirmed",
                ticket_id=str(event.ticket_id),
                ticket_number=event.ticket_number,
                solve_id=event.data.solve_id,
            )
        if (change := change_for(event)) is not None:
            changes.append(change)
    if not changes:
        return Applied()
    applied = await store.apply(changes)
    obs.SCHEDULED.inc(applied.scheduled)
    obs.CANCELLED.inc(applied.cancelled)
    return applied
