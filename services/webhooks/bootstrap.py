"""Wire the webhook service from settings: its store, the HTTP sender, the dispatcher and
the events consumer.

    async with run_webhooks(settings) as hooks:
        hooks.store.deliveries(webhook_id)   # the delivery log
        await hooks.dispatcher.until_idle()

:func:`build_store` is also what the ticket service's bootstrap gives its management API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from faststream.kafka import KafkaBroker

from services.kafka_setup import ensure_topics, partitioned
from services.mail_store import POSTGRES_SCHEMES
from services.operator_errors import MissingSetting
from services.settings import Settings
from services.webhooks.adapters import metrics
from services.webhooks.adapters.http_sender import HttpSender, resolve
from services.webhooks.adapters.kafka_events import build_broker
from services.webhooks.adapters.sqlite_store import FILE_NAME, SqliteWebhookStore
from services.webhooks.application.dispatcher import Dispatcher, DispatchPolicy
from services.webhooks.application.management import Management, TargetRules
from services.webhooks.config import WebhookConfig
from services.webhooks.domain.retry import RetrySchedule
from services.webhooks.domain.targets import allowlist

log = logging.getLogger("helpdesk.webhooks")


def build_store(settings: Settings) -> SqliteWebhookStore:
    """The one place that chooses the store: ``HELPDESK_WEBHOOK_STORE_PATH`` (SQLite) when
    set, else PostgreSQL when ``HELPDESK_DATABASE_URL`` names it (as the mail store
    chooses), else ``<data_dir>/webhooks.sqlite3``."""
    url = settings.database_url
    horizon = settings.webhook_retry_horizon.total_seconds()
    if settings.webhook_store_path is None and url and urlsplit(url).scheme in POSTGRES_SCHEMES:
        from services.webhooks.adapters.postgres_store import PostgresWebhookStore

        return PostgresWebhookStore(url, horizon_seconds=horizon)
    return SqliteWebhookStore(
        settings.webhook_store_path or Path(settings.data_dir) / FILE_NAME,
        horizon_seconds=settings.webhook_retry_horizon.total_seconds(),
    )


def target_rules(settings: Settings) -> TargetRules:
    return TargetRules(
        allow_http=settings.webhook_allow_http,
        allowed_hosts=allowlist(settings.webhook_allowed_hosts or ""),
    )


def build_management(settings: Settings) -> Management:
    """The store, the target rules and the resolver, for the ticket service's API."""
    return Management(build_store(settings), target_rules(settings), resolve)


def dispatcher_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Webhooks:
    store: SqliteWebhookStore
    dispatcher: Dispatcher
    broker: KafkaBroker | None
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def run_webhooks(
    settings: Settings,
    config: WebhookConfig | None = None,
    *,
    consume: bool = True,
    consumer_options: dict[str, Any] | None = None,
) -> AsyncIterator[Webhooks]:
    """``consume=False`` runs the dispatcher only (deliveries recorded elsewhere)."""
    config = config or WebhookConfig()
    if consume and not settings.kafka_bootstrap:
        raise MissingSetting("webhooks", "HELPDESK_KAFKA_BOOTSTRAP")
    store = build_store(settings)
    sender = HttpSender(
        timeout=settings.webhook_timeout_seconds,
        allowed=allowlist(settings.webhook_allowed_hosts or ""),
        max_connections=config.per_endpoint,
    )
    dispatcher = Dispatcher(
        store,
        sender,
        DispatchPolicy(
            owner=dispatcher_owner(),
            schedule=RetrySchedule(config.retry_first_seconds, config.retry_cap_seconds),
            per_endpoint=config.per_endpoint,
            ready_limit=config.ready_limit,
            lease_seconds=max(config.lease_seconds, 2 * settings.webhook_timeout_seconds),
            poll_seconds=config.poll_seconds,
            disable_after=settings.webhook_disable_after.total_seconds(),
        ),
        count=metrics.count,
        observe_latency=metrics.observe,
        on_backlog=metrics.backlog,
    )
    task = asyncio.create_task(dispatcher.run(), name="webhook-dispatcher")
    broker: KafkaBroker | None = None

    def record(events: list[dict[str, Any]]) -> int:
        recorded = store.consume(events)
        metrics.RECORDED.inc(recorded)
        return recorded

    try:
        if consume:
            assert settings.kafka_bootstrap
            await ensure_topics(
                settings.kafka_bootstrap, partitioned(settings, settings.topic_events)
            )
            broker = build_broker(
                settings,
                config,
                record,
                on_recorded=dispatcher.wake,
                consumer_options=consumer_options,
            )
            await broker.start()
        log.info("webhooks: %s → %d subscriptions", settings.topic_events, len(store.webhooks()))
        yield Webhooks(store, dispatcher, broker, task)
    finally:
        if broker is not None:
            await broker.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        store.close()
