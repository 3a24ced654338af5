"""The intake acknowledges a batch only after the store save; failures rewind it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

from eventsourcing.persistence import OperationalError

from contracts.commands import Command
from contracts.dead_letters import DeadLetter
from services.settings import Settings
from services.ticket_service.adapters.kafka.intake import CommandIntake
from services.ticket_service.application.messagebus import Outcome, handle_commands
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application


@dataclass
class Record:
    value: bytes | None
    offset: int
    topic: str = "commands"
    partition: int = 0
    timestamp: int = 0
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Message:
    raw_message: tuple[Record, ...]
    acked: int = 0
    nacked: int = 0

    async def ack(self) -> None:
        self.acked += 1

    async def nack(self) -> None:
        self.nacked += 1


def create(subject: str) -> bytes:
    return json.dumps(
        {
            "command_id": str(uuid4()),
            "command_type": "CreateTicket",
            "issued_at": datetime.now(UTC).isoformat(),
            "actor": {"role": "integration"},
            "data": {"subject": subject, "requester": "r@example.com"},
        }
    ).encode()


async def test_stored_then_acked_poison_dead_lettered_store_failure_rewound() -> None:
    app = build_application(Settings(database_url="sqlite:///:memory:"))
    letters: list[DeadLetter] = []
    store_up = False

    def apply(app: TicketApplication, commands: Sequence[Command]) -> list[Outcome]:
        if not store_up:
            raise OperationalError("unable to open database file")
        return handle_commands(app, commands)

    async def publish(letter: DeadLetter, key: bytes | None) -> None:
        letters.append(letter)

    intake = CommandIntake(app, publish_dead_letter=publish, consumer_group="g", apply=apply)
    message = Message((Record(create("one"), 0), Record(b"junk", 1), Record(create("two"), 2)))

    await intake.handle(message)
    assert (message.acked, message.nacked, letters) == (0, 1, [])

    store_up = True
    await intake.handle(message)  # the redelivered batch
    assert (message.acked, message.nacked) == (1, 1)
    assert [letter.offset for letter in letters] == [1]
    assert [app.get_ticket(n).subject for n in (1, 2)] == ["one", "two"]
    app.close()  # the in-memory store is shared while a connection stays open
