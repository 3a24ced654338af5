"""The closer's source of history: the events topic read from the beginning
(:func:`services.event_stream.history.read_history`), parsed into events.

It needs nothing of the ticket service but the topic, which must keep its events
(retention ``-1``, as an event log does) for a rebuild to see solves older than the topic's
retention.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from contracts.events import Event
from services.closer_worker.adapters.event_records import parse_record
from services.event_stream.history import read_history


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
        async for record in read_history(
            self.bootstrap,
            self.topic,
            max_records=self.max_records,
            poll_timeout_ms=self.poll_timeout_ms,
            consumer_options=self.consumer_options,
        ):
            event = parse_record(record.value, record.headers)
            if event is not None:
                yield event
