"""Properties of the audit over random histories written through the real application:

- the store reader (state decoded by the application's transcoder) gives exactly the facts
  of the public envelopes;
- the audit of the envelopes as Kafka would deliver them (JSON, spread over partitions,
  interleaved, with repeats) prints the same bytes as the audit of the store;
- appending events after T never changes an ``--as-of T`` report;
- adding follow-ups never changes the row of any other ticket.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.events import EventAdapter
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.sla.calendar import to_micros
from services.ticket_service.sla.clock import TicketRow
from services.ticket_service.sla.facts import Fact, fact_from_envelope
from services.ticket_service.sla.sources.store import (
    read_notifications,
    reference_facts,
    store_facts,
)
from tests.unit.sla.history import OPS, History, Op, apply_ops, audit_rows, new_app, report_text

ops_strategy = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 1000), st.integers(1, 3000)),
    min_size=1,
    max_size=40,
)
_FIELDS = TicketRow._fields
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


_ROOT = tempfile.TemporaryDirectory(prefix="sla-prop-")
"""Stores of the generated histories (removed when the test process ends)."""


def build(
    ops: list[Op], *, skip_follow_ups: bool = False
) -> tuple[TicketApplication, list[tuple[datetime, str]], Path]:
    tmp = Path(tempfile.mkdtemp(dir=_ROOT.name))
    h = History(new_app(tmp))
    return h.app, apply_ops(h, ops, skip_follow_ups=skip_follow_ups), tmp


def same_ids(facts: Iterable[Fact | None]) -> list[Fact | None]:
    """Facts with ticket ids in one form (the store reader keeps the store's text form)."""
    return [f._replace(ticket_id=UUID(str(f.ticket_id))) if f else None for f in facts]


def kafka_like_facts(app: TicketApplication, seed: int, partitions: int = 3) -> list[Fact | None]:
    """The log's envelopes as JSON on a keyed topic: per-ticket order kept within a
    partition, partitions interleaved at random, some stretches delivered twice."""
    rng = random.Random(seed)
    lanes: list[list[bytes]] = [[] for _ in range(partitions)]
    for n in read_notifications(app):
        envelope = to_envelope(app.mapper.to_domain_event(n))
        if envelope is None:
            continue
        lane = lanes[envelope.ticket_id.int % partitions]
        lane.append(envelope.model_dump_json().encode())
        if rng.random() < 0.2:  # a redelivery of the last few messages
            lane.extend(lane[-rng.randint(1, 3) :])
    out: list[Fact | None] = []
    while any(lanes):
        lane = rng.choice([lane for lane in lanes if lane])
        out.append(fact_from_envelope(EventAdapter.validate_json(lane.pop(0))))
    return out


@SETTINGS
@given(ops=ops_strategy, seed=st.integers(0, 2**32))
def test_store_and_kafka_audits_are_identical(ops: list[Op], seed: int) -> None:
    app, _, _ = build(ops)
    assert same_ids(store_facts(app)) == same_ids(reference_facts(app))
    for fmt in ("csv", "jsonl", "table"):
        assert report_text(store_facts(app), fmt=fmt, repeats=False) == report_text(
            kafka_like_facts(app, seed), fmt=fmt, repeats=True
        )


@SETTINGS
@given(ops=ops_strategy, more=ops_strategy, cut=st.integers(0, 10**6))
def test_events_after_the_instant_never_change_the_report(
    ops: list[Op], more: list[Op], cut: int
) -> None:
    """History B is history A plus more events (all later than A's). For any instant T up
    to A's last event, the ``--as-of T`` reports of A and B are the same bytes."""
    before, applied, _ = build(ops)
    after, applied_all, _ = build(ops + more)
    assert applied_all[: len(applied)] == applied
    for t in {applied[cut % len(applied)][0], applied[-1][0]}:
        as_of = to_micros(t)
        for fmt in ("csv", "jsonl"):
            assert report_text(
                store_facts(after), as_of=as_of, fmt=fmt, repeats=False
            ) == report_text(store_facts(before), as_of=as_of, fmt=fmt, repeats=False)


@SETTINGS
@given(ops=ops_strategy)
def test_follow_ups_never_change_the_rows_of_other_tickets(ops: list[Op]) -> None:
    """The same history with and without its follow-up requests: every ticket that is not
    a follow-up has the same figures (numbers aside: follow-ups take numbers too)."""
    with_fu, applied, _ = build(ops)
    if not any(op == "follow_up" for _, op in applied):
        return
    without, _, _ = build(ops, skip_follow_ups=True)
    as_of = max(t for t, _ in applied)
    a = [r for r in audit_rows(store_facts(with_fu), as_of=as_of).values() if not r.follow_up_of]
    b = list(audit_rows(store_facts(without), as_of=as_of).values())

    def strip(row: TicketRow) -> tuple[object, ...]:
        return tuple(getattr(row, name) for name in _FIELDS if name not in ("number", "ticket_id"))

    assert [strip(r) for r in a] == [strip(r) for r in b]
