"""Wire outbound mail from settings: store, suppression list, renderer, transport (the
SMTP relay, or the outbox Maildir without one), planner, delivery loop and the events
consumer.

    async with run_outbound_mail(settings) as mail:
        mail.store.entries()          # the sent log
        await mail.until_idle()       # everything recorded so far went out
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker

from services.kafka_setup import ensure_topics, partitioned
from services.mail_suppression import SuppressionList, suppression_for
from services.operator_errors import MissingSetting
from services.outbound_mail.adapters import metrics
from services.outbound_mail.adapters.kafka_events import build_broker
from services.outbound_mail.adapters.maildir_outbox import MaildirOutbox
from services.outbound_mail.adapters.smtp_relay import RelaySettings, SmtpRelay
from services.outbound_mail.adapters.sqlite_store import FILE_NAME, SqliteNotificationStore
from services.outbound_mail.adapters.templates import JinjaRenderer
from services.outbound_mail.application.delivery import Delivery, DeliveryPolicy
from services.outbound_mail.application.planning import Planner, PlanningPolicy
from services.outbound_mail.application.ports import Transport
from services.outbound_mail.config import MailConfig
from services.outbound_mail.domain.notifications import Kind
from services.settings import Settings

log = logging.getLogger("helpdesk.outbound_mail")

OUTBOX_DIR = "outbox"


def outbox_dir(settings: Settings) -> Path:
    return settings.mail_outbox_dir or Path(settings.data_dir) / OUTBOX_DIR


def enabled_kinds(settings: Settings) -> set[Kind]:
    switches = {
        Kind.ACKNOWLEDGEMENT: settings.mail_acknowledgement,
        Kind.PUBLIC_COMMENT: settings.mail_public_comment,
        Kind.SOLVED: settings.mail_solved,
        Kind.FOLLOW_UP: settings.mail_follow_up,
    }
    return {kind for kind, on in switches.items() if on}


def transport_factory(settings: Settings) -> Callable[[], Transport]:
    """One transport per delivery worker: an SMTP connection each, or the shared outbox."""
    if settings.smtp_relay:
        relay = RelaySettings.parse(
            settings.smtp_relay,
            starttls=settings.smtp_starttls,
            ca_file=str(settings.smtp_tls_ca_file) if settings.smtp_tls_ca_file else None,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            timeout=settings.smtp_timeout_seconds,
        )
        return lambda: SmtpRelay(relay)
    outbox = MaildirOutbox(outbox_dir(settings))
    return lambda: outbox


def build_store(settings: Settings) -> SqliteNotificationStore:
    return SqliteNotificationStore(Path(settings.data_dir) / FILE_NAME)


@dataclass
class OutboundMail:
    store: SqliteNotificationStore
    suppression: SuppressionList
    planner: Planner
    delivery: Delivery
    broker: KafkaBroker | None
    delivery_task: asyncio.Task[None]

    async def until_idle(self, poll: float = 0.02) -> None:
        """Wait until no intent is pending (for tests and the benchmark)."""
        while self.store.pending_count() or not self.delivery.idle:
            if self.delivery_task.done():
                self.delivery_task.result()
            await asyncio.sleep(poll)


@contextlib.asynccontextmanager
async def run_outbound_mail(
    settings: Settings,
    config: MailConfig | None = None,
    *,
    consume: bool = True,
    consumer_options: dict[str, Any] | None = None,
) -> AsyncIterator[OutboundMail]:
    """``consume=False`` runs the delivery loop only (the planner is fed directly)."""
    config = config or MailConfig()
    if consume and not settings.kafka_bootstrap:
        raise MissingSetting("outbound mail", "HELPDESK_KAFKA_BOOTSTRAP")
    sender = settings.mail_from or settings.support_address
    store = build_store(settings)
    suppression = suppression_for(settings)
    delivery = Delivery(
        store,
        transport_factory(settings),
        DeliveryPolicy(
            sender=sender,
            concurrency=config.concurrency,
            retry_max_seconds=settings.smtp_retry_max_seconds,
            give_up_after=settings.smtp_give_up_after.total_seconds(),
            idle_poll_seconds=config.idle_poll_seconds,
        ),
        count=metrics.count,
        observe=metrics.observe,
    )
    planner = Planner(
        store,
        suppression,
        JinjaRenderer(settings.mail_templates_dir),
        PlanningPolicy(
            support=settings.support_address,
            sender=sender,
            enabled=enabled_kinds(settings),
            max_event_age=settings.mail_max_event_age.total_seconds(),
            rate_limit=settings.mail_rate_limit,
            rate_window=settings.mail_rate_window.total_seconds(),
        ),
        on_recorded=delivery.wake,
        count=metrics.count,
    )
    metrics.PENDING.set_function(store.pending_count)
    broker: KafkaBroker | None = None
    delivery_task = asyncio.create_task(delivery.run(), name="outbound-mail-delivery")
    try:
        if consume:
            assert settings.kafka_bootstrap
            await ensure_topics(
                settings.kafka_bootstrap, partitioned(settings, settings.topic_events)
            )
            broker = build_broker(settings, config, planner, consumer_options=consumer_options)
            await broker.start()
        log.info(
            "outbound mail: %s → %s",
            settings.topic_events,
            settings.smtp_relay or f"outbox {outbox_dir(settings)}",
        )
        yield OutboundMail(store, suppression, planner, delivery, broker, delivery_task)
    finally:
        if broker is not None:
            await broker.stop()
        delivery_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery_task
        metrics.PENDING.set_function(lambda: 0)
        store.close()
        suppression.close()
