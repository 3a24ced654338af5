"""The firing loop's bookkeeping, against an in-memory store and publisher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

from contracts.commands import CloseTicket
from services.closer_worker.application.firing import Firer, FiringPolicy
from services.closer_worker.application.ports import Applied, Claimed
from services.closer_worker.domain.closing import close_command, close_command_id
from services.closer_worker.domain.timers import Timer, TimerChange

NOW = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


class ListStore:
    """Just enough of a timer store to watch what the firer does with claims."""

    def __init__(self, timers: list[Timer]) -> None:
        self.timers = timers
        self.completed: list[Claimed] = []
        self.released: list[Claimed] = []

    async def apply(self, changes: Sequence[TimerChange]) -> Applied:
        raise NotImplementedError

    async def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Claimed]:
        due = [t for t in self.timers if t.due_ts <= now][:limit]
        self.timers = [t for t in self.timers if t not in due]
        return [Claimed(t, f"token-{t.solve_id}") for t in due]

    async def complete(self, claimed: Sequence[Claimed]) -> int:
        self.completed += claimed
        return len(claimed)

    async def release(self, claimed: Sequence[Claimed]) -> None:
        self.released += claimed

    async def pending(self) -> int:
        return len(self.timers)

    async def next_due(self) -> float | None:
        return min((t.due_ts for t in self.timers), default=None)


class Publisher:
    def __init__(self, refuse: set[int] | None = None) -> None:
        self.refuse = refuse or set()
        self.sent: list[CloseTicket] = []

    async def publish_closes(self, timers: Sequence[Timer], issued_at: datetime) -> list[bool]:
        commands = [close_command(t, issued_at) for t in timers]
        self.sent += commands
        return [c.data.solve_id not in self.refuse for c in commands]


def timer(solve_id: int, due_in: float) -> Timer:
    due = datetime.fromtimestamp(NOW + due_in, UTC)
    return Timer(uuid4(), solve_id, due, solve_id + 1)


async def test_fires_only_due_timers_and_removes_them_after_the_ack() -> None:
    due, later = timer(1, -5), timer(2, +60)
    store, publisher = ListStore([due, later]), Publisher()
    firer = Firer(store, publisher, clock=lambda: NOW)
    assert await firer.fire_due() == 1
    assert [c.command_id for c in publisher.sent] == [close_command_id(due.ticket_id, 1)]
    assert [c.timer for c in store.completed] == [due]
    assert store.timers == [later]
    assert await firer.fire_due() == 0


async def test_a_close_the_broker_did_not_confirm_is_released_not_removed() -> None:
    ok, refused = timer(1, -1), timer(2, -1)
    store, publisher = ListStore([ok, refused]), Publisher(refuse={2})
    firer = Firer(store, publisher, clock=lambda: NOW)
    assert await firer.fire_due() == 1
    assert [c.timer for c in store.completed] == [ok]
    assert [c.timer for c in store.released] == [refused]


async def test_fires_in_batches() -> None:
    store = ListStore([timer(i, -1) for i in range(1, 8)])
    publisher = Publisher()
    firer = Firer(store, publisher, FiringPolicy(batch_size=3), clock=lambda: NOW)
    assert [await firer.fire_due() for _ in range(4)] == [3, 3, 1, 0]
    assert firer.closes_published == 7


async def test_idle_delay_waits_for_the_next_due_time_but_polls_at_least() -> None:
    store = ListStore([timer(1, 0.05)])
    firer = Firer(store, Publisher(), FiringPolicy(idle_poll_seconds=0.2), clock=lambda: NOW)
    assert abs(await firer._idle_delay() - 0.05) < 1e-6
    store.timers = [timer(1, 3600)]
    assert await firer._idle_delay() == 0.2
    store.timers = []
    assert await firer._idle_delay() == 0.2
