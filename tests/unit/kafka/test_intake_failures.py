"""What the intake does with a command that fails: a store outage rewinds the batch (a real
SQLite lock held by another connection), anything else is retried a bounded number of times
and dead-lettered, and the batch's other commands are stored once each."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import (
    ConnectionUnavailableError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)

from contracts.commands import CommandAdapter
from contracts.dead_letters import DeadLetter
from services.settings import Settings
from services.ticket_service.adapters.event_store import SQLITE_FILE
from services.ticket_service.adapters.kafka import intake as intake_module
from services.ticket_service.adapters.kafka.intake import CommandIntake
from services.ticket_service.adapters.metrics import INTAKE_COMMANDS
from services.ticket_service.application import messagebus as command_handling
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain.ticket import Ticket
from tests.unit.kafka.test_intake_acks import Message, Record


def command(command_type: str, data: dict[str, Any], number: int | None = None) -> bytes:
    return json.dumps(
        {
            "command_id": str(uuid4()),
            "command_type": command_type,
            "ticket_number": number,
            "issued_at": datetime.now(UTC).isoformat(),
            "actor": {"role": "integration", "sub": "crm"},
            "data": data,
        }
    ).encode()


def create(subject: str) -> bytes:
    return command("CreateTicket", {"subject": subject, "requester": "r@example.com"})


def comment(number: int, body: str) -> bytes:
    return command("AddComment", {"body": body, "public": True}, number)


def intake_on(app: TicketApplication, letters: list[DeadLetter], **options: Any) -> CommandIntake:
    async def publish(letter: DeadLetter, key: bytes | None) -> None:
        letters.append(letter)

    return CommandIntake(app, publish_dead_letter=publish, consumer_group="g", **options)


@pytest.fixture
def app(tmp_path: Path) -> Any:
    application = build_application(Settings(data_dir=tmp_path))
    yield application
    application.close()


def failing_on(body: str, monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[str]:
    """Make the rules raise ``error`` for comments with this body; returns the calls."""
    original, calls = Ticket.add_comment, []

    def add_comment(self: Ticket, **kwargs: Any) -> Any:
        if kwargs["body"] == body:
            calls.append(body)
            raise error
        return original(self, **kwargs)

    monkeypatch.setattr(Ticket, "add_comment", add_comment)
    return calls


@pytest.mark.parametrize("max_attempts", [1, 2, 5])
async def test_an_unexpected_error_is_retried_a_bounded_number_of_times_then_dead_lettered(
    app: TicketApplication, monkeypatch: pytest.MonkeyPatch, max_attempts: int
) -> None:
    calls = failing_on("boom", monkeypatch, KeyError("a bug"))
    letters: list[DeadLetter] = []
    intake = intake_on(app, letters, max_attempts=max_attempts)
    failed_before = INTAKE_COMMANDS.labels(outcome="failed")._value.get()
    batch = [create("one"), comment(1, "boom"), comment(1, "fine"), create("two")]
    message = Message(tuple(Record(value, offset) for offset, value in enumerate(batch)))

    await intake.handle(message)

    assert (message.acked, message.nacked) == (1, 0)
    assert len(calls) == 1 + max_attempts  # the batch's attempt, then each one alone
    (letter,) = letters
    assert (letter.reason, letter.offset) == ("failed", 1)
    assert letter.error == "KeyError: 'a bug'"
    assert [c["body"] for c in app.get_ticket(1).comments] == ["fine"]
    assert app.get_ticket(2).subject == "two"
    assert INTAKE_COMMANDS.labels(outcome="failed")._value.get() == failed_before + 1

    await intake.handle(message)  # a redelivery: applied commands stay applied once
    assert [c["body"] for c in app.get_ticket(1).comments] == ["fine"]
    assert app.get_ticket(2).version == 1


@pytest.mark.parametrize(
    "outage",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        ConnectionUnavailableError("timed out waiting for a connection from the pool"),
    ],
)
def test_a_store_outage_is_raised_from_the_batch_and_from_one_command(
    app: TicketApplication, monkeypatch: pytest.MonkeyPatch, outage: Exception
) -> None:
    """Raised, never an outcome: the intake rewinds the batch instead of parking it."""
    failing_on("boom", monkeypatch, outage)
    commands = [CommandAdapter.validate_json(v) for v in (create("one"), comment(1, "boom"))]
    with pytest.raises(type(outage)):
        command_handling.handle_commands(app, commands)
    command_handling.handle_commands(app, commands[:1])
    with pytest.raises(type(outage)):
        command_handling.handle_command(app, commands[1])


async def test_a_locked_store_rewinds_the_batch_until_it_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_app = build_application(Settings(data_dir=tmp_path))
    env_app.close()
    app = TicketApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / SQLITE_FILE),
            "SQLITE_LOCK_TIMEOUT": "1",
        }
    )
    letters: list[DeadLetter] = []
    intake = intake_on(app, letters)
    monkeypatch.setattr(intake_module.asyncio, "sleep", _no_wait)  # the rewind's backoff
    message = Message((Record(create("one"), 0), Record(create("two"), 1)))
    blocker = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database
        await intake.handle(message)
        assert (message.acked, message.nacked, letters) == (0, 1, [])
        blocker.execute("ROLLBACK")
        await intake.handle(message)
    finally:
        blocker.close()
    assert (message.acked, message.nacked, letters) == (1, 1, [])
    assert [app.get_ticket(n).subject for n in (1, 2)] == ["one", "two"]
    app.close()


async def _no_wait(delay: float) -> None:
    return None


async def test_a_save_that_keeps_conflicting_is_dead_lettered_not_retried_forever(
    app: TicketApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """E.g. an id collision no other writer explains: each save of that command conflicts."""
    save = app.save

    def conflicting_save(*aggregates: Any, **kwargs: Any) -> Any:
        for aggregate in aggregates:
            pending = getattr(aggregate, "_pending_events", [])
            if any(getattr(e, "body", None) == "clash" for e in pending):
                raise IntegrityError("duplicate key value violates unique constraint")
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(app, "save", conflicting_save)
    letters: list[DeadLetter] = []
    intake = intake_on(app, letters)
    batch = [create("one"), comment(1, "clash"), comment(1, "fine")]
    message = Message(tuple(Record(value, offset) for offset, value in enumerate(batch)))

    await intake.handle(message)

    assert (message.acked, message.nacked) == (1, 0)
    (letter,) = letters
    assert (letter.reason, letter.offset) == ("failed", 1)
    assert letter.error.startswith("ConcurrencyConflict")
    assert [c["body"] for c in app.get_ticket(1).comments] == ["fine"]
