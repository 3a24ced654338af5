"""The analytics consumer example in docs/events.md runs and counts each event once."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from contracts.commands import CommandAdapter
from contracts.common import Actor
from services.settings import Settings
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import handle_commands
from services.ticket_service.bootstrap import build_application

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def example_namespace() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    (example,) = [b for b in blocks if "class ClosedTicketStats" in b]
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(example, str(DOC), "exec"), namespace)
    return namespace


def event(ticket: str, version: int, event_type: str, **data: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket,
        "version": version,
        "event_type": event_type,
        "occurred_at": "2026-11-27T10:00:00Z",
        "data": data,
    }


def test_duplicates_from_a_republished_span_are_counted_once() -> None:
    stats = example_namespace()["ClosedTicketStats"]()
    stream = [
        event("a", 1, "TicketCreated"),
        event("b", 1, "TicketCreated"),
        event("a", 2, "TicketClosed", closed_by="automation"),
        # the relay crashed before recording: the span is published again
        event("b", 1, "TicketCreated"),
        event("a", 2, "TicketClosed", closed_by="automation"),
        event("b", 2, "TicketClosed", closed_by="integration"),
    ]
    applied = [stats.apply(e) for e in stream]
    assert applied == [True, True, True, False, False, True]
    assert stats.closed_per_day == {"2026-11-27": 2}
    assert stats.closed_by_automation == 1


def test_the_documented_rule_keeps_every_rejection_and_every_created_event() -> None:
    """Envelopes as the relay publishes them, a span republished: the docs' consumer applies
    each exactly once, rejections included (they once collided with TicketCreated)."""
    app = build_application(Settings(database_url="sqlite:///:memory:"))
    integration = Actor(role="integration", sub="crm")

    def command(command_type: str, data: dict[str, Any], number: int | None = None) -> Any:
        return CommandAdapter.validate_python(
            {
                "command_id": str(uuid4()),
                "command_type": command_type,
                "ticket_number": number,
                "issued_at": datetime.now(UTC).isoformat(),
                "actor": integration.model_dump(exclude_none=True),
                "data": data,
            }
        )

    created = [
        command("CreateTicket", {"subject": f"T{n}", "requester": "r@example.com"}) for n in (1, 2)
    ]
    handle_commands(app, created)
    handle_commands(app, [command("CloseTicket", {"closed_by": "integration"}, 1)])
    refused = [
        command("AddComment", {"body": "late"}, 1),  # closed: ticket_closed
        command("UpdateTicket", {"changes": {"status": "open"}, "expected_version": 9}, 2),
        command("AddComment", {"body": "first"}, 1),
        command("AddComment", {"body": "nobody"}, 9),  # no such ticket
    ]
    handle_commands(app, refused)
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    published = [
        json.loads(envelope.model_dump_json())
        for envelope in (to_envelope(app.mapper.to_domain_event(n)) for n in notifications)
        if envelope is not None
    ]
    stats = example_namespace()["ClosedTicketStats"]()
    stream = published + published[2:]  # the relay crashed: a span is published again
    applied = [e["event_id"] for e in stream if stats.apply(e)]
    assert applied == [e["event_id"] for e in published]  # each once, nothing dropped
    assert stats.rejected == len(refused)
    rejections = [e for e in published if e["event_type"] == "CommandRejected"]
    assert len(rejections) == len(refused)
    assert {e["version"] for e in rejections} == {None}
    assert sum(e["event_type"] == "TicketCreated" for e in published) == 2
    assert len({e["event_id"] for e in published}) == len(published)
