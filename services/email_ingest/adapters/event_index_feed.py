"""Keeps the :class:`SqliteTicketIndex` current from ``helpdesk.ticket-events``.

No consumer group: every ingest process reads all partitions itself (the index is local),
seeking to the positions stored in the index (so index rows and positions move together).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.operator_errors import MissingSetting
from services.settings import Settings

log = logging.getLogger("helpdesk.email_ingest.index")


class EventIndexFeed:
    def __init__(self, index: SqliteTicketIndex, settings: Settings) -> None:
        if not settings.kafka_bootstrap:
            raise MissingSetting("the ticket index feed", "HELPDESK_KAFKA_BOOTSTRAP")
        self.index = index
        self.topic = settings.topic_events
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            # A stored position beyond the log (a broker that lost its data, e.g. Tansu with
            # memory storage, republished by the relay) restarts from the beginning:
            # applying events again is harmless.
            auto_offset_reset="earliest",
            client_id="helpdesk-email-ingest-index",
            max_poll_records=1000,
        )
        self.partitions: list[TopicPartition] = []

    async def start(self) -> None:
        await self.consumer.start()
        await self._assign()

    async def stop(self) -> None:
        await self.consumer.stop()

    async def _assign(self) -> None:
        for _ in range(600):
            await self.consumer.topics()
            found = self.consumer.partitions_for_topic(self.topic)
            if found:
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"topic {self.topic} does not exist")
        self.partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
        self.consumer.assign(self.partitions)
        stored = self.index.positions(self.topic)
        ends = await self.consumer.end_offsets(self.partitions)
        for tp in self.partitions:
            if tp.partition in stored and stored[tp.partition] <= ends[tp]:
                self.consumer.seek(tp, stored[tp.partition])
            else:
                await self.consumer.seek_to_beginning(tp)

    async def poll_once(self, timeout_ms: int = 200) -> int:
        batches = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=1000)
        count = 0
        for tp, records in batches.items():
            events: list[dict[str, Any]] = []
            for record in records:
                try:
                    value = json.loads(record.value or b"null")
                except ValueError:
                    log.warning("undecodable event at %s:%s", tp, record.offset)
                    continue
                if isinstance(value, dict):
                    events.append(value)
            if records:
                self.index.apply_batch(self.topic, events, {tp.partition: records[-1].offset + 1})
                count += len(records)
        return count

    async def catch_up(self) -> None:
        """Apply everything published up to now (used before importing files)."""
        ends = await self.consumer.end_offsets(self.partitions)
        while True:
            behind = [tp for tp, end in ends.items() if await self.consumer.position(tp) < end]
            if not behind:
                return
            await self.poll_once()

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ticket index feed failed; retrying")
                await asyncio.sleep(1.0)
