"""Issue #20: a ticket's creation event names the mail that opened it (``original``);
tickets stored before that field existed still load, as opened by no stored mail."""

from __future__ import annotations

import json
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from contracts import events as ev
from contracts.common import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain.ids import ticket_id_for

AGENT = RequestContext(actor=Actor(role="agent", email="agent@helpdesk.example"))


def test_a_creation_event_stored_before_originals_loads_without_one(tmp_path: Path) -> None:
    app = build_application(Settings(data_dir=tmp_path))
    try:
        number = app.create_ticket(
            TicketFields(subject="s", requester="a@example.com"), AGENT, channel="agent"
        ).number
        (stored,) = app.recorder.select_events(ticket_id_for(number))
        state = json.loads(stored.state)
        assert "original" in state and state.pop("original") is None
        assert state.pop("attachments") == []
        old = StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=json.dumps(state).encode(),
        )
        domain_event = app.mapper.to_domain_event(old)
        ticket = domain_event.mutate(None)  # type: ignore[attr-defined]
        assert ticket.original is None and list(ticket.attachments) == []
        envelope = to_envelope(domain_event)
        assert isinstance(envelope, ev.TicketCreated)
        assert envelope.data.original is None and envelope.data.attachments == []
    finally:
        app.close()
