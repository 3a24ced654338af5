"""Acceptance: a worker killed with SIGKILL while it holds leases loses no timer; a flushed
Redis is rebuilt from the event history and every due ticket closes, none twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID, uuid4

import redis.asyncio as aioredis

from contracts import Actor
from contracts.commands import CreateTicket, CreateTicketData
from services.closer_worker.adapters.redis_timer_store import RedisTimerStore
from services.closer_worker.bootstrap import build_worker
from services.closer_worker.config import CloserConfig
from services.closer_worker.entrypoints.process import rebuild_once
from services.settings import Settings
from services.ticket_service.application.context import utcnow
from services.ticket_service.application.messagebus import handle_commands
from tests.fixtures.processes import LocalProcess
from tests.fixtures.redis import redis_url_for
from tests.integration.closer.conftest import TicketStack, until

ROOT = Path(__file__).resolve().parents[3]
WAIT = 120.0
"""Bounds a failing wait only."""


async def create_solved(stack: TicketStack, count: int) -> set[UUID]:
    """Created solved in one store transaction (all due together), off the event loop so the
    in-process consumers keep their heartbeats."""
    commands = [
        CreateTicket(
            command_id=uuid4(),
            issued_at=utcnow(),
            actor=Actor(role="integration"),
            data=CreateTicketData(subject=f"T{i}", requester="r@example.com", status="solved"),
        )
        for i in range(count)
    ]
    outcomes = await asyncio.to_thread(handle_commands, stack.app, commands)
    assert all(o.ok for o in outcomes)
    return {o.ticket_id for o in outcomes if o.ticket_id is not None}


@contextmanager
def worker_process(settings: Settings, config: CloserConfig) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m services.closer_worker`` configured through the environment."""
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "HELPDESK_REDIS_URL": settings.redis_url or "",
        "HELPDESK_TOPIC_EVENTS": settings.topic_events,
        "HELPDESK_TOPIC_COMMANDS": settings.topic_commands,
        "HELPDESK_CLOSER_GROUP_ID": config.group_id,
        "HELPDESK_CLOSER_REDIS_PREFIX": config.redis_prefix,
        "HELPDESK_CLOSER_LEASE_SECONDS": str(config.lease_seconds),
        "HELPDESK_CLOSER_BATCH_SIZE": str(config.batch_size),
        "HELPDESK_CLOSER_IDLE_POLL_SECONDS": str(config.idle_poll_seconds),
        "HELPDESK_CLOSER_SESSION_TIMEOUT_MS": str(config.session_timeout_ms),
        "HELPDESK_CLOSER_HEARTBEAT_INTERVAL_MS": str(config.heartbeat_interval_ms),
    }
    with tempfile.NamedTemporaryFile(prefix="closer-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.closer_worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        print(Path(log.name).read_text()[-3000:])


async def _has(store: RedisTimerStore, count: int) -> bool:
    return await store.pending() >= count


async def _alive_and_has(proc: subprocess.Popen[bytes], store: RedisTimerStore, count: int) -> bool:
    assert proc.poll() is None, "worker process died"
    return await _has(store, count)


async def leased(store: RedisTimerStore) -> int:
    """Timers held by a worker: in the timeline at a lease expiry, not at their due time."""
    scores = dict(await store.redis.zrange(store.timeline, 0, -1, withscores=True))
    payloads = await store.redis.hgetall(store.timers)
    return sum(
        1
        for tid, payload in payloads.items()
        if tid in scores and scores[tid] > float(payload.split(":")[2])
    )


async def test_sigkill_while_holding_leases_loses_no_timer(
    settings: Settings, closer_config: CloserConfig, ticket_stack: TicketStack
) -> None:
    count = 1000
    config = closer_config.model_copy(update={"batch_size": 10, "lease_seconds": 3})
    probe = RedisTimerStore.from_url(settings.redis_url or "", config.redis_prefix)
    try:
        with worker_process(settings, config) as proc:
            ids = await create_solved(ticket_stack, count)
            await until(lambda: _alive_and_has(proc, probe, count), what="timers scheduled")
            # Freeze the worker and look: kill it only when it holds leases right now.
            while True:
                assert proc.poll() is None, "worker process died"
                os.kill(proc.pid, signal.SIGSTOP)
                held, pending = await leased(probe), await probe.pending()
                if held:
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
                assert pending, "the worker finished before it could be caught holding a lease"
                os.kill(proc.pid, signal.SIGCONT)
                await asyncio.sleep(0.01)
            proc.wait()
        assert held > 0 and pending > 0
        async with build_worker(settings, config) as survivor:
            await ticket_stack.log.wait_until(
                lambda log: ids <= set(log.closes()), within=WAIT, what="every ticket closed"
            )
            await ticket_stack.workers.relay.wait_caught_up()
            assert survivor.firer.closes_published >= held
        closes = ticket_stack.log.closes()
        assert {tid: closes[tid] for tid in ids} == dict.fromkeys(ids, 1)
        assert await probe.pending() == 0
    finally:
        await probe.close()


async def test_flushed_redis_is_rebuilt_from_history_and_every_ticket_closes_once(
    settings: Settings,
    closer_config: CloserConfig,
    ticket_stack: TicketStack,
    redis_server: LocalProcess,
) -> None:
    url = redis_url_for(redis_server.address)
    settings = settings.model_copy(update={"redis_url": url})
    # The watchdog checks once at start; the rebuild after the flush is the on-demand one.
    config = closer_config.model_copy(update={"rebuild_check_seconds": 3600})
    client = aioredis.Redis.from_url(url)
    try:
        async with build_worker(settings, config) as worker:
            already = await create_solved(ticket_stack, 50)
            await ticket_stack.log.wait_until(
                lambda log: already <= set(log.closes()), within=WAIT, what="first batch"
            )
            # Pending timers, then Redis loses everything.
            ticket_stack.app.default_auto_close_after = settings.auto_close_after * 3
            pending = await create_solved(ticket_stack, 300)
            await until(lambda: _has(worker.store, len(pending)), what="timers scheduled")
            await client.flushall()
            assert await worker.store.pending() == 0

            report = await rebuild_once(settings, config)
            assert "300 pending timers" in report, report
            await ticket_stack.log.wait_until(
                lambda log: pending <= set(log.closes()), within=WAIT, what="every ticket closed"
            )
            await ticket_stack.workers.relay.wait_caught_up()
        closes = ticket_stack.log.closes()
        everyone = already | pending
        assert {tid: closes[tid] for tid in everyone} == dict.fromkeys(everyone, 1)
    finally:
        await client.flushall()
        await client.aclose()


async def test_a_worker_notices_a_flush_and_rebuilds_by_itself(
    settings: Settings,
    closer_config: CloserConfig,
    ticket_stack: TicketStack,
    redis_server: LocalProcess,
) -> None:
    url = redis_url_for(redis_server.address)
    settings = settings.model_copy(update={"redis_url": url})
    client = aioredis.Redis.from_url(url)
    try:
        async with build_worker(settings, closer_config) as worker:
            ticket_stack.app.default_auto_close_after = settings.auto_close_after * 3
            pending = await create_solved(ticket_stack, 100)
            await until(lambda: _has(worker.store, len(pending)), what="timers scheduled")
            await client.flushall()
            await ticket_stack.log.wait_until(
                lambda log: pending <= set(log.closes()), within=WAIT, what="every ticket closed"
            )
            await ticket_stack.workers.relay.wait_caught_up()
        closes = ticket_stack.log.closes()
        assert {tid: closes[tid] for tid in pending} == dict.fromkeys(pending, 1)
    finally:
        await client.flushall()
        await client.aclose()


async def test_timers_overdue_while_no_worker_ran_fire_at_once_when_a_worker_starts(
    settings: Settings, closer_config: CloserConfig, ticket_stack: TicketStack
) -> None:
    ids = await create_solved(ticket_stack, 20)
    dues = [ticket_stack.app.get_ticket_by_id(t).auto_close_due_at for t in ids]
    last_due = max(d for d in dues if d is not None)
    await ticket_stack.workers.relay.wait_caught_up()
    # Let them all become overdue with no closer running.
    await asyncio.sleep(max(0.0, (last_due - utcnow()).total_seconds()) + 0.1)
    async with build_worker(settings, closer_config) as worker:  # empty Redis: rebuilds on start
        await ticket_stack.log.wait_until(
            lambda log: ids <= set(log.closes()), within=WAIT, what="every ticket closed"
        )
        assert await worker.store.is_built()
    closes = ticket_stack.log.closes()
    assert {tid: closes[tid] for tid in ids} == dict.fromkeys(ids, 1)
