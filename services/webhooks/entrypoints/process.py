"""The webhook dispatcher as a process: ``helpdesk webhooks run``. SIGTERM/SIGINT stop it
gracefully; SIGKILL loses nothing (leased deliveries are claimed again once their lease
expires, uncommitted events are redelivered and deduplicated)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from services.health_endpoint import Readiness, consumers_assigned, serve_health
from services.logging_setup import configure_logging
from services.settings import Settings
from services.webhooks.bootstrap import run_webhooks
from services.webhooks.config import WebhookConfig


async def serve_forever(
    settings: Settings, config: WebhookConfig, readiness: Readiness | None = None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with run_webhooks(settings, config) as hooks:
        watch: asyncio.Task[None] | None = None
        if readiness is not None and hooks.broker is not None:
            readiness.add("events_consumer", consumers_assigned(hooks.broker))
            watch = asyncio.create_task(readiness.watch())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, hooks.task}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if hooks.task.done():
            hooks.task.result()


def run(settings: Settings, config: WebhookConfig | None = None) -> None:
    config = config or WebhookConfig()
    configure_logging("webhooks", config.log_level)
    readiness = Readiness()
    if settings.metrics_port:
        serve_health(settings.metrics_port, settings.http_host, readiness)
    asyncio.run(serve_forever(settings, config, readiness))
