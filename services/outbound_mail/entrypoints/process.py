"""Outbound mail as a process: ``helpdesk mail run``. SIGTERM/SIGINT stop it gracefully;
SIGKILL loses nothing (pending intents are re-sent on start, uncommitted events are
redelivered and deduplicated)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from services.health_endpoint import Readiness, consumers_assigned, serve_health
from services.logging_setup import configure_logging
from services.outbound_mail.bootstrap import run_outbound_mail
from services.outbound_mail.config import MailConfig
from services.settings import Settings


async def serve_forever(
    settings: Settings, config: MailConfig, readiness: Readiness | None = None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with run_outbound_mail(settings, config) as mail:
        watch: asyncio.Task[None] | None = None
        if readiness is not None and mail.broker is not None:
            readiness.add("events_consumer", consumers_assigned(mail.broker))
            watch = asyncio.create_task(readiness.watch())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, mail.delivery_task}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if mail.delivery_task.done():
            mail.delivery_task.result()  # a bug in the loop: exit non-zero, get restarted


def run(settings: Settings, config: MailConfig | None = None) -> None:
    config = config or MailConfig()
    configure_logging("outbound-mail", config.log_level)
    readiness = Readiness()
    if settings.metrics_port:
        serve_health(settings.metrics_port, settings.http_host, readiness)
    asyncio.run(serve_forever(settings, config, readiness))
