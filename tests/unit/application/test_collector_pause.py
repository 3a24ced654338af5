"""A batch of commands runs with the cyclic garbage collector paused, and resumes it."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts import commands as cmd
from contracts.common import Actor
from contracts.dead_letters import DeadLetter
from services.settings import Settings
from services.ticket_service.adapters.kafka.intake import CommandIntake
from services.ticket_service.application.collector import collector_paused
from services.ticket_service.application.messagebus import Outcome, handle_commands
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application
from tests.unit.kafka.test_intake_acks import Message, Record


@pytest.fixture
def app() -> Iterator[TicketApplication]:
    app = build_application(Settings(database_url="sqlite:///:memory:"))
    yield app
    app.close()


def create() -> cmd.CreateTicket:
    return cmd.CreateTicket(
        command_id=uuid4(),
        issued_at=datetime.now(UTC),
        actor=Actor(role="integration", sub="test"),
        data={"subject": "s", "requester": "r@example.com"},
    )


def test_paused_inside_resumed_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_left_paused_when_it_was_paused_before() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_resumed_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_batch_runs_paused(app: TicketApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    transaction = app.transaction

    def spy(ops: Sequence[object], **kwargs: object) -> list[object]:
        seen.append(gc.isenabled())
        return transaction(ops, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "transaction", spy)
    outcomes = handle_commands(app, [create(), create()])
    assert [o.ok for o in outcomes] == [True, True]
    assert seen == [False]
    assert gc.isenabled()


async def test_the_intake_decodes_and_applies_paused(app: TicketApplication) -> None:
    seen: list[bool] = []

    def apply(app: TicketApplication, commands: Sequence[cmd.Command]) -> list[Outcome]:
        seen.append(gc.isenabled())
        return handle_commands(app, commands)

    async def publish(letter: DeadLetter, key: bytes | None) -> None:
        pass

    intake = CommandIntake(app, publish_dead_letter=publish, consumer_group="g", apply=apply)
    value = json.dumps(create().model_dump(mode="json")).encode()
    message = Message((Record(value, 0),))
    await intake.handle(message)
    assert message.acked == 1
    assert seen == [False]
    assert gc.isenabled()
