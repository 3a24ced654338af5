"""Command intake: batches from the commands topic → ``handle_commands`` → the store.

The consumer commits a batch's offsets only after its commands are stored (manual ack).
Commands that decode are applied together, several per store transaction, deduplicated by
``command_id``; the rules' refusals become ``CommandRejected`` events (the relay publishes
them). Poison records go to the dead-letter topic, and so does a command whose application
failed unexpectedly ``max_attempts`` times (a bug: reason ``failed``, with the error); the
batch's other commands are applied and the batch is acknowledged, so one command never blocks
its partition. A store outage or an unreachable dead-letter topic rewinds the batch and
retries it after a backoff: never skipped, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from contracts import limits
from contracts.commands import Command
from contracts.dead_letters import DeadLetter
from services.ticket_service.adapters.kafka.backoff import backoff_delay
from services.ticket_service.adapters.kafka.command_records import (
    PoisonMessage,
    RecordLike,
    dead_letter_for,
    decode_command,
)
from services.ticket_service.adapters.metrics import (
    INTAKE_COMMANDS,
    INTAKE_DEAD_LETTERS,
    outcome_label,
)
from services.ticket_service.application.collector import collector_paused
from services.ticket_service.application.messagebus import MAX_ATTEMPTS, Outcome, handle_commands
from services.ticket_service.application.tickets import TicketApplication

log = logging.getLogger(__name__)

DeadLetterPublisher = Callable[[DeadLetter, bytes | None], Awaitable[None]]


class CommandIntake:
    def __init__(
        self,
        app: TicketApplication,
        *,
        publish_dead_letter: DeadLetterPublisher,
        consumer_group: str | None,
        max_attempts: int = MAX_ATTEMPTS,
        apply: Callable[[TicketApplication, Sequence[Command]], list[Outcome]] | None = None,
    ) -> None:
        self.app = app
        self.consumer_group = consumer_group
        self._publish_dead_letter = publish_dead_letter
        self.apply = apply or partial(handle_commands, max_attempts=max_attempts)
        """Applies decoded commands to the store (replaceable: tests simulate outages)."""
        self._failures = 0
        self.batches = 0
        self.commands = 0
        self.dead_letters = 0

    async def handle(self, message: Any) -> None:
        """The FastStream handler body: ``message`` is the batch's ``KafkaAckableMessage``."""
        raw = message.raw_message
        records: tuple[RecordLike, ...] = raw if isinstance(raw, tuple) else (raw,)
        try:
            await self.process(records)
        except Exception:
            self._failures += 1
            delay = backoff_delay(self._failures)
            log.exception(
                "intake: batch of %d failed (attempt %d); rewinding, retry in %.1fs",
                len(records),
                self._failures,
                delay,
            )
            await asyncio.sleep(delay)
            await message.nack()
            return
        self._failures = 0
        try:
            await message.ack()
        except Exception:
            # Stored already: a redelivery after a failed commit is deduplicated.
            log.warning("intake: offset commit failed; the batch may be redelivered", exc_info=True)

    async def process(self, records: Sequence[RecordLike]) -> list[Outcome]:
        commands: list[Command] = []
        command_records: list[RecordLike] = []
        poison: list[tuple[RecordLike, PoisonMessage]] = []
        outcomes: list[Outcome] = []
        with collector_paused():
            for record in records:
                try:
                    commands.append(decode_command(record.value))
                    command_records.append(record)
                except PoisonMessage as refused:
                    poison.append((record, refused))
            if commands:
                outcomes = await asyncio.to_thread(self.apply, self.app, commands)
        if commands:
            self._count(commands, outcomes)
        for record, outcome in zip(command_records, outcomes, strict=True):
            if outcome.failure is not None:
                failure = outcome.failure
                poison.append(
                    (record, PoisonMessage("failed", f"{type(failure).__name__}: {failure}"))
                )
        for record, why in poison:
            log.warning(
                "intake: dead-lettering %s/%d@%d: %s",
                record.topic,
                record.partition,
                record.offset,
                why,
            )
            await self._publish_dead_letter(
                dead_letter_for(record, why, self.consumer_group),
                record.key[: limits.KEY_MAX] if record.key else record.key,
            )
            INTAKE_DEAD_LETTERS.inc()
        self.batches += 1
        self.commands += len(commands)
        self.dead_letters += len(poison)
        return outcomes

    @staticmethod
    def _count(commands: Sequence[Command], outcomes: Sequence[Outcome]) -> None:
        """One counter increment per outcome of the batch (not per command)."""
        counts: Counter[str] = Counter()
        for command, outcome in zip(commands, outcomes, strict=False):
            label = "failed" if outcome.failure else outcome_label(outcome.ok, outcome.duplicate)
            counts[label] += 1
            if label == "rejected":
                log.warning(
                    "intake: %s %s rejected: %s",
                    command.command_type,
                    command.command_id,
                    outcome.error,
                    extra={
                        "correlation_id": command.correlation_id or str(command.command_id),
                        "command_id": str(command.command_id),
                    },
                )
        for label, count in counts.items():
            INTAKE_COMMANDS.labels(outcome=label).inc(count)
