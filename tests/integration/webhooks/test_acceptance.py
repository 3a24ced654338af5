"""Acceptance of issue #16 over a real broker, the real ticket service and real HTTP
receivers on loopback that verify every delivery with ``standardwebhooks``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from contracts import Actor, TicketFields
from contracts.webhooks import WEBHOOK_PAYLOAD_TYPES
from services.ticket_service.application.context import RequestContext, utcnow
from services.webhooks.adapters.sqlite_store import SqliteWebhookStore
from services.webhooks.bootstrap import Webhooks
from tests.fixtures.closing import auto_close
from tests.fixtures.webhook_receiver import Receiver
from tests.integration.webhooks.conftest import ADMIN, AGENT, Stack, until


async def test_create_solve_auto_close_follow_up_arrive_once_in_version_order_with_links(
    store: SqliteWebhookStore,
    receivers: Callable[..., Receiver],
    tickets: Stack,
    dispatcher: Webhooks,
) -> None:
    receiver = receivers()
    webhook, secret = store.create_webhook(receiver.url, [], "CRM", ADMIN)
    app = tickets.app
    ticket = app.create_ticket(
        TicketFields(subject="Printer on fire", requester="req@example.com"), AGENT, channel="agent"
    )
    solved = app.update_ticket(ticket.number, {"status": "solved"}, AGENT)
    assert solved.auto_close_due_at is not None and solved.solve_id is not None
    automation = RequestContext(
        actor=Actor(role="automation", sub="closer"),
        at=max(utcnow(), solved.auto_close_due_at + timedelta(seconds=1)),
    )
    auto_close(app, ticket.id, solved.solve_id, automation)
    follow_up = app.create_follow_up(ticket.number, AGENT, body="Again!", channel="agent")

    got = await until(lambda: len(receiver.accepted()) >= 4 and receiver.accepted(), "4 hooks")
    assert all(r.verifies(secret) for r in got)
    payloads = [r.payload() for r in got]
    assert len({r.id for r in got}) == 4, "each once"
    for payload in payloads:  # each conforms to its committed JSON Schema's model
        WEBHOOK_PAYLOAD_TYPES[payload["type"]].model_validate(payload)
    of_original = [p for p in payloads if p["data"]["ticket"]["id"] == str(ticket.id)]
    [follow_payload] = [p for p in payloads if p not in of_original]
    assert [p["type"] for p in of_original] == [
        "ticket.created",
        "ticket.status_changed",
        "ticket.closed",
    ]
    assert follow_payload["type"] == "ticket.follow_up_created"
    originals = [p["data"]["ticket"] for p in of_original]
    assert [t["version"] for t in originals] == [1, 2, 3]
    assert [t["status"] for t in originals] == ["new", "solved", "closed"]
    assert all(t["follow_ups"] == [] and t["follow_up_of"] is None for t in originals)
    assert all(p["data"]["event"]["ticket_id"] == str(ticket.id) for p in of_original)
    follow = follow_payload["data"]
    assert follow["ticket"]["number"] == follow_up.number
    assert follow["ticket"]["follow_up_of"] == {"number": ticket.number, "id": str(ticket.id)}
    assert follow["original"]["number"] == ticket.number
    assert follow["original"]["follow_ups"] == [follow_up.number]

    # The original's payloads after that list the follow-up: a second follow-up shows both.
    second = app.create_follow_up(ticket.number, AGENT, body="And again", channel="agent")
    fifth = await until(lambda: len(receiver.accepted()) >= 5 and receiver.accepted()[4], "5th")
    assert fifth.payload()["data"]["original"]["follow_ups"] == [follow_up.number, second.number]
    await dispatcher.dispatcher.until_idle()
    assert len(receiver.requests()) == 5
    assert store.counts() == {"delivered": 5}
    assert webhook.id in {w.id for w in store.webhooks()}
