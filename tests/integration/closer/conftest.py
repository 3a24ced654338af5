"""A real stack for closer tests: the ticket service (store + relay + command intake, in
process), closer workers, and a reader of the events topic that counts what happened."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.events import Event, EventAdapter, TicketClosed
from services.closer_worker.config import CloserConfig
from services.settings import Settings
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import TicketWorkers, build_application, run_ticket_workers
from tests.fixtures.kafka import CONSUMER_SETTINGS, create_topics

PERIOD = "2s"


@pytest.fixture
def settings(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path, kafka_topic_prefix: str
) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        data_dir=tmp_path,
        topic_events=f"{kafka_topic_prefix}events",
        topic_commands=f"{kafka_topic_prefix}commands",
        topic_dead_letter=f"{kafka_topic_prefix}dead-letter",
        auto_close_after=PERIOD,
    )


@pytest.fixture
def closer_config(kafka_topic_prefix: str) -> CloserConfig:
    return CloserConfig(
        group_id=f"{kafka_topic_prefix}closer",
        redis_prefix=f"test:{kafka_topic_prefix}closer",
        lease_seconds=5,
        idle_poll_seconds=0.05,
        session_timeout_ms=CONSUMER_SETTINGS["session_timeout_ms"],
        heartbeat_interval_ms=CONSUMER_SETTINGS["heartbeat_interval_ms"],
        rebuild_check_seconds=0.5,
    )


@dataclass
class EventLog:
    """Everything on the events topic, read by a consumer without a group."""

    events: list[Event] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def closes(self) -> Counter[UUID]:
        return Counter(e.ticket_id for e in self.events if isinstance(e, TicketClosed))

    def of(self, ticket_id: UUID) -> list[Event]:
        return [e for e in self.events if e.ticket_id == ticket_id]

    def by_type(self, event_type: str) -> dict[UUID, list[Event]]:
        found: dict[UUID, list[Event]] = defaultdict(list)
        for e in self.events:
            if e.event_type == event_type:
                found[e.ticket_id].append(e)
        return found

    async def wait_until(
        self, condition: Callable[[EventLog], bool], *, within: float, what: str
    ) -> None:
        """Wait for the log to satisfy ``condition`` (``within`` only bounds a failure)."""
        deadline = time.monotonic() + within
        while not condition(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"gave up waiting for {what} after {within:.0f}s")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 0.5)):
                    await self.changed.wait()


async def _follow(bootstrap: str, topic: str, log: EventLog) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        for _ in range(100):
            if partitions:
                break
            await consumer.topics()
            partitions = consumer.partitions_for_topic(topic) or set()
            await asyncio.sleep(0.05)
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                for record in records:
                    if record.value:
                        log.events.append(EventAdapter.validate_json(record.value))
            if batches:
                log.changed.set()
    finally:
        await consumer.stop()


@dataclass
class TicketStack:
    app: TicketApplication
    workers: TicketWorkers
    log: EventLog


@pytest.fixture
async def ticket_stack(settings: Settings, kafka_topic_prefix: str) -> AsyncIterator[TicketStack]:
    """The ticket service with its relay and command intake, plus the events topic log."""
    assert settings.kafka_bootstrap
    await create_topics(
        settings.kafka_bootstrap,
        [settings.topic_events, settings.topic_commands, settings.topic_dead_letter],
        partitions=4,
    )
    app = build_application(settings)
    log = EventLog()
    async with run_ticket_workers(
        app,
        settings,
        group_id=f"{kafka_topic_prefix}tickets",
        consumer_options=CONSUMER_SETTINGS,
        relay_options={"poll_interval": 0.1},
    ) as workers:
        follower = asyncio.create_task(
            _follow(settings.kafka_bootstrap, settings.topic_events, log)
        )
        try:
            yield TicketStack(app, workers, log)
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower


async def until(check: Callable[[], Awaitable[bool]], *, what: str, within: float = 60) -> None:
    """Poll ``check`` until it holds (``within`` only bounds a failure)."""
    deadline = time.monotonic() + within
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {within:.0f}s")
        await asyncio.sleep(0.05)
