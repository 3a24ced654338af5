"""Facts from the ``helpdesk.ticket-events`` topic, read from the beginning to its end when
the audit began (for auditors without database access; see
:mod:`services.event_stream.history`). Per-ticket
order holds within a partition (the key is the ticket id); repeats from at-least-once
publication are dropped by the clocks (by version).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from contracts.events import EventAdapter
from services.event_stream.history import Progress, read_history, topic_exists
from services.ticket_service.sla.facts import Fact, fact_from_envelope


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
    if not await topic_exists(bootstrap, topic):
        raise LookupError(f"topic {topic!r} does not exist or has no partitions")
    async for message in read_history(bootstrap, topic, max_records=batch, progress=progress):
        stats.messages += 1
        stats.end_offsets[message.partition] = message.offset + 1
        try:
            envelope = EventAdapter.validate_json(message.value or b"")
        except ValidationError:
            stats.unreadable += 1
            continue
        yield fact_from_envelope(envelope)
