"""The closer as a process: a FastStream app around one :class:`CloserWorker`.

``python -m services.closer_worker`` or ``helpdesk closer run``. SIGTERM/SIGINT stop it
gracefully; SIGKILL loses nothing (leases expire, Kafka redelivers uncommitted events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream import FastStream

from services.closer_worker.config import CloserConfig
from services.closer_worker.worker import CloserWorker
from services.health_endpoint import Readiness, consumers_assigned, serve_health
from services.logging_setup import configure_logging
from services.settings import Settings


def build_app(
    settings: Settings, config: CloserConfig | None = None, readiness: Readiness | None = None
) -> FastStream:
    """``readiness`` gets the checks of ``/readyz``: the events consumer joined its group and
    Redis holds a completed rebuild of the timers."""
    worker = CloserWorker(settings, config)
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


def run(settings: Settings, config: CloserConfig | None = None) -> None:
    config = config or CloserConfig()
    configure_logging("closer", config.log_level)
    readiness = Readiness()
    if settings.metrics_port:
        serve_health(settings.metrics_port, settings.http_host, readiness)
    asyncio.run(build_app(settings, config, readiness).run())


async def rebuild_once(settings: Settings, config: CloserConfig | None = None) -> str:
    """Rebuild the timer store from history without running a worker."""
    worker = CloserWorker(settings, config)
    try:
        result = await worker.rebuild()
    finally:
        await worker.store.close()
    if result.skipped:
        return "another worker is rebuilding right now; nothing done"
    return (
        f"read {result.events_read} events, {result.timers_written} pending timers, "
        f"{result.seconds:.2f}s"
    )


async def status(settings: Settings, config: CloserConfig | None = None) -> str:
    worker = CloserWorker(settings, config)
    try:
        pending = await worker.store.pending()
        built = await worker.store.is_built()
        next_due = await worker.store.next_due()
    finally:
        await worker.store.close()
    return f"pending={pending} built={built} next_due={next_due}"
