"""What the relay puts on the events topic for a stored event."""

from __future__ import annotations

import json

from contracts import Actor, EventAdapter, TicketFields
from services.settings import Settings
from services.ticket_service.adapters.kafka.event_records import event_record
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.bootstrap import build_application


def test_key_is_the_ticket_id_and_value_the_envelope() -> None:
    app = build_application(Settings(database_url="sqlite:///:memory:"))
    ctx = RequestContext(actor=Actor(role="agent", email="a@example.com"), correlation_id="c-1")
    ticket = app.create_ticket(
        TicketFields(subject="x", requester="r@example.com"), ctx, channel="agent"
    )
    (notification,) = app.recorder.select_notifications(start=1, limit=10)
    envelope = to_envelope(app.mapper.to_domain_event(notification))
    assert envelope is not None
    record = event_record(envelope)
    assert record.key == str(ticket.id).encode()
    parsed = EventAdapter.validate_json(record.value)
    assert parsed == envelope
    headers = dict(record.headers)
    assert headers["event_type"] == b"TicketCreated"
    assert headers["version"] == b"1"
    assert headers["correlation_id"] == b"c-1"
    assert json.loads(record.value)["ticket_number"] == ticket.number
