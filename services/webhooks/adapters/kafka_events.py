"""The consumer of ``helpdesk.ticket-events`` (``services/event_consumers.py``, its own
consumer group): each batch is folded and its deliveries recorded in one store
transaction, then its offsets are committed. A store failure nacks the batch, which is
redelivered; redelivered events plan nothing twice (processed event ids in the store)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from faststream.kafka import KafkaBroker

from services.event_consumers import Events, build_events_broker, events_consumer
from services.settings import Settings
from services.webhooks.config import WebhookConfig
from services.webhooks.domain.types import EVENT_TO_TYPE

DESCRIPTION = (
    "The webhook service's view of the ticket events: a per-ticket projection and one "
    "delivery per subscribed webhook. Own consumer group; offsets committed after the "
    "deliveries are recorded."
)


def build_broker(
    settings: Settings,
    config: WebhookConfig,
    consume: Callable[[Events], int],
    *,
    on_recorded: Callable[[], None] = lambda: None,
    consumer_options: dict[str, Any] | None = None,
) -> KafkaBroker:
    async def record(events: Events) -> None:
        if await asyncio.to_thread(consume, events):
            on_recorded()

    consumer = events_consumer(
        config,
        title="webhooks:ticket-events",
        description=DESCRIPTION,
        logger="helpdesk.webhooks.kafka",
        wanted=EVENT_TO_TYPE,
    )
    return build_events_broker(
        settings,
        consumer,
        record,
        failed="recording webhook deliveries failed",
        consumer_options=consumer_options,
    )
