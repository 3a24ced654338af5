"""Read the events topic as a downstream consumer would (``helpdesk events tail``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection
from typing import Any

from aiokafka import AIOKafkaConsumer


async def tail_events(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool = False,
    event_types: Collection[str] = (),
    follow: bool = True,
    idle_timeout_ms: int = 2000,
) -> AsyncIterator[dict[str, Any]]:
    """Yield event envelopes (as dicts) in partition order, optionally only some types.

    No consumer group: tailing never moves anyone's committed offsets. ``follow=False`` stops
    after ``idle_timeout_ms`` without new records.
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        await consumer.start()
        while True:
            batches = await consumer.getmany(timeout_ms=idle_timeout_ms)
            if not batches and not follow:
                return
            for records in batches.values():
                for record in records:
                    header = dict(record.headers or ()).get("event_type")
                    if (
                        event_types
                        and header
                        and header.decode("utf-8", "replace") not in event_types
                    ):
                        continue  # cheap skip without parsing the value
                    try:
                        envelope = json.loads(record.value or b"null")
                    except ValueError:
                        envelope = None
                    if not isinstance(envelope, dict):
                        envelope = {"undecodable": (record.value or b"").hex()}
                    if event_types and envelope.get("event_type") not in event_types:
                        continue
                    yield envelope
    finally:
        await consumer.stop()
