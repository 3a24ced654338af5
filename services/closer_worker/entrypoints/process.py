"""The closer as a process (:func:`services.closer_worker.bootstrap.build_process_app`).

``python -m services.closer_worker`` or ``helpdesk closer run``. SIGTERM/SIGINT stop it
gracefully; SIGKILL loses nothing (leases expire, Kafka redelivers uncommitted events).
"""

from __future__ import annotations

import asyncio

from services.closer_worker.bootstrap import build_process_app, build_timer_store, build_worker
from services.closer_worker.config import CloserConfig
from services.health_endpoint import Readiness, serve_health
from services.logging_setup import configure_logging
from services.settings import Settings


def run(settings: Settings, config: CloserConfig | None = None) -> None:
    config = config or CloserConfig()
    configure_logging("closer", config.log_level)
    readiness = Readiness()
    if settings.metrics_port:
        serve_health(settings.metrics_port, settings.http_host, readiness)
    asyncio.run(build_process_app(settings, config, readiness).run())


async def rebuild_once(settings: Settings, config: CloserConfig | None = None) -> str:
    """Rebuild the timer store from history without running a worker."""
    worker = build_worker(settings, config)
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
    store = build_timer_store(settings, config)
    try:
        pending = await store.pending()
        built = await store.is_built()
        next_due = await store.next_due()
    finally:
        await store.close()
    return f"pending={pending} built={built} next_due={next_due}"
