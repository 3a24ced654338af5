"""The webhook store on a real PostgreSQL (compose's): subscriptions, audit, planning,
claims in order per ticket, retries and the delivery log, through the real dispatcher and a
real receiver."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.settings import Settings
from services.webhooks.adapters.postgres_store import PostgresWebhookStore
from services.webhooks.bootstrap import build_store, run_webhooks
from services.webhooks.config import WebhookConfig
from tests.fixtures.webhook_receiver import Received, Receiver
from tests.integration.webhooks.conftest import ADMIN, until


def events(ticket: str, number: int) -> list[dict[str, Any]]:
    at = datetime.now(UTC).isoformat()
    head = {"ticket_id": ticket, "ticket_number": number, "occurred_at": at, "schema_version": 1}
    created = {
        **head,
        "event_type": "TicketCreated",
        "event_id": str(uuid.uuid4()),
        "version": 1,
        "data": {
            "number": number, "subject": "s", "description": "", "status": "open",
            "requester": "r@example.com", "cc": [], "assignee": None, "division": None,
            "priority": "normal", "form": None, "tags": [], "custom_fields": {},
            "channel": "agent", "created_by": {"role": "agent", "email": "a@example.com"},
        },
    }  # fmt: skip
    changed = [
        {
            **head,
            "event_type": "StatusChanged",
            "event_id": str(uuid.uuid4()),
            "version": version,
            "data": {
                "from_status": "open",
                "to_status": status,
                "changed_by": {"role": "agent", "email": "a@example.com"},
            },
        }
        for version, status in ((2, "pending"), (3, "solved"))
    ]
    return [created, *changed]


async def test_the_postgres_store_delivers_in_order_retries_and_logs(
    postgres_database: str,
    tmp_path: Path,
    receivers: Callable[..., Receiver],
    config: WebhookConfig,
) -> None:
    def first_fails(receiver: Receiver, request: Received) -> tuple[int, dict[str, str]]:
        return (503, {}) if not receiver.requests() else (200, {})

    receiver = receivers(first_fails)
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_database,
        webhook_allow_http=True,
        webhook_allowed_hosts="127.0.0.1",
    )
    store = build_store(settings)
    assert isinstance(store, PostgresWebhookStore)
    try:
        webhook, secret = store.create_webhook(receiver.url, [], None, ADMIN)
        store.update_webhook(webhook.id, {"description": "CRM"}, ADMIN)
        ticket = str(uuid.uuid4())
        planned = events(ticket, 1)
        assert store.consume(planned) == 3
        assert store.consume(planned) == 0, "a redelivered batch plans nothing twice"
        async with run_webhooks(settings, config, consume=False) as hooks:
            hooks.dispatcher.wake()
            await until(lambda: store.counts() == {"delivered": 3}, "three deliveries")
        got = receiver.accepted()
        assert [r.payload()["data"]["ticket"]["version"] for r in got] == [1, 2, 3]
        assert all(r.verifies(secret) for r in got)
        assert receiver.requests()[0].id == got[0].id, "the retry kept its webhook-id"
        rows, _ = store.deliveries(webhook.id)
        assert [len(r.attempts) for r in rows] == [1, 1, 2]  # newest first
        assert [e["action"] for e in store.audit(webhook.id)] == ["created", "changed"]
        assert store.redeliver(webhook.id, rows[0].id, ADMIN)
        assert store.counts() == {"delivered": 2, "pending": 1}
    finally:
        store.close()
