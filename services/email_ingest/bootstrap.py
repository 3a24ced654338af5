"""Wire email ingest from settings: index, index feed, publisher, quarantine, SMTP server.

async with run_email_ingest(settings) as ingest:
    ingest.smtp_port                      # the SMTP server listens here
    await ingest.service.ingest(raw)      # or feed it bytes directly
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from services.email_ingest.adapters import metrics
from services.email_ingest.adapters.event_index_feed import EventIndexFeed
from services.email_ingest.adapters.kafka_publisher import KafkaCommandPublisher
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.smtp_server import start_smtp_server
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.adapters.topics import ensure_topics
from services.email_ingest.application.ingest import IngestService
from services.email_ingest.domain.addresses import SupportAddress
from services.operator_errors import MissingSetting
from services.settings import Settings

INDEX_FILE = "email-index.sqlite3"
QUARANTINE_DIR = "quarantine"
SMTP_HARD_LIMIT_FACTOR = 2
"""SMTP refuses (552) only above twice the limit; between the two, mail is accepted into
quarantine as ``too_large`` so an operator can still look at it."""


def quarantine_for(settings: Settings) -> FileQuarantine:
    return FileQuarantine(Path(settings.data_dir) / QUARANTINE_DIR)


@dataclass
class EmailIngest:
    service: IngestService
    index: SqliteTicketIndex
    feed: EventIndexFeed
    publisher: KafkaCommandPublisher
    quarantine: FileQuarantine
    server: asyncio.Server | None
    feed_task: asyncio.Task[None]

    @property
    def smtp_port(self) -> int:
        assert self.server is not None, "SMTP server not started"
        return int(self.server.sockets[0].getsockname()[1])


@contextlib.asynccontextmanager
async def run_email_ingest(
    settings: Settings,
    *,
    smtp: bool = True,
    index_path: Path | str | None = None,
    resolve_wait: float = 10.0,
) -> AsyncIterator[EmailIngest]:
    if not settings.kafka_bootstrap:
        raise MissingSetting("email ingest", "HELPDESK_KAFKA_BOOTSTRAP")
    await ensure_topics(settings.kafka_bootstrap, [settings.topic_events, settings.topic_commands])
    support = SupportAddress(settings.support_address)
    index = SqliteTicketIndex(index_path or Path(settings.data_dir) / INDEX_FILE)
    quarantine = quarantine_for(settings)
    publisher = KafkaCommandPublisher(settings)
    feed = EventIndexFeed(index, settings)
    service = IngestService(
        index=index,
        publisher=publisher,
        quarantine=quarantine,
        support=support,
        max_bytes=settings.email_max_bytes,
        resolve_wait=resolve_wait,
        count=metrics.count,
    )
    await publisher.start()
    server: asyncio.Server | None = None
    feed_task: asyncio.Task[None] | None = None
    try:
        await feed.start()
        await feed.catch_up()
        feed_task = asyncio.create_task(feed.run(), name="email-index-feed")
        if smtp:
            server = await start_smtp_server(
                service,
                support,
                settings.smtp_host,
                settings.smtp_port,
                data_size_limit=settings.email_max_bytes * SMTP_HARD_LIMIT_FACTOR,
            )
        yield EmailIngest(service, index, feed, publisher, quarantine, server, feed_task)
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
        if feed_task is not None:
            feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed_task
        await feed.stop()
        await publisher.stop()
        index.close()
