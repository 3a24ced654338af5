"""A librdkafka client (confluent-kafka, the library behind kcat and most non-Java
clients) as a consumer group on the embedded broker (Tansu) reads the events topic as the
relay published it: what docs/operations.md promises to outside consumers of ``make run``.

With librdkafka's default ``session.timeout.ms`` (45 s) Tansu holds the first JoinGroup
for about half of it (~23 s); the documented settings make the group join in about a
second."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaError

from services.settings import Settings
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import run_ticket_workers
from tests.integration.kafka.test_relay import open_tickets, stored_event_ids

FAST_GROUP_JOIN = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
"""The consumer settings docs/operations.md gives for the embedded broker."""


def consume_all(bootstrap: str, topic: str, count: int, timeout: float = 60) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"analytics-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            **FAST_GROUP_JOIN,
        }
    )
    records: list[Any] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                continue
            records.append(message)
        assignment = consumer.assignment()
    finally:
        consumer.close()
    assert assignment, "the consumer group never got partitions"
    return records


async def test_a_confluent_kafka_consumer_group_reads_the_events_topic(
    app: TicketApplication, settings: Settings
) -> None:
    async with run_ticket_workers(app, settings, intake=False) as workers:
        await asyncio.to_thread(open_tickets, app, 4)
        await workers.relay.wait_caught_up()
    expected = stored_event_ids(app)
    records = await asyncio.to_thread(
        consume_all, settings.kafka_bootstrap or "", settings.topic_events, len(expected)
    )
    envelopes = [json.loads(r.value()) for r in records]
    assert [e["event_id"] for e in envelopes] == expected  # one partition: store order
    assert all(r.key().decode() == e["ticket_id"] for r, e in zip(records, envelopes, strict=True))
