"""The ticket service's FastStream Kafka broker: the command subscriber (batches, manual
ack after the store save) and the dead-letter publisher. The events topic is not FastStream's:
the outbox relay publishes it with its own producer (the AsyncAPI document describes it from
the contracts, :mod:`.asyncapi`)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from contracts.commands import Command
from contracts.dead_letters import DeadLetter
from services.kafka_setup import broker_producer_options
from services.settings import Settings
from services.ticket_service.adapters.dead_letter_store import DeadLetterStore
from services.ticket_service.adapters.kafka.command_records import dead_letter_headers
from services.ticket_service.adapters.kafka.intake import CommandIntake
from services.ticket_service.application.tickets import TicketApplication

DEFAULT_CONSUMER_GROUP = "helpdesk-ticket-service"
DEFAULT_MAX_RECORDS = 500

COMMANDS_DESCRIPTION = (
    "Commands from upstream systems, the closer worker and email ingest. Deduplicated by "
    "command_id; applied several per store transaction; offsets committed after the store "
    "save. A refused command becomes a CommandRejected event on the events topic; an "
    "undecodable or invalid one, or one whose application keeps failing, goes to the "
    "dead-letter topic."
)
DEAD_LETTER_DESCRIPTION = (
    "Messages the ticket service could not decode, validate or apply, with the original bytes "
    "(base64), headers, topic, partition, offset and the error. A copy: each dead letter is "
    "stored in the ticket store first (helpdesk dead-letters, /api/v1/dead-letters)."
)


def build_broker(settings: Settings, **options: Any) -> KafkaBroker:
    """Its producer (the dead letters) is configured as every other one
    (:func:`services.kafka_setup.broker_producer_options`)."""
    return KafkaBroker(
        settings.kafka_bootstrap or "localhost:9092",
        client_id="helpdesk-ticket-service",
        **broker_producer_options(settings),
        **options,
    )


async def _tolerant_parser(records: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream decodes header values as UTF-8; a poison record may not have UTF-8
    headers. Parse a sanitised copy then and keep the original records for dead-lettering."""
    try:
        return await original(records)
    except UnicodeDecodeError:
        batch = records if isinstance(records, tuple) else (records,)
        safe = tuple(
            dataclasses.replace(
                r, headers=[(k, v.decode("utf-8", "replace").encode()) for k, v in r.headers]
            )
            for r in batch
        )
        message = await original(safe if isinstance(records, tuple) else safe[0])
        message.raw_message = records
        return message


async def _no_decode(message: Any) -> Any:
    """The intake decodes records itself (so that poison can be told apart per record)."""
    return None


def declare_ticket_channels(
    broker: KafkaBroker,
    settings: Settings,
    handle_commands: Callable[..., Awaitable[None]],
    *,
    group_id: str | None = DEFAULT_CONSUMER_GROUP,
    max_records: int = DEFAULT_MAX_RECORDS,
    include_in_schema: bool = True,
    consumer_options: dict[str, Any] | None = None,
    batch: bool = True,
) -> Any:
    """Declare the subscriber and the dead-letter publisher; returns the publisher.
    (``batch=False`` only for the document: one record carries one command.)"""
    batching: dict[str, Any] = (
        {"batch": True, "max_records": max_records, "batch_timeout_ms": 100} if batch else {}
    )
    broker.subscriber(
        settings.topic_commands,
        **batching,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        parser=_tolerant_parser,
        decoder=_no_decode,
        title="ticket-commands",
        description=COMMANDS_DESCRIPTION,
        include_in_schema=include_in_schema,
        **(consumer_options or {}),
    )(handle_commands)
    return broker.publisher(
        settings.topic_dead_letter,
        title="dead-letter",
        description=DEAD_LETTER_DESCRIPTION,
        schema=DeadLetter,
        include_in_schema=include_in_schema,
    )


def build_ticket_broker(
    app: TicketApplication,
    settings: Settings,
    *,
    group_id: str | None = DEFAULT_CONSUMER_GROUP,
    max_records: int = DEFAULT_MAX_RECORDS,
    consumer_options: dict[str, Any] | None = None,
) -> tuple[KafkaBroker, CommandIntake]:
    """The running broker with the command intake wired to ``app``."""
    broker = build_broker(settings, logger=logging.getLogger("helpdesk.kafka"))
    intake: CommandIntake | None = None

    async def ticket_commands(message: KafkaMessage) -> None:
        assert intake is not None
        await intake.handle(message)

    dead_letters = declare_ticket_channels(
        broker,
        settings,
        ticket_commands,
        group_id=group_id,
        max_records=max_records,
        include_in_schema=False,
        consumer_options=consumer_options,
    )

    store = DeadLetterStore(app)

    async def publish_dead_letter(letter: DeadLetter, key: bytes | None) -> None:
        """The one dead-letter path: kept in the ticket store first (it survives a broker
        that forgets, and the batch's offsets are committed only after this returns), then
        published to the dead-letter topic."""
        await asyncio.to_thread(store.record, [letter])
        await dead_letters.publish(
            letter.model_dump_json().encode(), key=key, headers=dead_letter_headers(letter)
        )

    intake = CommandIntake(
        app,
        publish_dead_letter=publish_dead_letter,
        consumer_group=group_id,
        max_attempts=settings.intake_max_attempts,
    )
    return broker, intake


def specification_broker(settings: Settings) -> KafkaBroker:
    """A broker declaring the same FastStream channels with typed payloads, for the AsyncAPI
    document."""
    broker = build_broker(settings)

    async def ticket_commands(command: Command) -> None:
        """Never run: documents the payload of the commands channel."""

    declare_ticket_channels(broker, settings, ticket_commands, batch=False)
    return broker
