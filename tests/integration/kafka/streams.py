"""Plain-aiokafka helpers for the Kafka integration tests: what an upstream system and a
downstream consumer would do, with no project code in between."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


async def produce(bootstrap: str, topic: str, values: Iterable[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read the topic from the beginning until ``done(records so far)`` (the pytest timeout
    is the only limit)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        while not done(records):
            batches = await consumer.getmany(timeout_ms=500)
            for partition_records in batches.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def read_count(bootstrap: str, topic: str, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    return await read_until(bootstrap, topic, lambda records: len(records) >= count)


def envelopes(records: Iterable[ConsumerRecord[bytes, bytes]]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


def command(command_type: str, data: dict[str, Any], **head: Any) -> dict[str, Any]:
    return {
        "command_id": str(head.pop("command_id", uuid4())),
        "command_type": command_type,
        "issued_at": datetime.now(UTC).isoformat(),
        "actor": head.pop("actor", {"role": "integration", "sub": "upstream-crm"}),
        "data": data,
        **head,
    }


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def caused_by(command_id: str | UUID) -> Callable[[list[ConsumerRecord[bytes, bytes]]], bool]:
    """done-predicate: an event caused by this command is on the topic."""
    wanted = str(command_id)
    return lambda records: any(e.get("causation_id") == wanted for e in envelopes(records))
