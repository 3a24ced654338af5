"""The consumer of ``helpdesk.ticket-events`` (FastStream, its own consumer group): each
batch is planned and recorded (``Planner.handle``), then its offsets are committed. A store
failure nacks the batch, which is redelivered; redelivered events plan nothing twice
(processed event ids in the store)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.outbound_mail.application.planning import TICKET_EVENTS, Planner
from services.outbound_mail.config import MailConfig
from services.settings import Settings

log = logging.getLogger("helpdesk.outbound_mail.kafka")

DESCRIPTION = (
    "Outbound mail's view of the ticket events: a per-ticket projection (requester, CCs, "
    "subject) and the notifications of TicketCreated, FollowUpCreated, public agent "
    "CommentAdded and StatusChanged → solved. Own consumer group; offsets committed after "
    "the intents are recorded in the sent log."
)


async def _undecoded(message: object) -> None:
    """The handler parses the raw records itself; skip FastStream's JSON decoding."""
    return None


def _declared_type(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    """The ``event_type`` header the relay sets (``event_records.py``): skip unread."""
    for key, value in headers or ():
        if key == "event_type":
            return value.decode(errors="replace")
    return None


def parse_records(records: Sequence[Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for record in records:
        declared = _declared_type(record.headers)
        if declared is not None and declared not in TICKET_EVENTS:
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
    config: MailConfig,
    planner: Planner,
    *,
    consumer_options: dict[str, Any] | None = None,
    on_error: Callable[[BaseException], None] = lambda error: None,
) -> KafkaBroker:
    assert settings.kafka_bootstrap
    broker = KafkaBroker(
        settings.kafka_bootstrap,
        logger=logging.getLogger("helpdesk.outbound_mail.kafka"),
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
        title="outbound-mail:ticket-events",
        description=DESCRIPTION,
        **options,
    )
    async def on_events(message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)
        try:
            planner.handle(parse_records(records))
        except Exception as error:
            log.exception("planning notifications failed; the batch is redelivered")
            on_error(error)
            await asyncio.sleep(config.error_backoff_seconds)
            raise

    return broker
