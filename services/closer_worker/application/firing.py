"""Fire due timers: lease them, publish their close commands, then remove them.

A timer is removed only after the broker confirmed its command (acks=all). If this worker
dies in between, the lease runs out and another worker fires it again; the command id is
the same, so the ticket service closes the ticket once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.closer_worker import observability as obs
from services.closer_worker.application.ports import CommandPublisher, TimerStore
from services.closer_worker.domain.closing import lateness_seconds


@dataclass(frozen=True)
class FiringPolicy:
    batch_size: int = 500
    lease_seconds: float = 30.0
    """Longer than a publish takes; a dead worker's timers wait this long at worst."""
    idle_poll_seconds: float = 0.2
    """Longest sleep when nothing is due (other workers may add earlier timers)."""
    error_backoff_seconds: float = 1.0


class Firer:
    def __init__(
        self,
        store: TimerStore,
        publisher: CommandPublisher,
        policy: FiringPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.policy = policy or FiringPolicy()
        self.clock = clock
        self.closes_published = 0

    async def fire_due(self) -> int:
        """One round: fire up to a batch of due timers; the number published."""
        now = self.clock()
        claimed = await self.store.claim_due(now, self.policy.lease_seconds, self.policy.batch_size)
        if not claimed:
            return 0
        issued_at = datetime.fromtimestamp(now, UTC)
        confirmed = await self.publisher.publish_closes([c.timer for c in claimed], issued_at)
        acked_at = datetime.fromtimestamp(self.clock(), UTC)
        done = [c for c, ok in zip(claimed, confirmed, strict=True) if ok]
        failed = [c for c, ok in zip(claimed, confirmed, strict=True) if not ok]
        if done:
            await self.store.complete(done)
        if failed:
            obs.PUBLISH_FAILURES.inc(len(failed))
            await self.store.release(failed)
            obs.log.warning("close_publish_failed", count=len(failed))
        lateness = [lateness_seconds(c.timer, acked_at) for c in done]
        for late in lateness:
            obs.LATENESS.observe(late)
        # Log lines below the level are skipped before their fields are built: one line per
        # close cost as much as the rest of the close, even when filtered out.
        if obs.log.is_enabled_for(logging.DEBUG):
            for c, late in zip(done, lateness, strict=True):
                obs.log.debug(
                    "close_published",
                    ticket_id=str(c.timer.ticket_id),
                    solve_id=c.timer.solve_id,
                    lateness_s=round(late, 3),
                )
        obs.CLOSES_PUBLISHED.inc(len(done))
        self.closes_published += len(done)
        if done and obs.log.is_enabled_for(logging.INFO):
            obs.log.info(
                "closes_published",
                count=len(done),
                closes_total=self.closes_published,
                pending=await self.store.pending(),
                lateness_min_s=round(min(lateness), 3),
                lateness_max_s=round(max(lateness), 3),
            )
        return len(done)

    async def run(self, stop: asyncio.Event) -> None:
        """Fire until ``stop`` is set: back to back while batches are full, else poll.

        The pending gauge is read after every round that was not full, and at most once a
        second while they are: a burst does not pay a Redis round trip per round for it."""
        gauge_at = -math.inf
        while not stop.is_set():
            try:
                fired = await self.fire_due()
                if fired < self.policy.batch_size or time.monotonic() - gauge_at >= 1.0:
                    obs.PENDING.set(await self.store.pending())
                    gauge_at = time.monotonic()
            except Exception as error:
                obs.log.exception("firing_failed", error=repr(error))
                await sleep_unless(stop, self.policy.error_backoff_seconds)
                continue
            if fired >= self.policy.batch_size:
                continue
            await sleep_unless(stop, await self._idle_delay())

    async def _idle_delay(self) -> float:
        next_due = await self.store.next_due()
        if next_due is None:
            return self.policy.idle_poll_seconds
        return min(self.policy.idle_poll_seconds, max(0.0, next_due - self.clock()))


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
