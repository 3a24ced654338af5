"""The one builder for services that follow ``helpdesk.ticket-events`` in a consumer group
of their own (outbound mail, webhooks): FastStream batches, read from the earliest offset,
records of unwanted event types skipped by their ``event_type`` header (the relay sets it,
``event_records.py``) without being parsed, and the offsets committed only after the
service's handler returns. A handler that raises nacks the batch, which is redelivered
after a pause: each service deduplicates by the event ids it has processed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.settings import Settings

Events = list[dict[str, Any]]


@dataclass(frozen=True)
class EventsConsumer:
    """Who follows the events and how (each service's config fills it in)."""

    title: str
    """The subscriber's name in the AsyncAPI document."""
    description: str
    logger: str
    group_id: str
    wanted: Container[str]
    """The event types the handler is given."""
    max_records: int
    session_timeout_ms: int
    heartbeat_interval_ms: int
    error_backoff_seconds: float


class ConsumerConfig(Protocol):
    """What a service's config (``MailConfig``, ``WebhookConfig``) says of its consumer."""

    group_id: str
    consume_max_records: int
    session_timeout_ms: int
    heartbeat_interval_ms: int
    error_backoff_seconds: float


def events_consumer(
    config: ConsumerConfig, *, title: str, description: str, logger: str, wanted: Container[str]
) -> EventsConsumer:
    return EventsConsumer(
        title=title,
        description=description,
        logger=logger,
        group_id=config.group_id,
        wanted=wanted,
        max_records=config.consume_max_records,
        session_timeout_ms=config.session_timeout_ms,
        heartbeat_interval_ms=config.heartbeat_interval_ms,
        error_backoff_seconds=config.error_backoff_seconds,
    )


async def _undecoded(message: object) -> None:
    """The handler parses the raw records itself; skip FastStream's JSON decoding."""
    return None


def _declared_type(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    for key, value in headers or ():
        if key == "event_type":
            return value.decode(errors="replace")
    return None


def parse_records(records: Sequence[Any], wanted: Container[str], log: logging.Logger) -> Events:
    """The batch's wanted events, in order (an undecodable record is logged and skipped)."""
    events: Events = []
    for record in records:
        declared = _declared_type(record.headers)
        if declared is not None and declared not in wanted:
            continue
        try:
            value = json.loads(record.value or b"null")
        except ValueError:
            log.warning("undecodable event at offset %s", record.offset)
            continue
        if isinstance(value, dict):
            events.append(value)
    return events


def build_events_broker(
    settings: Settings,
    consumer: EventsConsumer,
    handle: Callable[[Events], Awaitable[None]],
    *,
    failed: str,
    on_error: Callable[[BaseException], None] = lambda error: None,
    consumer_options: dict[str, Any] | None = None,
) -> KafkaBroker:
    """``handle`` gets each batch's wanted events; ``failed`` is logged when it raises."""
    assert settings.kafka_bootstrap
    log = logging.getLogger(consumer.logger)
    broker = KafkaBroker(settings.kafka_bootstrap, logger=log, log_level=logging.DEBUG)
    options: dict[str, Any] = {
        "session_timeout_ms": consumer.session_timeout_ms,
        "heartbeat_interval_ms": consumer.heartbeat_interval_ms,
        **(consumer_options or {}),
    }

    @broker.subscriber(
        settings.topic_events,
        group_id=consumer.group_id,
        batch=True,
        max_records=consumer.max_records,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_undecoded,
        title=consumer.title,
        description=consumer.description,
        **options,
    )
    async def on_events(message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)
        try:
            await handle(parse_records(records, consumer.wanted, log))
        except Exception as error:
            log.exception("%s; the batch is redelivered", failed)
            on_error(error)
            await asyncio.sleep(consumer.error_backoff_seconds)
            raise

    return broker
