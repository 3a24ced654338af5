"""A ticket with 150+ events (loaded from a snapshot plus its tail) through the Kafka
intake, real broker: status changes, solving, a requester's reply, the closer's
``CloseTicket`` and follow-ups are applied, none rejected, none retried forever."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.settings import Settings
from services.ticket_service.application.tickets import SNAPSHOT_INTERVAL, TicketApplication
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain.ids import ticket_id_for
from tests.integration.kafka.conftest import kafka_settings
from tests.integration.kafka.streams import caused_by, command, encode, envelopes, produce
from tests.integration.kafka.streams import read_until as read_events_until
from tests.integration.kafka.test_command_intake import REQUESTER, workers

COMMENTS = 150
AUTOMATION = {"role": "automation", "sub": "closer"}


@pytest.fixture
def quick_settings(kafka_bootstrap: str, kafka_topic_prefix: str, tmp_path: Path) -> Settings:
    """A solve is due at once, so the closer's command applies as soon as it arrives."""
    settings = kafka_settings(kafka_bootstrap, kafka_topic_prefix, tmp_path)
    return settings.model_copy(update={"auto_close_after": timedelta(milliseconds=1)})


@pytest.fixture
def quick_app(quick_settings: Settings) -> Iterator[TicketApplication]:
    application = build_application(quick_settings)
    yield application
    application.close()


async def test_a_long_ticket_is_solved_auto_closed_and_followed_up_over_kafka(
    quick_app: TicketApplication, quick_settings: Settings
) -> None:
    settings, app = quick_settings, quick_app
    bootstrap, events = settings.kafka_bootstrap or "", settings.topic_events
    create = command("CreateTicket", {"subject": "Long", "requester": REQUESTER})
    comments = [
        command("AddComment", {"body": f"note {n}", "public": False}, ticket_number=1)
        for n in range(COMMENTS)
    ]
    requester = {"role": "requester", "email": REQUESTER}
    lifecycle = [
        command("UpdateTicket", {"changes": {"status": "pending"}}, ticket_number=1),
        command("AddComment", {"body": "still broken"}, ticket_number=1, actor=requester),
        command("UpdateTicket", {"changes": {"status": "solved"}}, ticket_number=1),
    ]
    async with workers(app, settings) as running:
        assert running.intake is not None
        await produce(bootstrap, settings.topic_commands, map(encode, [create, *comments]))
        await read_events_until(bootstrap, events, caused_by(comments[-1]["command_id"]))
        assert app.snapshots is not None
        snapshots = list(app.snapshots.get(ticket_id_for(1)))
        assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL]

        await produce(bootstrap, settings.topic_commands, map(encode, lifecycle))
        records = await read_events_until(bootstrap, events, caused_by(lifecycle[-1]["command_id"]))
        (solved,) = [
            e
            for e in envelopes(records)
            if e["event_type"] == "StatusChanged" and e["data"]["to_status"] == "solved"
        ]
        close = command(  # what the closer sends when the solve's timer is due
            "CloseTicket",
            {"closed_by": "automation", "solve_id": solved["data"]["solve_id"]},
            ticket_id=solved["ticket_id"],
            actor=AUTOMATION,
        )
        follow_ups = [
            command("CreateFollowUp", {"body": "again"}, ticket_number=1),
            command(
                "FollowUpRequested",
                {"body": "by mail", "message_id": "<m-1@example.com>", "sender": REQUESTER},
                ticket_number=1,
                actor={"role": "requester", "email": REQUESTER},  # as email ingest sends it
            ),
        ]
        await produce(bootstrap, settings.topic_commands, map(encode, [close, *follow_ups]))
        records = await read_events_until(
            bootstrap, events, caused_by(follow_ups[-1]["command_id"])
        )
        assert running.intake.dead_letters == 0

    published = envelopes(records)
    assert not [e["data"] for e in published if e["event_type"] == "CommandRejected"]
    mine = [e for e in published if e["ticket_id"] == str(ticket_id_for(1))]
    assert [e["data"]["to_status"] for e in mine if e["event_type"] == "StatusChanged"] == [
        "pending",
        "open",
        "solved",
    ]
    assert mine[-1]["event_type"] == "TicketClosed"
    assert mine[-1]["data"]["closed_by"] == "automation"
    assert mine[-1]["version"] == 1 + COMMENTS + 5
    assert app.get_ticket(1).status == "closed"
    follow_up_events = [e for e in published if e["event_type"] == "FollowUpCreated"]
    assert [e["data"]["follow_up_of"]["number"] for e in follow_up_events] == [1, 1]
    assert {app.get_ticket(n).status for n in (2, 3)} == {"new"}
    assert json.loads(records[-1].value)["causation_id"] == follow_ups[-1]["command_id"]
