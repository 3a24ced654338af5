"""Outbound mail against a real aiosmtpd relay on loopback (``tests/fixtures/smtp_relay``);
the acceptance tests run it beside the email stack of ``tests/integration/email`` (ticket
service with relay and intake, email ingest with its SMTP server, one Tansu broker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from services.outbound_mail.bootstrap import OutboundMail, run_outbound_mail
from services.outbound_mail.config import MailConfig
from services.settings import Settings
from tests.fixtures.kafka import CONSUMER_SETTINGS
from tests.fixtures.smtp_relay import SmtpRelay
from tests.integration.email.conftest import SUPPORT
from tests.integration.email.conftest import stack as stack  # the fixture, reused

T = TypeVar("T")

WAIT = 60.0
"""Upper bound for waiting on the stack; it only limits how long a failure takes."""
RATE_LIMIT = 5


@pytest.fixture
def relay() -> Iterator[SmtpRelay]:
    relay = SmtpRelay().start()
    try:
        yield relay
    finally:
        relay.stop()


@pytest.fixture
def settings(
    kafka_bootstrap: str, tmp_path: Path, kafka_topic_prefix: str, relay: SmtpRelay
) -> Settings:
    """The email stack's settings, plus the relay (``stack`` takes these)."""
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path,
        topic_events=f"{kafka_topic_prefix}events",
        topic_commands=f"{kafka_topic_prefix}commands",
        topic_dead_letter=f"{kafka_topic_prefix}dead-letter",
        smtp_port=0,
        support_address=SUPPORT,
        smtp_relay=relay.address,
        smtp_retry_max_seconds=0.5,
        mail_rate_limit=RATE_LIMIT,
    )


@pytest.fixture
def mail_config(kafka_topic_prefix: str) -> MailConfig:
    return MailConfig(
        group_id=f"{kafka_topic_prefix}outbound-mail",
        concurrency=2,
        session_timeout_ms=CONSUMER_SETTINGS["session_timeout_ms"],
        heartbeat_interval_ms=CONSUMER_SETTINGS["heartbeat_interval_ms"],
        idle_poll_seconds=0.2,
    )


@pytest.fixture
async def outbound(
    stack: object, settings: Settings, mail_config: MailConfig
) -> AsyncIterator[OutboundMail]:
    async with run_outbound_mail(settings, mail_config) as mail:
        yield mail


async def until(probe: Callable[[], T], what: str) -> T:
    """The probe's first truthy value (an empty list is waited past too)."""
    deadline = time.monotonic() + WAIT
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)
    return value
