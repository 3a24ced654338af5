"""A real stack for email tests: the ticket service (store, relay, command intake) in
process, email ingest with its SMTP server, one Tansu broker; mail is sent with smtplib."""

from __future__ import annotations

import asyncio
import smtplib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from contracts.common import Actor, Role
from services.email_ingest.bootstrap import EmailIngest, run_email_ingest
from services.settings import Settings
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application, run_ticket_workers
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket
from tests.fixtures.kafka import CONSUMER_SETTINGS, create_topics

SUPPORT = "support@helpdesk.localhost"
WAIT = 60.0
"""Upper bound for waiting on the stack; it only limits how long a failure takes."""

T = TypeVar("T")


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path, kafka_topic_prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path,
        topic_events=f"{kafka_topic_prefix}events",
        topic_commands=f"{kafka_topic_prefix}commands",
        topic_dead_letter=f"{kafka_topic_prefix}dead-letter",
        smtp_port=0,
        support_address=SUPPORT,
    )


@dataclass
class EmailStack:
    app: TicketApplication
    ingest: EmailIngest
    settings: Settings

    async def send(self, raw: bytes, *, rcpt: str = SUPPORT, sender: str = "") -> tuple[int, str]:
        """Deliver over SMTP (smtplib, in a thread: the server runs on this loop); returns
        the reply to DATA."""
        return await asyncio.to_thread(smtp_send, self.ingest.smtp_port, raw, rcpt, sender)

    def tickets(self) -> list[Ticket]:
        found = []
        number = 1
        while True:
            try:
                found.append(self.app.get_ticket(number))
            except errors.TicketNotFound:
                return found
            number += 1

    async def until(self, probe: Callable[[], T | None], what: str) -> T:
        deadline = time.monotonic() + WAIT
        while (value := probe()) is None or value is False:
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}")
            await asyncio.sleep(0.05)
        return value

    async def ticket(self, number: int) -> Ticket:
        def probe() -> Ticket | None:
            try:
                return self.app.get_ticket(number)
            except errors.TicketNotFound:
                return None

        return await self.until(probe, f"ticket #{number}")

    async def ticket_when(self, number: int, condition: Callable[[Ticket], bool]) -> Ticket:
        def probe() -> Ticket | None:
            ticket = self.app.get_ticket(number)
            return ticket if condition(ticket) else None

        return await self.until(probe, f"ticket #{number} to change")

    async def indexed(self, message_id: str) -> int:
        """Wait until email ingest has learned which ticket ``message_id`` made."""
        view = await self.until(
            lambda: self.ingest.index.ticket_for_message(message_id), f"index of {message_id}"
        )
        return view.number

    async def indexed_status(self, number: int, status: str) -> None:
        await self.until(
            lambda: (t := self.ingest.index.ticket(number)) is not None and t.status == status,
            f"index to see #{number} {status}",
        )

    def close_by_integration(self, number: int) -> None:
        ctx = RequestContext(actor=Actor(role=Role.INTEGRATION, sub="crm"))
        self.app.update_ticket(number, {"status": "closed"}, ctx)

    def set_status(self, number: int, status: str) -> None:
        ctx = RequestContext(actor=Actor(role=Role.AGENT, email="agent@example.com"))
        self.app.update_ticket(number, {"status": status}, ctx)


def smtp_send(port: int, raw: bytes, rcpt: str, sender: str) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        client.ehlo("client.example.com")
        code, reply = client.mail(sender)
        assert code == 250, reply
        code, reply = client.rcpt(rcpt)
        if code != 250:
            return code, reply.decode()
        code, reply = client.data(raw)
        return code, reply.decode()


@pytest.fixture
async def stack(settings: Settings, kafka_topic_prefix: str) -> AsyncIterator[EmailStack]:
    assert settings.kafka_bootstrap
    # One partition: commands are applied in the order they were sent, so a later mail is
    # a barrier for everything sent before it.
    await create_topics(
        settings.kafka_bootstrap,
        [settings.topic_events, settings.topic_commands, settings.topic_dead_letter],
        partitions=1,
    )
    app = build_application(settings)
    async with (
        run_ticket_workers(
            app,
            settings,
            group_id=f"{kafka_topic_prefix}tickets",
            consumer_options=CONSUMER_SETTINGS,
            relay_options={"poll_interval": 0.05},
        ),
        run_email_ingest(settings, resolve_wait=30.0) as ingest,
    ):
        yield EmailStack(app, ingest, settings)
