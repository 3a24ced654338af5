"""Kafka side of the ticket service: command intake (commands/s from the commands topic into
the store) next to the bare one-save-per-command baseline, and relay throughput (events/s
from the store to the events topic) next to a plain aiokafka producer sending the same
records. Both on a local broker (Tansu unless HELPDESK_TEST_KAFKA_BOOTSTRAP is set) and a
SQLite file store, measured in the same run."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.baseline import bare_commands_per_second
from bench.report import Row
from contracts import commands as cmd
from contracts.common import Actor, TicketFields
from services.kafka_setup import ensure_topics, service_topics
from services.settings import Settings
from services.ticket_service.adapters.kafka.event_records import event_record
from services.ticket_service.adapters.kafka.relay import EventRelay
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import Outcome, handle_command, handle_commands
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application, run_ticket_workers
from tests.fixtures.kafka import CONSUMER_SETTINGS
from tests.fixtures.services import kafka_service

INTAKE_COMMANDS = 6000
REQUESTERS = 1000
ONE_BY_ONE_COMMANDS = 2000
RELAY_EVENTS = 20_000
LATENCY_SAVES = 200
BENCH = "kafka (Tansu, SQLite)"


def _settings(bootstrap: str, data_dir: Path) -> Settings:
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    return Settings(
        kafka_bootstrap=bootstrap,
        data_dir=data_dir,
        topic_events=f"{prefix}events",
        topic_commands=f"{prefix}commands",
        topic_dead_letter=f"{prefix}dead-letter",
        kafka_partitions=1,
    )


def _create_commands(count: int) -> list[cmd.CreateTicket]:
    """CreateTicket commands from :data:`REQUESTERS` requesters, in turn (validated email
    addresses are remembered, so a single requester would flatter the intake)."""
    actor = Actor(role="integration", sub="bench")
    return [
        cmd.CreateTicket(
            command_id=uuid.uuid4(),
            issued_at=utcnow(),
            actor=actor,
            data={"subject": f"Bench {i}", "requester": f"r{i % REQUESTERS}@example.com"},
        )
        for i in range(count)
    ]


def _one_save_per_command(data_dir: Path) -> float:
    """The same CreateTicket commands through the same application, one save each."""
    app = build_application(Settings(data_dir=data_dir))
    commands = _create_commands(ONE_BY_ONE_COMMANDS)
    start = time.perf_counter()
    for command in commands:
        handle_command(app, command)
    elapsed = time.perf_counter() - start
    app.close()
    return ONE_BY_ONE_COMMANDS / elapsed


async def _produce(bootstrap: str, topic: str, values: Sequence[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value)
        await producer.flush()
    finally:
        await producer.stop()


async def _intake_commands_per_second(bootstrap: str, data_dir: Path) -> tuple[float, float]:
    """Commands pre-loaded on the topic; timed from the first batch to the last stored."""
    settings = _settings(bootstrap, data_dir)
    await ensure_topics(bootstrap, service_topics(settings))
    commands = _create_commands(INTAKE_COMMANDS)
    await _produce(
        bootstrap, settings.topic_commands, [c.model_dump_json().encode() for c in commands]
    )
    app = build_application(settings)
    first: list[float] = []
    batches: list[int] = []
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    def timed_apply(app: TicketApplication, batch: Sequence[cmd.Command]) -> list[Outcome]:
        if not first:
            first.append(time.perf_counter())
        outcomes = handle_commands(app, batch)
        batches.append(len(batch))
        if sum(batches) >= INTAKE_COMMANDS:
            loop.call_soon_threadsafe(done.set)
        return outcomes

    async with run_ticket_workers(
        app,
        settings,
        relay=False,
        group_id=f"{settings.topic_commands}-g",
        consumer_options=CONSUMER_SETTINGS,
    ) as workers:
        assert workers.intake is not None
        workers.intake.apply = timed_apply
        await done.wait()
        elapsed = time.perf_counter() - first[0]
    app.close()
    return INTAKE_COMMANDS / elapsed, statistics.mean(batches)


def _store_events(app: TicketApplication, tickets: int) -> int:
    commands = _create_commands(tickets)
    for i in range(0, tickets, 500):
        handle_commands(app, commands[i : i + 500])
    return tickets  # one public TicketCreated each (receipts are internal)


async def _relay_events_per_second(bootstrap: str, data_dir: Path) -> tuple[float, float, int]:
    settings = _settings(bootstrap, data_dir)
    await ensure_topics(bootstrap, service_topics(settings))
    app = build_application(settings)
    events = await asyncio.to_thread(_store_events, app, RELAY_EVENTS)
    relay = EventRelay(app, settings)
    start = time.perf_counter()
    task = asyncio.create_task(relay.run())
    await relay.wait_caught_up()
    elapsed = time.perf_counter() - start
    value_size = 0
    for n in app.recorder.select_notifications(start=1, limit=1):
        envelope = to_envelope(app.mapper.to_domain_event(n))
        assert envelope is not None
        value_size = len(event_record(envelope).value)

    # Save → on the topic, one ticket at a time, the relay woken by the save.
    ctx = RequestContext(actor=Actor(role="agent", email="agent@example.com"))
    latencies = []
    for _ in range(LATENCY_SAVES):
        t0 = time.perf_counter()
        await asyncio.to_thread(
            app.create_ticket,
            TicketFields(subject="latency", requester="r@example.com"),
            ctx,
            channel="agent",
        )
        head = app.recorder.max_notification_id() or 0
        await relay.wait_published(head)
        latencies.append(time.perf_counter() - t0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    app.close()
    return events / elapsed, statistics.median(latencies) * 1000, value_size


async def _plain_producer_records_per_second(bootstrap: str, size: int) -> float:
    topic = f"bench-{uuid.uuid4().hex[:8]}-plain"
    await ensure_topics(bootstrap, {topic: 1})
    value = b"x" * size
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_batch_size=1_000_000, linger_ms=5
    )
    await producer.start()
    start = time.perf_counter()
    for i in range(RELAY_EVENTS):
        await producer.send(topic, value, key=str(i).encode())
    await producer.flush()
    elapsed = time.perf_counter() - start
    await producer.stop()
    return RELAY_EVENTS / elapsed


async def _measure(bootstrap: str, root: Path) -> list[Row]:
    bare = await asyncio.to_thread(
        bare_commands_per_second, str(root / "bare.sqlite3"), INTAKE_COMMANDS
    )
    before = await asyncio.to_thread(_one_save_per_command, root / "one-by-one-before")
    intake, mean_batch = await _intake_commands_per_second(bootstrap, root / "intake")
    after = await asyncio.to_thread(_one_save_per_command, root / "one-by-one-after")
    one_by_one = (before + after) / 2
    relay, latency_ms, size = await _relay_events_per_second(bootstrap, root / "relay")
    plain = await _plain_producer_records_per_second(bootstrap, size)
    bare_name = "bare eventsourcing, 1 save/command"
    one_name = "same commands, 1 save/command"
    return [
        Row(BENCH, "baseline: bare app create+update", bare, "commands/s"),
        Row(
            BENCH,
            "baseline: handle_command, 1 save/command",
            one_by_one,
            "commands/s",
            note=f"{ONE_BY_ONE_COMMANDS} CreateTicket commands in-process, no Kafka; "
            f"mean of runs before ({before:,.0f}/s) and after ({after:,.0f}/s) the intake",
        ),
        Row(
            BENCH,
            "command intake: topic → store (CreateTicket)",
            intake,
            "commands/s",
            one_name,
            one_by_one,
            goal="≥ 3x",
            note=f"{INTAKE_COMMANDS} commands pre-loaded, from {REQUESTERS} requesters; "
            f"mean {mean_batch:.0f} commands/transaction; dedupe receipts included",
        ),
        Row(
            BENCH,
            "command intake vs bare eventsourcing",
            intake,
            "commands/s",
            bare_name,
            bare,
            note="same intake figure against the bare create+update baseline",
        ),
        Row(
            BENCH,
            "baseline: plain aiokafka producer, acks=all",
            plain,
            "records/s",
            note=f"{RELAY_EVENTS} records of {size} B",
        ),
        Row(
            BENCH,
            "relay: store → topic (acks=all, waits for delivery)",
            relay,
            "events/s",
            "plain aiokafka producer",
            plain,
            note=f"{RELAY_EVENTS} events backlog (+ as many internal receipts skipped)",
        ),
        Row(
            BENCH,
            "relay latency: save → published (median)",
            latency_ms,
            "ms",
            "poll interval (fallback)",
            1000.0,
            goal="well under the poll interval",
            note=f"{LATENCY_SAVES} sequential saves; woken in-process, no busy polling",
        ),
    ]


def run() -> list[Row]:
    with kafka_service() as kafka, tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_measure(kafka.address, Path(tmp)))
