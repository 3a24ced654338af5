"""Re-derive the pending timers from the event history (a lost or flushed Redis).

The history is folded in memory into the timers that should exist (only solved tickets are
kept, so memory follows the pending timers), then written with the same version guard as
live changes: a newer change already applied by a live consumer wins. Overdue timers are
due at once, so the firing loop closes them right away.

Events after the history's end (as of the start of the read) are the live consumer's; a
timer that a live cancel removed while the rebuild was reading can come back for a moment,
and its close is then refused by the ticket service as stale, never applied.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from services.closer_worker import observability as obs
from services.closer_worker.application.ports import EventHistory, TimerStore
from services.closer_worker.domain.timers import PendingTimers, Schedule, change_for

WRITE_CHUNK = 1000


@dataclass(frozen=True)
class RebuildResult:
    events_read: int
    timers_written: int
    seconds: float
    skipped: bool = False
    """Another worker held the rebuild lock."""


async def rebuild(
    store: TimerStore,
    history: EventHistory,
    *,
    lock_seconds: float = 15.0,
    owner: str | None = None,
) -> RebuildResult:
    """``lock_seconds``: the rebuild lock's lease, renewed while this rebuild runs."""
    owner = owner or uuid.uuid4().hex
    if not await store.lock_rebuild(owner, lock_seconds):
        obs.log.info("rebuild_skipped", reason="another worker is rebuilding")
        return RebuildResult(0, 0, 0.0, skipped=True)
    started = time.perf_counter()
    keeper = asyncio.create_task(_keep_lock(store, owner, lock_seconds))
    try:
        pending = PendingTimers()
        events = 0
        async for event in history.read():
            events += 1
            if (change := change_for(event)) is not None:
                pending.apply(change)
        timers = pending.timers()
        written = 0
        for start in range(0, len(timers), WRITE_CHUNK):
            chunk = [Schedule(t) for t in timers[start : start + WRITE_CHUNK]]
            written += (await store.apply(chunk)).scheduled
        await store.mark_built()
    finally:
        keeper.cancel()  # not awaited: awaiting it could swallow a cancel of this task
        await store.unlock_rebuild(owner)
    seconds = time.perf_counter() - started
    obs.REBUILDS.inc()
    obs.REBUILD_SECONDS.observe(seconds)
    obs.PENDING.set(await store.pending())
    obs.log.info(
        "rebuild_done",
        events_read=events,
        timers_pending=len(timers),
        timers_written=written,
        seconds=round(seconds, 3),
    )
    return RebuildResult(events, len(timers), seconds)


async def _keep_lock(store: TimerStore, owner: str, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds / 3)
        try:
            if not await store.renew_rebuild(owner, seconds):
                obs.log.warning("rebuild_lock_lost", owner=owner)
        except Exception as error:  # Redis gone: the rebuild's own writes fail too
            obs.log.warning("rebuild_lock_renewal_failed", error=repr(error))


async def rebuild_if_lost(
    store: TimerStore, history: EventHistory, *, lock_seconds: float = 15.0
) -> RebuildResult | None:
    """Rebuild when the store holds no completed rebuild (new or flushed Redis)."""
    if await store.is_built():
        return None
    obs.log.warning("timer_store_not_built", action="rebuilding from history")
    return await rebuild(store, history, lock_seconds=lock_seconds)
