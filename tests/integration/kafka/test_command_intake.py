"""Commands published by a plain aiokafka producer → the store → events on the topic."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError

from contracts.commands import Command
from contracts.dead_letters import DeadLetter
from services.settings import Settings
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import MAX_ATTEMPTS, Outcome, handle_commands
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import TicketWorkers, run_ticket_workers
from services.ticket_service.domain.ids import ticket_id_for
from services.ticket_service.domain.ticket import Ticket
from tests.fixtures.kafka import CONSUMER_SETTINGS
from tests.integration.kafka.streams import (
    caused_by,
    command,
    encode,
    envelopes,
    produce,
    read_count,
    read_until,
)

REQUESTER = "requester@example.com"


def workers(
    app: TicketApplication, settings: Settings
) -> AbstractAsyncContextManager[TicketWorkers]:
    return run_ticket_workers(
        app,
        settings,
        group_id=f"{settings.topic_commands}-group",
        consumer_options=CONSUMER_SETTINGS,
    )


async def test_commands_become_events_in_per_ticket_order(
    app: TicketApplication, settings: Settings
) -> None:
    create_1 = command("CreateTicket", {"subject": "VPN down", "requester": REQUESTER})
    create_2 = command("CreateTicket", {"subject": "New laptop", "requester": REQUESTER})
    follow_on = [
        command(
            "UpdateTicket", {"changes": {"status": "open", "priority": "high"}}, ticket_number=1
        ),
        command("AddComment", {"body": "Looking into it", "public": True}, ticket_number=2),
        command("AddComment", {"body": "Fixed the tunnel", "public": True}, ticket_number=1),
        command("UpdateTicket", {"changes": {"status": "solved"}}, ticket_number=1),
        command("CloseTicket", {"closed_by": "integration"}, ticket_number=1),
    ]
    async with workers(app, settings):
        await produce(
            settings.kafka_bootstrap or "",
            settings.topic_commands,
            [encode(create_1), encode(create_2)],
        )
        await read_until(
            settings.kafka_bootstrap or "", settings.topic_events, caused_by(create_2["command_id"])
        )
        await produce(
            settings.kafka_bootstrap or "", settings.topic_commands, map(encode, follow_on)
        )
        records = await read_until(
            settings.kafka_bootstrap or "",
            settings.topic_events,
            caused_by(follow_on[-1]["command_id"]),
        )

    received = envelopes(records)
    for number in (1, 2):
        ticket_id = ticket_id_for(number)
        on_topic = [e for e in received if e["ticket_id"] == str(ticket_id)]
        # The topic carries exactly the stored stream, in order (a plain consumer's view).
        stored = [
            json.loads(envelope.model_dump_json())
            for envelope in (to_envelope(e) for e in app.events.get(ticket_id))
            if envelope is not None
        ]
        assert on_topic == stored
        assert [e["version"] for e in on_topic] == sorted(e["version"] for e in on_topic)
        keys = {r.key for r in records if json.loads(r.value)["ticket_id"] == str(ticket_id)}
        assert keys == {str(ticket_id).encode()}
    types_1 = [e["event_type"] for e in received if e["ticket_id"] == str(ticket_id_for(1))]
    assert types_1[0] == "TicketCreated"
    assert "CommentAdded" in types_1
    assert types_1[-1] == "TicketClosed"
    assert app.get_ticket(1).status == "closed"
    assert app.get_ticket(2).status == "new"


async def test_the_same_command_twice_has_one_effect(
    app: TicketApplication, settings: Settings
) -> None:
    create = encode(command("CreateTicket", {"subject": "Once", "requester": REQUESTER}))
    sentinel = command("CreateTicket", {"subject": "After", "requester": REQUESTER})
    bootstrap = settings.kafka_bootstrap or ""
    async with workers(app, settings) as running:
        await produce(bootstrap, settings.topic_commands, [create])
        await produce(bootstrap, settings.topic_commands, [create])  # e.g. an upstream retry
        await produce(bootstrap, settings.topic_commands, [encode(sentinel)])
        records = await read_until(
            bootstrap, settings.topic_events, caused_by(sentinel["command_id"])
        )
        assert running.intake is not None
        assert running.intake.commands == 3

    created = [e for e in envelopes(records) if e["event_type"] == "TicketCreated"]
    assert [e["data"]["subject"] for e in created] == ["Once", "After"]
    assert app.get_ticket(2).subject == "After"  # the duplicate took no ticket number


async def test_a_refused_command_is_published_as_command_rejected(
    app: TicketApplication, settings: Settings
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    create = command("CreateTicket", {"subject": "Old", "requester": REQUESTER, "status": "solved"})
    close = command("CloseTicket", {"closed_by": "integration"}, ticket_number=1)
    reply = command("AddComment", {"body": "one more thing"}, ticket_number=1)
    async with workers(app, settings):
        await produce(bootstrap, settings.topic_commands, map(encode, [create, close, reply]))
        records = await read_until(bootstrap, settings.topic_events, caused_by(reply["command_id"]))

    (rejected_record,) = [
        r for r in records if json.loads(r.value)["event_type"] == "CommandRejected"
    ]
    rejected = json.loads(rejected_record.value)
    assert rejected_record.key == str(ticket_id_for(1)).encode()
    assert rejected["ticket_id"] == str(ticket_id_for(1))
    assert rejected["data"]["command_id"] == reply["command_id"]
    assert rejected["data"]["command_type"] == "AddComment"
    assert rejected["data"]["error"] == "ticket_closed"
    assert "closed" in rejected["data"]["reason"]


async def test_poison_goes_to_the_dead_letter_topic_and_the_consumer_carries_on(
    app: TicketApplication, settings: Settings
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    garbage = b"\x00\xff not json at all"
    unknown = encode(command("LaunchRocket", {"target": "moon"}))
    invalid = encode(command("CreateTicket", {"subject": "", "requester": "not-an-email"}))
    valid = command("CreateTicket", {"subject": "Still works", "requester": REQUESTER})
    async with workers(app, settings):
        await produce(bootstrap, settings.topic_commands, [garbage, unknown, invalid])
        await produce(bootstrap, settings.topic_commands, [encode(valid)])
        await read_until(bootstrap, settings.topic_events, caused_by(valid["command_id"]))
        letters_records = await read_count(bootstrap, settings.topic_dead_letter, 3)

    letters = [DeadLetter.model_validate_json(r.value) for r in letters_records]
    assert [base64.b64decode(dl.value_b64 or "") for dl in letters] == [garbage, unknown, invalid]
    assert [dl.reason for dl in letters] == ["undecodable", "unknown_type", "invalid"]
    assert [dl.offset for dl in letters] == [0, 1, 2]
    assert all(dl.source_topic == settings.topic_commands and dl.partition == 0 for dl in letters)
    assert "LaunchRocket" in letters[1].error
    assert "subject" in letters[2].error and "requester" in letters[2].error
    assert app.get_ticket(1).subject == "Still works"


async def test_store_outage_is_retried_not_dead_lettered(
    app: TicketApplication, settings: Settings
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    calls: list[int] = []

    def store_down_twice(app: TicketApplication, commands: Sequence[Command]) -> list[Outcome]:
        calls.append(len(commands))
        if len(calls) <= 2:
            raise OperationalError("database is locked")
        return handle_commands(app, commands)

    valid = command("CreateTicket", {"subject": "Patience", "requester": REQUESTER})
    async with workers(app, settings) as running:
        assert running.intake is not None
        running.intake.apply = store_down_twice
        await produce(bootstrap, settings.topic_commands, [encode(valid)])
        records = await read_until(bootstrap, settings.topic_events, caused_by(valid["command_id"]))
        assert running.intake.dead_letters == 0

    assert len(calls) == 3  # the same batch, redelivered after each failure
    assert [e["data"]["subject"] for e in envelopes(records)] == ["Patience"]
    assert UUID(envelopes(records)[0]["ticket_id"]) == ticket_id_for(1)


async def test_a_command_that_keeps_failing_is_dead_lettered_and_the_partition_moves_on(
    app: TicketApplication, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the rules for one command (not a refusal, not a store outage): retried a
    bounded number of times, parked on the dead-letter topic with its error; the batch's other
    commands are applied once each and later commands on the partition follow."""
    bootstrap = settings.kafka_bootstrap or ""
    original = Ticket.add_comment
    boom_calls: list[str] = []

    def add_comment(self: Ticket, **kwargs: Any) -> Any:
        if kwargs["body"] == "boom":
            boom_calls.append(kwargs["body"])
            raise RuntimeError("a bug in the rules")
        return original(self, **kwargs)

    monkeypatch.setattr(Ticket, "add_comment", add_comment)
    create = command("CreateTicket", {"subject": "Before", "requester": REQUESTER})
    broken = command("AddComment", {"body": "boom", "public": True}, ticket_number=1)
    fine = command("AddComment", {"body": "fine", "public": True}, ticket_number=1)
    later = command("CreateTicket", {"subject": "After", "requester": REQUESTER})
    async with workers(app, settings) as running:
        assert running.intake is not None
        await produce(bootstrap, settings.topic_commands, map(encode, [create, broken, fine]))
        await produce(bootstrap, settings.topic_commands, [encode(later)])
        await read_until(bootstrap, settings.topic_events, caused_by(later["command_id"]))
        (letter_record,) = await read_count(bootstrap, settings.topic_dead_letter, 1)
        assert running.intake.dead_letters == 1

    letter = DeadLetter.model_validate_json(letter_record.value)
    assert letter.reason == "failed"
    assert letter.offset == 1
    assert "RuntimeError: a bug in the rules" in letter.error
    assert (
        json.loads(base64.b64decode(letter.value_b64 or ""))["command_id"] == broken["command_id"]
    )
    assert len(boom_calls) == 1 + MAX_ATTEMPTS  # the batch, then each bounded attempt alone
    ticket = app.get_ticket(1)
    assert [c["body"] for c in ticket.comments] == ["fine"]  # once, and nothing of "boom"
    assert app.get_ticket(2).subject == "After"
    assert app.receipt(f"command:{broken['command_id']}") is None  # may be re-sent once fixed
