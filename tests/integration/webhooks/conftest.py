"""The webhook service against a real broker and the real ticket service (store, outbox
relay, command intake), delivering to real HTTP receivers on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from contracts import Actor
from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application, create_app, run_ticket_workers
from services.webhooks.adapters.sqlite_store import SqliteWebhookStore
from services.webhooks.bootstrap import Webhooks, build_store, run_webhooks
from services.webhooks.config import WebhookConfig
from tests.fixtures.kafka import CONSUMER_SETTINGS, create_topics
from tests.fixtures.webhook_receiver import Receiver
from tests.unit.http.api_client import EMAILS, SECRET

T = TypeVar("T")

WAIT = 60.0
"""Upper bound for waiting; it only limits how long a failure takes."""
AGENT = RequestContext(actor=Actor(role="agent", email="agent@example.com"))
ADMIN = "admin:admin@example.com"


async def until(probe: Callable[[], T], what: str, wait: float = WAIT) -> T:
    """The probe's first truthy value."""
    deadline = time.monotonic() + wait
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)
    return value


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path, kafka_topic_prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path,
        topic_events=f"{kafka_topic_prefix}events",
        topic_commands=f"{kafka_topic_prefix}commands",
        topic_dead_letter=f"{kafka_topic_prefix}dead-letter",
        webhook_allow_http=True,
        webhook_allowed_hosts="127.0.0.1",
    )


@pytest.fixture
def config(kafka_topic_prefix: str) -> WebhookConfig:
    return WebhookConfig(
        group_id=f"{kafka_topic_prefix}webhooks",
        session_timeout_ms=CONSUMER_SETTINGS["session_timeout_ms"],
        heartbeat_interval_ms=CONSUMER_SETTINGS["heartbeat_interval_ms"],
        poll_seconds=0.05,
        retry_first_seconds=0.2,
        retry_cap_seconds=0.5,
        per_endpoint=4,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[SqliteWebhookStore]:
    """The store as the management API sees it (the dispatchers open their own)."""
    store = build_store(settings)
    try:
        yield store
    finally:
        store.close()


@dataclass
class Stack:
    app: TicketApplication
    settings: Settings


@pytest.fixture
async def tickets(settings: Settings, kafka_topic_prefix: str) -> AsyncIterator[Stack]:
    assert settings.kafka_bootstrap
    await create_topics(
        settings.kafka_bootstrap,
        [settings.topic_events, settings.topic_commands, settings.topic_dead_letter],
        partitions=1,  # one ticket's follow-up is folded after its original's close
    )
    app = build_application(settings)
    async with run_ticket_workers(
        app,
        settings,
        group_id=f"{kafka_topic_prefix}tickets",
        consumer_options=CONSUMER_SETTINGS,
        relay_options={"poll_interval": 0.05},
    ):
        yield Stack(app, settings)


@pytest.fixture
async def dispatcher(
    tickets: Stack, settings: Settings, config: WebhookConfig
) -> AsyncIterator[Webhooks]:
    async with run_webhooks(settings, config, consumer_options=CONSUMER_SETTINGS) as hooks:
        yield hooks


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(*args: object) -> Receiver:
        receiver = Receiver(*args).start()  # type: ignore[arg-type]
        started.append(receiver)
        return receiver

    try:
        yield start
    finally:
        for receiver in started:
            receiver.stop()


@dataclass
class Api:
    client: TestClient

    def headers(self, role: str = "admin") -> dict[str, str]:
        token = mint_token(SECRET, role=role, email=EMAILS[role])
        return {"Authorization": f"Bearer {token}"}

    def create(self, url: str, **fields: object) -> dict[str, Any]:
        reply = self.client.post(
            "/api/v1/webhooks", json={"url": url, **fields}, headers=self.headers()
        )
        assert reply.status_code == 201, reply.text
        return dict(reply.json())


def management_api(settings: Settings) -> Iterator[Api]:
    """The ticket service's HTTP app (its webhook routes on the webhook store)."""
    wired = settings.model_copy(update={"jwt_secret": SECRET})
    with TestClient(create_app(wired)) as client:
        yield Api(client)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    yield from management_api(settings)
