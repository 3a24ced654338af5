"""The consumer of ``helpdesk.ticket-events`` (FastStream, its own consumer group): each
batch is folded and its deliveries recorded in one store transaction, then its offsets are
committed. A store failure nacks the batch, which is redelivered; redelivered events plan
nothing twice (processed event ids in the store)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.settings import Settings
from services.webhooks.config import WebhookConfig
from services.webhooks.domain.types import EVENT_TO_TYPE

log = logging.getLogger("helpdesk.webhooks.kafka")

DESCRIPTION = (
    "The webhook service's view of the ticket events: a per-ticket projection and one "
    "delivery per subscribed webhook. Own consumer group; offsets committed after the "
    "deliveries are recorded."
)


async def _undecoded(message: object) -> None:
    return None


def _declared_type(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    for key, value in headers or ():
        if key == "event_type":
            return value.decode(errors="replace")
    return None


def parse_records(records: Sequence[Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for record in records:
        declared = _declared_type(record.headers)
        if declared is not None and declared not in EVENT_TO_TYPE:
            continue
        try:
            value = json.loads(record.value or b"null")
        except ValueError:
            log.warning("undecodable event at offset %s", record.offset)
            continue
        if isinstance(value, dict):
            events.append(value)
    return events


def build_broker(
    settings: Settings,
    config: WebhookConfig,
    consume: Callable[[list[dict[str, Any]]], int],
    *,
    on_recorded: Callable[[], None] = lambda: None,
    consumer_options: dict[str, Any] | None = None,
) -> KafkaBroker:
    assert settings.kafka_bootstrap
    broker = KafkaBroker(
        settings.kafka_bootstrap,
        logger=logging.getLogger("helpdesk.webhooks.kafka"),
        log_level=logging.DEBUG,
    )
    options: dict[str, Any] = {
        "session_timeout_ms": config.session_timeout_ms,
        "heartbeat_interval_ms": config.heartbeat_interval_ms,
        **(consumer_options or {}),
    }

    @broker.subscriber(
        settings.topic_events,
        group_id=config.group_id,
        batch=True,
        max_records=config.consume_max_records,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_undecoded,
        title="webhooks:ticket-events",
        description=DESCRIPTION,
        **options,
    )
    async def on_events(message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)
        try:
            recorded = await asyncio.to_thread(consume, parse_records(records))
        except Exception:
            log.exception("recording webhook deliveries failed; the batch is redelivered")
            await asyncio.sleep(config.error_backoff_seconds)
            raise
        if recorded:
            on_recorded()

    return broker
