"""The consumer of ``helpdesk.ticket-events`` (``services/event_consumers.py``, its own
consumer group): each batch is planned and recorded (``Planner.handle``), then its offsets
are committed. A store failure nacks the batch, which is redelivered; redelivered events
plan nothing twice (processed event ids in the store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.kafka import KafkaBroker

from services.event_consumers import Events, build_events_broker, events_consumer
from services.outbound_mail.application.planning import TICKET_EVENTS, Planner
from services.outbound_mail.config import MailConfig
from services.settings import Settings

DESCRIPTION = (
    "Outbound mail's view of the ticket events: a per-ticket projection (requester, CCs, "
    "subject) and the notifications of TicketCreated, FollowUpCreated, public agent "
    "CommentAdded and StatusChanged → solved. Own consumer group; offsets committed after "
    "the intents are recorded in the sent log."
)


def build_broker(
    settings: Settings,
    config: MailConfig,
    planner: Planner,
    *,
    consumer_options: dict[str, Any] | None = None,
    on_error: Callable[[BaseException], None] = lambda error: None,
) -> KafkaBroker:
    async def plan(events: Events) -> None:
        planner.handle(events)

    consumer = events_consumer(
        config,
        title="outbound-mail:ticket-events",
        description=DESCRIPTION,
        logger="helpdesk.outbound_mail.kafka",
        wanted=TICKET_EVENTS,
    )
    return build_events_broker(
        settings,
        consumer,
        plan,
        failed="planning notifications failed",
        on_error=on_error,
        consumer_options=consumer_options,
    )
