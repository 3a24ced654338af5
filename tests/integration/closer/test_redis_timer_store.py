"""The Redis timer store against a real Redis: version guard, leases, commit-if-unchanged.

Time is passed in (``now``), so lease expiry is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.closer_worker.adapters.redis_timer_store import RedisTimerStore
from services.closer_worker.application.rebuild import rebuild
from services.closer_worker.domain.timers import Cancel, Schedule, Timer

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisTimerStore]:
    s = RedisTimerStore.from_url(redis_url, prefix=f"test:{uuid.uuid4().hex}")
    yield s
    await s.redis.delete(s.timeline, s.timers, s.built_key, s.lock_key)
    await s.close()


def timer(
    due_in: float, solve_id: int = 1, version: int = 2, tid: uuid.UUID | None = None
) -> Timer:
    return Timer(tid or uuid.uuid4(), solve_id, NOW + timedelta(seconds=due_in), version)


async def test_schedule_claim_complete(store: RedisTimerStore) -> None:
    due, later = timer(-1), timer(60)
    applied = await store.apply([Schedule(due), Schedule(later)])
    assert (applied.scheduled, applied.cancelled) == (2, 0)
    assert await store.pending() == 2
    claimed = await store.claim_due(NOW.timestamp(), 30, 100)
    assert [c.timer for c in claimed] == [due]
    assert await store.complete(claimed) == 1
    assert await store.pending() == 1
    assert await store.get(due.ticket_id) is None
    assert await store.get(later.ticket_id) == later


async def test_a_leased_timer_is_not_claimed_again_until_its_lease_runs_out(
    store: RedisTimerStore,
) -> None:
    t = timer(-1)
    await store.apply([Schedule(t)])
    now = NOW.timestamp()
    assert len(await store.claim_due(now, 30, 100)) == 1
    assert await store.claim_due(now + 29, 30, 100) == []  # held by the first worker
    taken_over = await store.claim_due(now + 31, 30, 100)  # first worker died
    assert [c.timer for c in taken_over] == [t]  # same solve, same original due time


async def test_cancel_removes_and_an_older_event_cannot_resurrect(store: RedisTimerStore) -> None:
    t = timer(10, solve_id=1, version=2)
    await store.apply([Schedule(t)])
    applied = await store.apply([Cancel(t.ticket_id, 3)])
    assert applied.cancelled == 1
    assert await store.get(t.ticket_id) is None
    # while the cancel is stored nothing remains; a replayed schedule of a newer solve wins
    newer = timer(20, solve_id=2, version=4, tid=t.ticket_id)
    await store.apply([Schedule(newer), Schedule(t), Cancel(t.ticket_id, 3)])
    assert await store.get(t.ticket_id) == newer


async def test_redelivered_schedule_keeps_the_lease(store: RedisTimerStore) -> None:
    t = timer(-1)
    await store.apply([Schedule(t)])
    await store.claim_due(NOW.timestamp(), 30, 100)
    applied = await store.apply([Schedule(t)])  # same event again
    assert applied.scheduled == 0
    assert await store.claim_due(NOW.timestamp(), 30, 100) == []


async def test_complete_leaves_a_timer_that_changed_after_the_claim(
    store: RedisTimerStore,
) -> None:
    first = timer(-1, solve_id=1, version=2)
    await store.apply([Schedule(first)])
    claimed = await store.claim_due(NOW.timestamp(), 30, 100)
    second = timer(100, solve_id=2, version=4, tid=first.ticket_id)  # reopened and solved again
    await store.apply([Cancel(first.ticket_id, 3), Schedule(second)])
    assert await store.complete(claimed) == 0
    assert await store.get(first.ticket_id) == second


async def test_release_makes_a_timer_due_again_at_once(store: RedisTimerStore) -> None:
    t = timer(-5)
    await store.apply([Schedule(t)])
    claimed = await store.claim_due(NOW.timestamp(), 30, 100)
    await store.release(claimed)
    assert [c.timer for c in await store.claim_due(NOW.timestamp(), 30, 100)] == [t]


async def test_claims_are_split_between_workers(store: RedisTimerStore) -> None:
    timers = [timer(-1) for _ in range(250)]
    await store.apply([Schedule(t) for t in timers])
    now = NOW.timestamp()
    a = await store.claim_due(now, 30, 100)
    b = await store.claim_due(now, 30, 100)
    c = await store.claim_due(now, 30, 100)
    ids = [x.timer.ticket_id for x in a + b + c]
    assert len(ids) == len(set(ids)) == 250
    assert await store.next_due() == pytest.approx(now + 30)


async def test_built_marker_and_rebuild_lock(store: RedisTimerStore) -> None:
    assert not await store.is_built()
    await store.mark_built()
    assert await store.is_built()
    assert await store.lock_rebuild("a", 60)
    assert not await store.lock_rebuild("b", 60)
    await store.unlock_rebuild("b")  # not the owner: no effect
    assert not await store.lock_rebuild("b", 60)
    await store.unlock_rebuild("a")
    assert await store.lock_rebuild("b", 60)


class _SlowHistory:
    """A history that takes ``seconds`` to read and holds no event."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def read(self) -> AsyncIterator[Any]:
        await asyncio.sleep(self.seconds)
        return
        yield


async def test_a_rebuild_keeps_its_lock_while_it_runs_and_a_dead_ones_lock_runs_out(
    store: RedisTimerStore,
) -> None:
    """The lock is a lease renewed by the rebuild holding it: a rebuild slower than the
    lease keeps it to the end, and the lock of a worker killed mid-rebuild (no renewal)
    frees itself within the lease. It was one 600 s lock: a closer killed while rebuilding
    left the next one unready, without timers, for ten minutes."""
    running = asyncio.create_task(rebuild(store, _SlowHistory(1.5), lock_seconds=0.6))
    await asyncio.sleep(0.2)
    for _ in range(6):  # past twice the lease: still held
        assert not await store.lock_rebuild("other", 0.6)
        await asyncio.sleep(0.2)
    result = await running
    assert not result.skipped and await store.is_built()
    assert await store.lock_rebuild("dead", 0.5)  # taken, then never renewed
    assert (await rebuild(store, _SlowHistory(0), lock_seconds=0.5)).skipped
    await asyncio.sleep(0.7)
    assert not (await rebuild(store, _SlowHistory(0), lock_seconds=0.5)).skipped
