"""The ticket service's Kafka worker process: the outbox relay and the command intake.

``helpdesk tickets-worker`` (or ``python -m services.ticket_service.entrypoints.worker``).
Settings come from ``HELPDESK_*``; ``HELPDESK_KAFKA_BOOTSTRAP`` is required.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from services.settings import Settings, get_settings
from services.ticket_service.adapters.kafka.runtime import run_forever
from services.ticket_service.bootstrap import build_application


async def serve(settings: Settings, *, relay: bool = True, intake: bool = True) -> None:
    app = build_application(settings)
    task = asyncio.create_task(run_forever(app, settings, relay=relay, intake=intake))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    app.close()


def main(settings: Settings | None = None, *, relay: bool = True, intake: bool = True) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(settings or get_settings(), relay=relay, intake=intake))


if __name__ == "__main__":
    main()
