"""Facts from the ``helpdesk.ticket-events`` topic, read from the beginning to the end
offsets taken at the start (for auditors without database access).

No consumer group: partitions are assigned directly, nothing is committed, and the read
stops once every partition reaches the end offset it had when the audit began. Per-ticket
order holds within a partition (the key is the ticket id); repeats from at-least-once
publication are dropped by the clocks (by version).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from contracts.events import EventAdapter
from services.ticket_service.sla.facts import Fact, fact_from_envelope

Progress = Callable[[int], None]


@dataclass
class KafkaReadStats:
    messages: int = 0
    unreadable: int = 0
    """Values that are not a known event envelope (counted, skipped)."""
    end_offsets: dict[int, int] = field(default_factory=dict)


async def kafka_facts(
    bootstrap: str,
    topic: str,
    *,
    progress: Progress | None = None,
    stats: KafkaReadStats | None = None,
    batch: int = 5000,
) -> AsyncIterator[Fact | None]:
    stats = stats if stats is not None else KafkaReadStats()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
        await consumer.topics()  # fetch metadata
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        if not partitions:
            raise LookupError(f"topic {topic!r} does not exist or has no partitions")
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        stats.end_offsets = {tp.partition: ends[tp] for tp in tps}
        pending = {tp for tp in tps if ends[tp] > 0}
        # Partitions already at their end need no reading.
        for tp in list(pending):
            if await consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
        while pending:
            records = await consumer.getmany(*pending, timeout_ms=1000, max_records=batch)
            for tp, messages in records.items():
                for message in messages:
                    if message.offset >= ends[tp]:
                        break
                    stats.messages += 1
                    try:
                        envelope = EventAdapter.validate_json(message.value or b"")
                    except ValidationError:
                        stats.unreadable += 1
                        continue
                    yield fact_from_envelope(envelope)
                if progress and messages:
                    progress(len(messages))
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
