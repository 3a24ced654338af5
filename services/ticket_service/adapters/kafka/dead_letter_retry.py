"""Retrying a dead letter: its original record (key, value, headers, as consumed) goes back
to the commands topic, and the kept dead letter is marked ``retried``. A retried command
that fails again becomes a new dead letter (it has a new offset)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from uuid import UUID

from aiokafka.errors import KafkaError

from contracts.dead_letters import DeadLetter
from services.kafka_setup import make_producer
from services.operator_errors import MissingSetting
from services.settings import Settings
from services.ticket_service.adapters.dead_letter_store import DeadLetterStore, StoredDeadLetter
from services.ticket_service.application.context import utcnow

log = logging.getLogger(__name__)


class DeadLetterNotFound(LookupError):
    pass


def _bytes(b64: str | None) -> bytes | None:
    return None if b64 is None else base64.b64decode(b64)


async def republish(letter: DeadLetter, settings: Settings) -> None:
    """Send the dead letter's original record to the commands topic (acks=all)."""
    if not settings.kafka_bootstrap:
        raise MissingSetting("retrying a dead letter", "HELPDESK_KAFKA_BOOTSTRAP")
    producer = make_producer(
        settings, client_id="helpdesk-dead-letter-retry", request_timeout_ms=10_000
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic_commands,
            value=_bytes(letter.value_b64),
            key=_bytes(letter.key_b64),
            headers=[(h.key, base64.b64decode(h.value_b64)) for h in letter.headers],
        )
    finally:
        with contextlib.suppress(KafkaError, TimeoutError):
            await producer.stop()


async def retry_dead_letter(
    store: DeadLetterStore, settings: Settings, dead_letter_id: UUID, *, actor: str
) -> StoredDeadLetter:
    """Republish, then mark retried (a failed publish leaves it pending)."""
    kept = await asyncio.to_thread(store.get, dead_letter_id)
    if kept is None:
        raise DeadLetterNotFound(str(dead_letter_id))
    await republish(kept.letter, settings)
    retried = await asyncio.to_thread(store.mark_retried, dead_letter_id, utcnow())
    log.info(
        "dead letter retried",
        extra={
            "dead_letter_id": str(dead_letter_id),
            "topic": settings.topic_commands,
            "actor": actor,
        },
    )
    assert retried is not None
    return retried


def log_purge(ids: list[UUID], *, actor: str) -> None:
    """The audit line of a purge: who deleted which dead letters."""
    log.warning(
        "dead letters purged",
        extra={"dead_letter_ids": [str(i) for i in ids], "count": len(ids), "actor": actor},
    )
