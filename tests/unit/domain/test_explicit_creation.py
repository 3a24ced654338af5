"""``Ticket.open`` and ``Receipt.record`` create aggregates with an explicit id (cheaper on the
batched path); the stored events must be exactly those of the plain constructors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    Transcoder,
    UUIDAsHex,
)

from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _transcoder() -> Transcoder:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return transcoder


def _stored(aggregate: Aggregate) -> tuple[str, int, str, dict[str, Any]]:
    (event,) = aggregate.collect_events()
    stored = Mapper[UUID](transcoder=_transcoder()).to_stored_event(event)
    state = json.loads(stored.state)
    del state["timestamp"]  # when it was created, the only difference
    return str(stored.originator_id), stored.originator_version, stored.topic, state


def test_ticket_open_stores_the_constructor_event() -> None:
    fields = {"subject": "s", "requester": "r@example.com", "status": "new"}
    common: dict[str, Any] = {
        "number": 7,
        "channel": "agent",
        "actor": {"role": "agent", "email": "a@example.com"},
        "at": AT,
    }
    opened = Ticket.open(fields=fields, auto_close_after=lambda: AT - AT, meta={"c": "1"}, **common)
    constructed = Ticket(
        fields=fields,
        meta={"c": "1"},
        solve=None,
        follow_up_of=None,
        source_key=None,
        organization_id=None,
        original=None,
        attachments=[],
        **common,
    )
    ours, theirs = _stored(opened), _stored(constructed)
    assert ours == theirs
    assert list(ours[3]) == list(theirs[3])  # key order too


def test_receipt_record_stores_the_constructor_event() -> None:
    rejected = {"command_type": "CloseTicket", "error": "ticket_closed", "reason": "no"}
    keyed = {"command_type": None, "error": None, "reason": None, "fingerprint": "f" * 64}
    for extra in ({**keyed, "fingerprint": None}, keyed, {**rejected, "fingerprint": None}):
        common: dict[str, Any] = {
            "key": f"command:{uuid4()}",
            "outcome": "rejected" if extra["error"] else "accepted",
            "ticket_id": uuid4(),
            "ticket_number": 3,
            "at": AT,
            "meta": {"correlation_id": "x"},
            **extra,
        }
        recorded, constructed = Receipt.record(**common), Receipt(**common)
        assert recorded.id == constructed.id
        ours, theirs = _stored(recorded), _stored(constructed)
        assert ours == theirs
        assert list(ours[3]) == list(theirs[3])
