"""The trust boundary of the commands topic (docs/security.md): a producer that claims the
automation outside the closer's timer close is refused, through the real broker, as a
``CommandRejected`` event; the closer's own command still closes."""

from __future__ import annotations

import json

from services.settings import Settings
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain.ids import ticket_id_for
from tests.integration.kafka.streams import caused_by, command, encode, produce, read_until
from tests.integration.kafka.test_command_intake import REQUESTER, workers

AUTOMATION = {"role": "automation"}


async def test_a_command_claiming_the_automation_is_rejected(
    app: TicketApplication, settings: Settings
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    create = command("CreateTicket", {"subject": "Mine", "requester": REQUESTER})
    forged = [
        command(
            "UpdateTicket", {"changes": {"priority": "urgent"}}, ticket_number=1, actor=AUTOMATION
        ),
        command("AddComment", {"body": "from the system?"}, ticket_number=1, actor=AUTOMATION),
        command("CloseTicket", {"closed_by": "integration"}, ticket_number=1, actor=AUTOMATION),
    ]
    async with workers(app, settings):
        await produce(bootstrap, settings.topic_commands, map(encode, [create, *forged]))
        records = await read_until(
            bootstrap, settings.topic_events, caused_by(forged[-1]["command_id"])
        )

    caused = {
        e["causation_id"]: e for e in (json.loads(r.value) for r in records) if e["causation_id"]
    }
    for sent in forged:
        rejected = caused[sent["command_id"]]
        assert rejected["event_type"] == "CommandRejected"
        assert rejected["ticket_id"] == str(ticket_id_for(1))
        assert rejected["data"]["error"] == "not_permitted"
        assert "automation" in rejected["data"]["reason"]
    ticket = app.get_ticket(1)
    assert (ticket.version, ticket.status, ticket.priority) == (1, "new", "normal")


async def test_the_closers_command_passes_the_claim_check(
    app: TicketApplication, settings: Settings
) -> None:
    """The timer close claiming the automation reaches the lifecycle rules (here: not due
    yet, a week from now); the real closes are in tests/integration/closer."""
    bootstrap = settings.kafka_bootstrap or ""
    create = command(
        "CreateTicket", {"subject": "Done", "requester": REQUESTER, "status": "solved"}
    )
    close = command(
        "CloseTicket", {"closed_by": "automation", "solve_id": 1}, ticket_number=1, actor=AUTOMATION
    )
    async with workers(app, settings):
        await produce(bootstrap, settings.topic_commands, map(encode, [create, close]))
        records = await read_until(bootstrap, settings.topic_events, caused_by(close["command_id"]))
    [answer] = [
        e
        for e in map(json.loads, (r.value for r in records))
        if e["causation_id"] == close["command_id"]
    ]
    assert (answer["event_type"], answer["data"]["error"]) == ("CommandRejected", "stale_close")
