"""The ticket service's Kafka worker process: the outbox relay and the command intake.

``helpdesk tickets-worker`` (or ``python -m services.ticket_service.entrypoints.worker``).
Settings come from ``HELPDESK_*``; ``HELPDESK_KAFKA_BOOTSTRAP`` is required. With
``HELPDESK_METRICS_PORT`` set it serves on that port Prometheus metrics (``/metrics``),
liveness (``/healthz``) and readiness (``/readyz``: the relay publishes, the intake joined
its consumer group).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from services.health_endpoint import Readiness, consumers_assigned, serve_health
from services.logging_setup import configure_logging
from services.settings import Settings, get_settings
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application, run_ticket_workers

log = logging.getLogger(__name__)


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


async def serve(
    settings: Settings,
    *,
    relay: bool = True,
    intake: bool = True,
    readiness: Readiness | None = None,
) -> None:
    app = build_application(settings)
    task = asyncio.create_task(
        run_forever(app, settings, relay=relay, intake=intake, readiness=readiness)
    )
    watch = asyncio.create_task(readiness.watch()) if readiness is not None else None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if watch is not None:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
    app.close()


def main(settings: Settings | None = None, *, relay: bool = True, intake: bool = True) -> None:
    configure_logging("tickets-worker")
    settings = settings or get_settings()
    readiness = Readiness()
    if settings.metrics_port:
        serve_health(settings.metrics_port, settings.http_host, readiness)
    asyncio.run(serve(settings, relay=relay, intake=intake, readiness=readiness))


if __name__ == "__main__":
    main()
