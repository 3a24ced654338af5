"""The event history read straight from ``helpdesk.ticket-events``: a fresh consumer with no
group (it commits nothing and disturbs no one), every partition from its first offset up to
the end offsets taken when the read starts, and on to the high watermark of the last fetch:
Tansu (0.6) answers ListOffsets with the base offset of a partition's last record batch plus
one, which can fall short of the last record; fetch responses carry the true high watermark.

This is the closer's only source of history: it needs nothing of the ticket service but the
topic, which must keep its events (retention ``-1``, as an event log does) for a rebuild to
see solves older than the topic's retention.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.events import Event
from services.closer_worker.adapters.event_records import parse_record

MAX_POLLS = 10_000_000
"""Only a guard against a topic written faster than it can be read."""


class KafkaEventHistory:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        max_records: int = 5000,
        poll_timeout_ms: int = 300,
        consumer_options: dict[str, Any] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.max_records = max_records
        self.poll_timeout_ms = poll_timeout_ms
        self.consumer_options = consumer_options or {}

    async def read(self) -> AsyncIterator[Event]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self.consumer_options,
        )
        await consumer.start()
        try:
            partitions = await self._partitions(consumer)
            if not partitions:
                return
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            for _ in range(MAX_POLLS):
                if all([await self._done(consumer, tp, end[tp]) for tp in partitions]):
                    return
                batches = await consumer.getmany(
                    timeout_ms=self.poll_timeout_ms, max_records=self.max_records
                )
                for records in batches.values():
                    for record in records:
                        event = parse_record(record.value, record.headers)
                        if event is not None:
                            yield event
        finally:
            await consumer.stop()

    @staticmethod
    async def _done(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> bool:
        """Read past the end offset taken at the start and up to the high watermark of the
        last fetch (which, unlike Tansu's ListOffsets, counts the whole last batch)."""
        if end == 0:
            return True
        position = await consumer.position(tp)
        highwater = consumer.highwater(tp)
        return position >= end and highwater is not None and position >= highwater

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        topics = await consumer.topics()
        if self.topic not in topics:
            return []
        numbers = consumer.partitions_for_topic(self.topic) or set()
        return [TopicPartition(self.topic, p) for p in sorted(numbers)]
