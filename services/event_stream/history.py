"""Read the whole history of a topic, as it is when the read starts.

A fresh consumer with no group (it commits nothing and disturbs no one) reads every
partition from its first offset up to the end offsets taken when the read starts, and on to
the high watermark of the last fetch: Tansu (0.6) answers ListOffsets with the base offset
of a partition's last record batch plus one, which can fall short of the last record; fetch
responses carry the true high watermark.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

MAX_POLLS = 10_000_000
"""Only a guard against a topic written faster than it can be read."""

Progress = Callable[[int], None]


async def read_history(
    bootstrap: str,
    topic: str,
    *,
    max_records: int = 5000,
    poll_timeout_ms: int = 300,
    progress: Progress | None = None,
    consumer_options: dict[str, Any] | None = None,
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` up to its end when the read began; nothing if the topic
    does not exist. Per-partition order (per-ticket order for the events topic)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **(consumer_options or {}),
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        for _ in range(MAX_POLLS):
            if all([await _done(consumer, tp, end[tp]) for tp in partitions]):
                return
            batches = await consumer.getmany(timeout_ms=poll_timeout_ms, max_records=max_records)
            for records in batches.values():
                for record in records:
                    yield record
                if progress and records:
                    progress(len(records))
    finally:
        await consumer.stop()


async def _done(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> bool:
    """Past the end offset taken at the start and up to the high watermark of the last
    fetch (which, unlike Tansu's ListOffsets, counts the whole last batch)."""
    if end == 0:
        return True
    position = await consumer.position(tp)
    highwater = consumer.highwater(tp)
    return position >= end and highwater is not None and position >= highwater


async def topic_exists(bootstrap: str, topic: str) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        return bool(await _partitions(consumer, topic))
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    if topic not in await consumer.topics():
        return []
    numbers = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(numbers)]
