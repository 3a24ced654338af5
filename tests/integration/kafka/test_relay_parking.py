"""A record the producer or broker refuses never stalls the relay (issue #12, item 6): it
is parked in the store, counted, logged and listed (``helpdesk relay parked``), and every
other event is published, in order, on the real broker. The producer's batch limit is set
low here (``HELPDESK_RELAY_MAX_RECORD_BYTES``) so that an ordinary large ticket is "too
large"."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from contracts import Actor, TicketFields
from services.cli import app as cli
from services.kafka_setup import ensure_topics, service_topics
from services.settings import Settings
from services.ticket_service.adapters.kafka.parked import ParkedStore
from services.ticket_service.adapters.kafka.relay import EventRelay
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from tests.integration.kafka.streams import envelopes, read_count
from tests.integration.kafka.test_relay import stored_event_ids

AGENT = RequestContext(actor=Actor(role="agent", email="agent@example.com"))
PRODUCER_LIMIT = 16_384


def create(app: TicketApplication, subject: str, description: str = "") -> int:
    fields = TicketFields(subject=subject, description=description, requester="r@example.com")
    return app.create_ticket(fields, AGENT, channel="agent").number


async def test_a_record_too_large_is_parked_and_the_relay_goes_on(
    app: TicketApplication,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parked_before = REGISTRY.get_sample_value("helpdesk_relay_parked_events_total") or 0
    create(app, "before")
    big = create(app, "big", "x" * (2 * PRODUCER_LIMIT))
    app.add_comment(big, AGENT, body="y" * (2 * PRODUCER_LIMIT), public=True, channel="agent")
    after = create(app, "after")
    app.update_ticket(after, {"status": "open"}, AGENT)
    too_large = [e for e in stored_event_ids(app)][1:3]  # the big ticket's two events

    relay = EventRelay(app, settings.model_copy(update={"relay_max_record_bytes": PRODUCER_LIMIT}))
    await ensure_topics(settings.kafka_bootstrap or "", service_topics(settings))  # 1 partition
    task = asyncio.create_task(relay.run())
    try:
        with caplog.at_level(logging.ERROR):
            await relay.wait_caught_up()
        expected = [i for i in stored_event_ids(app) if i not in too_large]
        records = await read_count(
            settings.kafka_bootstrap or "", settings.topic_events, len(expected)
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert [e["event_id"] for e in envelopes(records)] == expected  # the rest, in order
    parked = ParkedStore(app, settings.relay_name).list()  # durable: read back from the store
    assert [p.event_id for p in parked] == too_large
    assert [p.event_type for p in parked] == ["TicketCreated", "CommentAdded"]
    assert all(p.size > PRODUCER_LIMIT and str(PRODUCER_LIMIT) in p.error for p in parked)
    parked_now = REGISTRY.get_sample_value("helpdesk_relay_parked_events_total") or 0
    assert parked_now - parked_before == 2
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("relay: parked")]
    assert len(logged) == 2 and too_large[0] in logged[0]

    # the CLI lists them, from the store
    for name, value in {
        "HELPDESK_DATA_DIR": str(settings.data_dir),
        "HELPDESK_RELAY_NAME": settings.relay_name,
    }.items():
        monkeypatch.setenv(name, value)
    from services.settings import get_settings

    get_settings.cache_clear()
    try:
        listed = CliRunner().invoke(cli, ["relay", "parked", "--json"])
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 1, listed.output
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [line["event_id"] for line in lines] == too_large


class SmallMessageBroker(AIOKafkaProducer):
    """The real broker, answering as Apache Kafka with ``max.message.bytes`` set to
    ``PRODUCER_LIMIT`` would (Tansu has no such limit): a larger batch is refused with
    MESSAGE_TOO_LARGE. Everything else goes to the broker unchanged."""

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        if batch.size() > PRODUCER_LIMIT:
            raise MessageSizeTooLargeError(f"batch of {batch.size()} bytes")
        return await super().send_batch(batch, topic, partition=partition)


async def test_a_batch_the_broker_refuses_as_too_large_is_split_and_its_culprit_parked(
    app: TicketApplication, settings: Settings
) -> None:
    for i in range(3):
        create(app, f"small {i}")
    big = create(app, "big", "x" * (2 * PRODUCER_LIMIT))
    for i in range(3):
        app.update_ticket(i + 1, {"status": "open"}, AGENT)
    big_created = stored_event_ids(app)[3]

    relay = EventRelay(
        app,
        settings,
        producer_factory=lambda: SmallMessageBroker(
            bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=0
        ),
    )
    await ensure_topics(settings.kafka_bootstrap or "", service_topics(settings))  # 1 partition
    task = asyncio.create_task(relay.run())
    try:
        await relay.wait_caught_up()
        expected = [i for i in stored_event_ids(app) if i != big_created]
        records = await read_count(
            settings.kafka_bootstrap or "", settings.topic_events, len(expected)
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert [e["event_id"] for e in envelopes(records)] == expected  # the rest, in order
    parked = ParkedStore(app, settings.relay_name).list()
    assert [(p.event_id, p.event_type) for p in parked] == [(big_created, "TicketCreated")]
    assert "MessageSizeTooLarge" in parked[0].error
    assert app.get_ticket(big).description.startswith("x")  # the store keeps it whole


def test_parking_the_same_event_twice_records_it_once(app: TicketApplication) -> None:
    """A relay that crashed after parking and before recording its position republishes
    the page and parks the same event again: one entry."""
    from datetime import UTC, datetime

    from services.ticket_service.adapters.kafka.event_records import EventRecord
    from services.ticket_service.adapters.kafka.parked import describe

    record = EventRecord(key=b"k", value=b"v" * 10, headers=[("event_id", b"e1")])
    store = ParkedStore(app, "r")
    entry = describe(record, "too large", datetime.now(UTC))
    assert store.park(entry) is True
    assert ParkedStore(app, "r").park(entry) is False
    assert [p.event_id for p in ParkedStore(app, "r").list()] == ["e1"]
    assert ParkedStore(app, "other").list() == []
