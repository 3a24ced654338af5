"""Wires the closer from settings (one place, used by every entry point and the tests): the
FastStream broker, the Redis timer store, the Kafka event history, the command publisher,
the worker around them and the FastStream process app.

    async with build_worker(settings, config) as worker:
        ...                               # events are consumed, due timers fire
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.closer_worker.adapters.kafka_commands import KafkaCommandPublisher
from services.closer_worker.adapters.kafka_history import KafkaEventHistory
from services.closer_worker.adapters.redis_timer_store import RedisTimerStore
from services.closer_worker.config import CloserConfig
from services.closer_worker.worker import CloserWorker
from services.health_endpoint import Readiness, consumers_assigned
from services.kafka_setup import broker_producer_options
from services.operator_errors import MissingSetting
from services.settings import Settings


def _addresses(settings: Settings) -> tuple[str, str]:
    if not settings.kafka_bootstrap or not settings.redis_url:
        raise MissingSetting("the closer", "HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_REDIS_URL")
    return settings.kafka_bootstrap, settings.redis_url


def build_timer_store(settings: Settings, config: CloserConfig | None = None) -> RedisTimerStore:
    _, redis_url = _addresses(settings)
    return RedisTimerStore.from_url(redis_url, (config or CloserConfig()).redis_prefix)


def build_worker(settings: Settings, config: CloserConfig | None = None) -> CloserWorker:
    """One worker: it consumes (FastStream; the broker only subscribes, the closes are sent
    by the command publisher) and fires."""
    bootstrap, _ = _addresses(settings)
    config = config or CloserConfig()
    broker = KafkaBroker(
        bootstrap,
        client_id="helpdesk-closer-consumer",
        **broker_producer_options(settings),
        logger=logging.getLogger("helpdesk.closer.kafka"),  # JSON, like every log line
        log_level=logging.DEBUG,
    )
    return CloserWorker(
        broker=broker,
        store=build_timer_store(settings, config),
        history=KafkaEventHistory(bootstrap, settings.topic_events),
        publisher=KafkaCommandPublisher(settings),
        events_topic=settings.topic_events,
        config=config,
    )


def build_process_app(
    settings: Settings, config: CloserConfig | None = None, readiness: Readiness | None = None
) -> FastStream:
    """The closer process: a FastStream app around one worker. ``readiness`` gets the
    checks of ``/readyz``: the events consumer joined its group and Redis holds a completed
    rebuild of the timers."""
    worker = build_worker(settings, config)
    app = FastStream(worker.broker, logger=logging.getLogger("helpdesk.closer"))
    watch: list[asyncio.Task[None]] = []

    @app.after_startup
    async def _start_background() -> None:
        await worker.start_background()
        if readiness is not None:
            readiness.add("events_consumer", consumers_assigned(worker.broker))
            readiness.add("timers_rebuilt", worker.store.is_built)
            watch.append(asyncio.create_task(readiness.watch()))

    @app.on_shutdown
    async def _stop_background() -> None:
        for task in watch:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await worker.stop_background()

    @app.after_shutdown
    async def _close_store() -> None:
        await worker.store.close()

    return app
