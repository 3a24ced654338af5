"""Wires the ticket service from settings, the one place that does (used by every entry
point: HTTP server, Kafka worker, CLI, tests and benchmarks):

* :func:`build_application`: the application on its event store;
* :func:`create_app`: the HTTP APIs around an application, with the browser pages (agent
  console at ``/agent/``, help center at ``/help/``);
* :func:`run_ticket_workers`: the Kafka side, the outbox relay and the command intake::

    async with run_ticket_workers(app, settings) as workers:
        ...                                   # commands on settings.topic_commands are applied,
        await workers.relay.wait_caught_up()  # every stored event is on settings.topic_events

Adapters never import this module. The HTTP and Kafka adapters are imported by the function
that wires them, so a process that builds only the application (a CLI command, an SLA
worker) does not load FastAPI, FastStream or aiokafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError, InternalError, OperationalError

from services.operator_errors import MissingSetting
from services.settings import Settings, get_settings
from services.ticket_service.adapters.event_store import store_env
from services.ticket_service.adapters.number_lock import number_lock
from services.ticket_service.adapters.saved_signal import saved_signal
from services.ticket_service.application.tickets import TicketApplication

if TYPE_CHECKING:
    from fastapi import FastAPI
    from faststream.kafka import KafkaBroker

    from services.ticket_service.adapters.kafka.intake import CommandIntake
    from services.ticket_service.adapters.kafka.relay import EventRelay

SCHEMA_RACE_RETRIES = 5


def build_application(
    settings: Settings | None = None, *, create_tables: bool = True
) -> TicketApplication:
    """The application on the configured store, telling the relay in any process when it
    saved (:mod:`~services.ticket_service.adapters.saved_signal`). Tables are created on
    first use (unless ``create_tables`` is false: readers of a store another process made);
    when processes start together on a fresh PostgreSQL database, the losers of the
    ``CREATE TABLE IF NOT EXISTS`` race (a unique violation, or "tuple concurrently
    updated") simply try again, and so do processes that open a fresh SQLite file together
    (switching it to WAL can meet "database is locked")."""
    settings = settings or get_settings()
    env = store_env(settings)
    if not create_tables:
        env["CREATE_TABLE"] = "n"
    for attempt in range(SCHEMA_RACE_RETRIES):
        try:
            app = TicketApplication(
                env=env,
                default_auto_close_after=settings.auto_close_after,
                idempotency_key_ttl=settings.idempotency_key_ttl,
                command_roles=settings.command_roles,
                snapshot_interval=settings.snapshot_interval,
            )
            signal = saved_signal(env, app.recorder)
            if signal is not None:
                app.add_saved_listener(signal)
            app.number_lock = number_lock(env)
            return app
        except (IntegrityError, InternalError, OperationalError, sqlite3.OperationalError) as error:
            if isinstance(error, InternalError) and "concurrently" not in str(error):
                raise
            if isinstance(error, OperationalError | sqlite3.OperationalError) and (
                "locked" not in str(error)
            ):
                raise
            if attempt == SCHEMA_RACE_RETRIES - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def create_app(
    settings: Settings | None = None,
    application: TicketApplication | Callable[[], TicketApplication] | None = None,
) -> FastAPI:
    """The HTTP APIs. ``application``: an existing application, a factory, or None (built
    from ``settings`` on first use). (FastAPI is imported here, not at the top: the worker
    and CLI processes that only build the application do not load it.)"""
    from services.ticket_service.adapters.http.app import build_http_app

    settings = settings or get_settings()
    if isinstance(application, TicketApplication):
        instance = application
        factory: Callable[[], TicketApplication] = lambda: instance  # noqa: E731
    else:
        wired = settings
        factory = application or (lambda: build_application(wired))
    from services.ticket_service.adapters.web.routes import install as install_web
    from services.webhooks.bootstrap import build_management

    app = build_http_app(settings, factory, lambda: build_management(settings))
    install_web(app)  # the agent console and the help center (not in the OpenAPI document)
    return app


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
    group_id: str | None = None,
    relay_name: str | None = None,
    max_records: int | None = None,
    consumer_options: dict[str, Any] | None = None,
    relay_options: dict[str, Any] | None = None,
) -> AsyncIterator[TicketWorkers]:
    """The relay and the intake of ``app``, running in this event loop until the block
    ends. ``settings.kafka_bootstrap`` must be set; the topics are created if missing
    (:func:`services.kafka_setup.service_topics`). ``relay=False`` / ``intake=False`` runs
    one side only. ``group_id`` (the intake's consumer group; one per test),
    ``max_records`` and ``consumer_options`` (e.g. ``session_timeout_ms``; tests on Tansu
    pass ``tests.fixtures.kafka.CONSUMER_SETTINGS``) go to the command subscriber;
    ``relay_name`` (default ``settings.relay_name``) names the relay's position, and
    ``relay_options`` go to :class:`EventRelay` (``poll_interval``, ``page_size``,
    ``record_position``)."""
    from services.kafka_setup import ensure_topics, service_topics
    from services.ticket_service.adapters.kafka.broker import (
        DEFAULT_CONSUMER_GROUP,
        DEFAULT_MAX_RECORDS,
        build_ticket_broker,
    )
    from services.ticket_service.adapters.kafka.relay import EventRelay

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
            group_id=group_id or DEFAULT_CONSUMER_GROUP,
            max_records=max_records or DEFAULT_MAX_RECORDS,
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
