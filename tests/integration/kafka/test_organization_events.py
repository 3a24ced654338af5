"""Organizations on a real broker: their changes are events on ``helpdesk.ticket-events``
(keyed by the organization's id), and a ticket created by a Kafka command gets its
requester's organization, named in its ``TicketCreated``."""

from __future__ import annotations

import asyncio
import json

from contracts import Actor, EventAdapter
from services.settings import Settings
from services.ticket_service.application import organizations
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import run_ticket_workers
from tests.fixtures.kafka import CONSUMER_SETTINGS
from tests.integration.kafka.streams import caused_by, command, encode, produce, read_until

ADMIN = RequestContext(actor=Actor(role="admin", email="admin@helpdesk.example"))


async def test_organization_events_and_kafka_created_tickets(
    app: TicketApplication, settings: Settings
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    org = await asyncio.to_thread(
        organizations.create_organization,
        app,
        ADMIN,
        name="Kafka Co",
        members=["contractor@gmail.com"],
        domains=["kafka-co.example"],
    )
    await asyncio.to_thread(
        organizations.change_organization, app, org.id, ADMIN, name="Kafka Company"
    )
    creates = [
        command("CreateTicket", {"subject": "s", "requester": requester})
        for requester in ("dev@kafka-co.example", "contractor@gmail.com", "other@gmail.com")
    ]
    async with run_ticket_workers(
        app,
        settings,
        group_id=f"{settings.topic_commands}-group",
        consumer_options=CONSUMER_SETTINGS,
    ):
        await produce(bootstrap, settings.topic_commands, map(encode, creates))
        await read_until(bootstrap, settings.topic_events, caused_by(creates[-1]["command_id"]))
        await asyncio.to_thread(organizations.delete_organization, app, org.id, ADMIN)
        records = await read_until(
            bootstrap,
            settings.topic_events,
            lambda rs: any(json.loads(r.value)["event_type"] == "OrganizationDeleted" for r in rs),
        )

    parsed = [EventAdapter.validate_json(r.value) for r in records]
    org_events = [e for e in parsed if e.ticket_id == org.id]
    assert [e.event_type for e in org_events] == [
        "OrganizationCreated",
        "OrganizationChanged",
        "OrganizationDeleted",
    ]
    assert [e.version for e in org_events] == [1, 2, 3]
    assert {r.key for r in records if json.loads(r.value)["ticket_id"] == str(org.id)} == {
        str(org.id).encode()
    }
    created = {
        e.causation_id: e.data.organization_id  # type: ignore[union-attr]
        for e in parsed
        if e.event_type == "TicketCreated"
    }
    assert [created[c["command_id"]] for c in creates] == [org.id, org.id, None]
    # nothing internal (the directory's index) reaches the topic
    assert {e.event_type for e in parsed} <= {
        "TicketCreated",
        "OrganizationCreated",
        "OrganizationChanged",
        "OrganizationDeleted",
    }
