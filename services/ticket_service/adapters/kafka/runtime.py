"""Run the ticket service's Kafka side in-process: the outbox relay and the command intake.

    from services.ticket_service.adapters.kafka.runtime import run_ticket_workers

    async with run_ticket_workers(app, settings) as workers:
        ...                                   # commands on settings.topic_commands are applied,
        await workers.relay.wait_caught_up()  # every stored event is on settings.topic_events

``settings.kafka_bootstrap`` must be set. Topics are created if missing
(``settings.kafka_partitions`` each); the relay's position is named ``settings.relay_name``
unless ``relay_name`` is given. Pass a unique
``group_id`` per test. ``relay=False`` / ``intake=False`` runs only one side. The worker
process (``helpdesk tickets-worker``) is this, run until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker

from services.health_endpoint import Readiness, consumers_assigned
from services.kafka_setup import ensure_topics, service_topics
from services.operator_errors import MissingSetting
from services.settings import Settings
from services.ticket_service.adapters.kafka.broker import (
    DEFAULT_CONSUMER_GROUP,
    DEFAULT_MAX_RECORDS,
    build_ticket_broker,
)
from services.ticket_service.adapters.kafka.intake import CommandIntake
from services.ticket_service.adapters.kafka.relay import EventRelay
from services.ticket_service.application.tickets import TicketApplication

log = logging.getLogger(__name__)


@dataclass
class TicketWorkers:
    relay: EventRelay
    relay_task: asyncio.Task[None] | None
    intake: CommandIntake | None
    broker: KafkaBroker | None


@contextlib.asynccontextmanager
async def run_ticket_workers(
    app: TicketApplication,
    settings: Settings,
    *,
    relay: bool = True,
    intake: bool = True,
    group_id: str = DEFAULT_CONSUMER_GROUP,
    relay_name: str | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
    consumer_options: dict[str, Any] | None = None,
    relay_options: dict[str, Any] | None = None,
) -> AsyncIterator[TicketWorkers]:
    """``consumer_options`` go to the command subscriber (e.g. ``session_timeout_ms``;
    tests on Tansu pass ``tests.fixtures.kafka.CONSUMER_SETTINGS``); ``relay_options`` to
    :class:`EventRelay` (``poll_interval``, ``page_size``, ``record_position``)."""
    if not settings.kafka_bootstrap:
        raise MissingSetting("the ticket workers", "HELPDESK_KAFKA_BOOTSTRAP")
    await ensure_topics(settings.kafka_bootstrap, service_topics(settings))
    event_relay = EventRelay(
        app, settings, name=relay_name or settings.relay_name, **(relay_options or {})
    )
    workers = TicketWorkers(relay=event_relay, relay_task=None, intake=None, broker=None)
    if intake:
        workers.broker, workers.intake = build_ticket_broker(
            app,
            settings,
            group_id=group_id,
            max_records=max_records,
            consumer_options=consumer_options,
        )
    try:
        if relay:
            workers.relay_task = asyncio.create_task(event_relay.run(), name="event-relay")
        if workers.broker is not None:
            await workers.broker.start()
        yield workers
    finally:
        if workers.broker is not None:
            await workers.broker.stop()
        if workers.relay_task is not None:
            workers.relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await workers.relay_task


async def run_forever(
    app: TicketApplication,
    settings: Settings,
    *,
    relay: bool = True,
    intake: bool = True,
    readiness: Readiness | None = None,
) -> None:
    """The worker process body: the relay and/or the intake until cancelled. ``readiness``
    gets the checks of the process's ``/readyz``: the relay is connected and publishing,
    the intake's consumer joined its group."""
    async with run_ticket_workers(app, settings, relay=relay, intake=intake) as workers:
        if readiness is not None:
            if relay:
                event_relay = workers.relay

                async def relay_ready() -> bool:
                    return event_relay.producing

                readiness.add("relay", relay_ready)
            if workers.broker is not None:
                readiness.add("intake", consumers_assigned(workers.broker))
        log.info(
            "ticket workers running: relay → %s (%s), intake ← %s (%s)",
            settings.topic_events,
            "on" if relay else "off",
            settings.topic_commands,
            "on" if intake else "off",
        )
        if workers.relay_task is not None:
            await workers.relay_task  # returns only by cancellation or a bug
        else:
            await asyncio.Event().wait()
