"""Receipts of request keys: tied to one request, expiring; delivery receipts never expire;
receipts stored before fingerprints existed still load."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.persistence import Mapper
from hypothesis import given
from hypothesis import strategies as st

from services.ticket_service.domain.receipt import Receipt
from tests.unit.domain.test_explicit_creation import _transcoder

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def _receipt(fingerprint: str | None) -> Receipt:
    return Receipt.record(
        key="k",
        outcome="accepted",
        ticket_id=uuid4(),
        ticket_number=1,
        at=AT,
        meta={},
        command_type=None,
        error=None,
        reason=None,
        fingerprint=fingerprint,
    )


@given(age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_a_request_key_expires_after_its_lifetime_and_a_delivery_key_never(
    age: timedelta,
) -> None:
    assert _receipt("f").expired(AT + age, DAY) == (age >= DAY)
    assert not _receipt(None).expired(AT + age, DAY)


def test_a_receipt_answers_its_own_request_only() -> None:
    receipt = _receipt("f")
    assert receipt.answers("f")
    assert not receipt.answers("g")
    assert not receipt.answers(None)


def test_a_renewed_receipt_stands_for_the_new_request() -> None:
    receipt = _receipt("f")
    new_ticket = uuid4()
    receipt.renew(ticket_id=new_ticket, ticket_number=9, fingerprint="g", at=AT + DAY)
    assert (receipt.ticket_id, receipt.ticket_number) == (new_ticket, 9)
    assert receipt.answers("g") and not receipt.expired(AT + DAY, DAY)
    assert receipt.version == 2


def test_a_receipt_stored_before_fingerprints_loads_without_one() -> None:
    mapper = Mapper[UUID](transcoder=_transcoder())
    (event,) = _receipt("f").collect_events()
    stored = mapper.to_stored_event(event)
    state = json.loads(stored.state)
    del state["fingerprint"]
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    receipt = mapper.to_domain_event(old).mutate(None)
    assert isinstance(receipt, Receipt)
    assert receipt.fingerprint is None and receipt.accepted
    assert not receipt.expired(AT + 10 * DAY, DAY)
