"""Commands → ``helpdesk.ticket-commands`` with ``acks=all``: :meth:`publish` returns only
once the broker has the record, which is when SMTP may answer 250."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError

from contracts.commands import CommandEnvelope
from services.email_ingest.application.ports import PublishFailed
from services.kafka_setup import make_producer
from services.operator_errors import MissingSetting
from services.settings import Settings

PUBLISH_TIMEOUT_SECONDS = 30.0
LINGER_MS = 5
"""A few ms of batching: SMTP sessions waiting on acks share produce requests."""


class KafkaCommandPublisher:
    def __init__(self, settings: Settings, *, topic: str | None = None) -> None:
        if not settings.kafka_bootstrap:
            raise MissingSetting("the email command publisher", "HELPDESK_KAFKA_BOOTSTRAP")
        self.topic = topic or settings.topic_commands
        self.producer = make_producer(
            settings,
            client_id="helpdesk-email-ingest",
            linger_ms=LINGER_MS,
            request_timeout_ms=int(PUBLISH_TIMEOUT_SECONDS * 1000),
        )

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def publish(self, command: CommandEnvelope) -> None:
        key = str(command.ticket_id or command.command_id).encode()
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await self.producer.send_and_wait(
                    self.topic,
                    value=command.model_dump_json().encode(),
                    key=key,
                    headers=[
                        ("content-type", b"application/json"),
                        ("command_type", command.command_type.encode()),
                    ],
                )
        except (KafkaError, TimeoutError, OSError) as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error
