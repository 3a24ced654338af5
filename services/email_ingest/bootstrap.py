"""Wire email ingest from settings: index, index feed, publisher, quarantine, suspended
queue, authenticator, SMTP server and the optional admin API.

async with run_email_ingest(settings) as ingest:
    ingest.smtp_port                      # the SMTP server listens here
    await ingest.service.ingest(raw)      # or feed it bytes directly
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services.email_ingest.adapters import metrics
from services.email_ingest.adapters.event_index_feed import EventIndexFeed
from services.email_ingest.adapters.kafka_publisher import KafkaCommandPublisher
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.smtp_server import start_smtp_server
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.authentication import (
    Authenticator,
    MtaVerdict,
    Unchecked,
)
from services.email_ingest.application.ingest import IngestService
from services.email_ingest.domain.addresses import SupportAddress
from services.kafka_setup import ensure_topics, partitioned
from services.mail_store import mail_store_for
from services.mail_suppression import suppression_for
from services.operator_errors import MissingSetting
from services.settings import Settings

if TYPE_CHECKING:
    from services.email_ingest.adapters.admin_server import AdminServer

log = logging.getLogger("helpdesk.email_ingest")

INDEX_FILE = "email-index.sqlite3"
QUARANTINE_DIR = "quarantine"
SUSPENDED_DIR = "suspended"
SMTP_HARD_LIMIT_FACTOR = 2
"""SMTP refuses (552) only above twice the limit; between the two, mail is accepted into
quarantine as ``too_large`` so an operator can still look at it."""


def quarantine_for(settings: Settings) -> FileQuarantine:
    return FileQuarantine(Path(settings.data_dir) / QUARANTINE_DIR)


def suspended_for(settings: Settings) -> FileSuspendedQueue:
    return FileSuspendedQueue(Path(settings.data_dir) / SUSPENDED_DIR)


def authenticator_for(settings: Settings) -> Authenticator:
    """Our mail server's verdict when its authserv-id is set; else, optionally, DKIM in
    process; else nothing (with a warning: any sender can then act on any ticket)."""
    if settings.email_authserv_id:
        return MtaVerdict(settings.email_authserv_id)
    if settings.email_dkim_verify:
        from services.email_ingest.adapters.dkim_check import DkimVerifier

        log.warning(
            "HELPDESK_EMAIL_AUTHSERV_ID is not set: checking DKIM in process only; "
            "replies without an aligned DKIM signature are suspended"
        )
        return DkimVerifier()
    log.warning(
        "HELPDESK_EMAIL_AUTHSERV_ID is not set: mail is not authenticated, a forged From "
        "can comment on a ticket as its requester (see docs/email.md, trust model)"
    )
    return Unchecked()


@dataclass
class EmailIngest:
    service: IngestService
    index: SqliteTicketIndex
    feed: EventIndexFeed
    publisher: KafkaCommandPublisher
    quarantine: FileQuarantine
    suspended: FileSuspendedQueue
    server: asyncio.Server | None
    feed_task: asyncio.Task[None]
    admin: AdminServer | None = None

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
    await ensure_topics(
        settings.kafka_bootstrap,
        partitioned(settings, settings.topic_events, settings.topic_commands),
    )
    support = SupportAddress(settings.support_address)
    index = SqliteTicketIndex(index_path or Path(settings.data_dir) / INDEX_FILE)
    quarantine = quarantine_for(settings)
    suspended = suspended_for(settings)
    metrics.watch_suspended_queue(suspended.size)
    publisher = KafkaCommandPublisher(settings)
    feed = EventIndexFeed(index, settings)
    mail_store = mail_store_for(settings)
    suppression = suppression_for(settings)
    service = IngestService(
        index=index,
        publisher=publisher,
        quarantine=quarantine,
        suspended=suspended,
        support=support,
        max_bytes=settings.email_max_bytes,
        authenticator=authenticator_for(settings),
        resolve_wait=resolve_wait,
        count=metrics.count,
        count_auth=metrics.count_authentication,
        mail_store=mail_store,
        suppress=suppression.add,
    )
    if settings.email_retention_days > 0:
        purged = await asyncio.to_thread(mail_store.purge, settings.email_retention_days)
        log.info(
            "mail store: %d entries older than %d days purged",
            purged,
            settings.email_retention_days,
        )
    await publisher.start()
    server: asyncio.Server | None = None
    feed_task: asyncio.Task[None] | None = None
    admin: AdminServer | None = None
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
            if settings.email_admin_port is not None:
                from services.email_ingest.adapters.admin_http import create_admin_app
                from services.email_ingest.adapters.admin_server import AdminServer

                admin = AdminServer(
                    create_admin_app(service, suspended, settings.jwt_secret),
                    settings.http_host,
                    settings.email_admin_port,
                )
                await admin.start()
        yield EmailIngest(
            service, index, feed, publisher, quarantine, suspended, server, feed_task, admin
        )
    finally:
        if admin is not None:
            await admin.stop()
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
        mail_store.close()
        suppression.close()
