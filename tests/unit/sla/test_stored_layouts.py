"""The store reader reads stored events by field name through the application's own
transcoder, so it gives the envelope mapping's facts whatever the stored JSON's layout:
keys in another order, or a field stored ahead of the known ones that holds look-alikes of
them (what an earlier reader, which searched the stored bytes for patterns tied to the
argument order of the ``Ticket`` events, misread).

Each history is written through the real application; its stored events are then copied
into a second store re-encoded by the same transcoder with another layout.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from services.ticket_service.adapters.event_store import sqlite_env
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain.ticket import Ticket
from services.ticket_service.sla.sources.store import (
    narrow_reader_applies,
    read_notifications,
    reference_facts,
)
from services.ticket_service.sla.sources.store import store_facts as read_store
from services.ticket_service.sla.sources.ticket_state import StateReader
from tests.unit.sla.history import (
    INTEGRATION,
    MONDAY,
    REQUESTER,
    History,
    new_app,
    report_text,
)
from tests.unit.sla.test_hand_computed import at
from tests.unit.sla.test_properties import same_ids

LOOK_ALIKES: dict[str, Any] = {
    "number": 999,
    "fields": {"status": "solved", "priority": "urgent"},
    "status": "solved",
    "priority": "urgent",
    "to_status": "solved",
    "public": True,
    "actor": {"role": "agent", "email": "imitator@example.com"},
    "at": datetime(1999, 1, 1, tzinfo=UTC),
    "follow_up_of": {"number": 1, "id": "imitation"},
}
"""Values under the names the SLA reads, but not where the event keeps them."""
IMITATION = '"to_status":"solved","public":true,"actor":{"role":"agent"}'
"""Text shaped like the store's own encoding, in user-supplied values."""

Layout = Callable[[dict[str, Any]], dict[str, Any]]


def reversed_keys(state: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep(reversed_keys, v) for k, v in reversed(state.items())}


def sorted_keys(state: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep(sorted_keys, state[k]) for k in sorted(state)}


def leading_look_alikes(state: dict[str, Any]) -> dict[str, Any]:
    """A field stored first (as a field added to a base event class would be) whose
    value holds every name the reader looks for."""
    return {"context": LOOK_ALIKES, **state}


def _deep(layout: Layout, value: Any) -> Any:
    if isinstance(value, dict):
        return layout(value)
    if isinstance(value, list):
        return [_deep(layout, item) for item in value]
    return value


def history(tmp: Path) -> TicketApplication:
    h = History(new_app(tmp))
    imitating = {"status": "solved", "priority": "low", "at": IMITATION, "number": 7}
    t = h.create(at(0), priority="high", custom_fields=imitating, description=IMITATION)
    h.app.add_comment(  # a requester's words shaped like an agent's public reply
        t, h.ctx(REQUESTER, at(0, 10)), body=IMITATION, public=True, channel="email"
    )
    h.reply(t, at(1), public=False)
    h.reply(t, at(1, 30))
    h.status(t, "pending", at(1, 31))
    h.requester_reply(t, at(3))
    h.priority(t, "urgent", at(4))
    h.status(t, "solved", at(5))
    h.close_by_integration(t, at(6))
    f = h.follow_up(t, at(7))
    h.priority(f, "low", at(7, 30), actor=INTEGRATION)
    h.status(f, "on_hold", at(8))
    h.create(MONDAY, status="open", custom_fields={"to_status": "closed"})
    return h.app


def copy_with_layout(source: TicketApplication, tmp: Path, layout: Layout) -> TicketApplication:
    transcoder = source.mapper.transcoder
    copied = [
        StoredEvent(
            originator_id=n.originator_id,
            originator_version=n.originator_version,
            topic=n.topic,
            state=transcoder.encode(layout(transcoder.decode(n.state))),
        )
        for n in read_notifications(source)
    ]
    target = new_app(tmp)
    target.recorder.insert_events(copied)
    return target


@pytest.mark.parametrize(
    "layout", [reversed_keys, sorted_keys, leading_look_alikes], ids=lambda f: f.__name__
)
def test_any_stored_layout_gives_the_envelope_facts(tmp_path: Path, layout: Layout) -> None:
    original = history(tmp_path / "original")
    copy = copy_with_layout(original, tmp_path / "copy", layout)
    expected = same_ids(reference_facts(original))
    assert same_ids(reference_facts(copy)) == expected  # the layout changes no event
    assert same_ids(read_store(copy)) == expected
    for fmt in ("csv", "jsonl"):
        assert report_text(read_store(copy), fmt=fmt, repeats=False) == report_text(
            read_store(original), fmt=fmt, repeats=False
        )


def test_a_compressed_store_gives_the_envelope_facts(tmp_path: Path) -> None:
    """The state goes through the mapper's own compressor before its transcoder (the old
    reader could only replay plain-JSON stores fast, and those in one process)."""
    env = {
        **sqlite_env(str(tmp_path / "zlib.sqlite3")),
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    }
    plain = history(tmp_path / "plain")
    zipped = TicketApplication(env=env, default_auto_close_after=timedelta(days=7))
    assert zipped.mapper.compressor is not None
    zipped.recorder.insert_events(
        [
            StoredEvent(
                originator_id=n.originator_id,
                originator_version=n.originator_version,
                topic=n.topic,
                state=zipped.mapper.compressor.compress(n.state),
            )
            for n in read_notifications(plain)
        ]
    )
    expected = same_ids(reference_facts(plain))
    assert same_ids(reference_facts(zipped)) == expected
    assert same_ids(read_store(zipped)) == expected
    assert narrow_reader_applies(zipped)  # so `sla audit` splits it over workers too


def test_events_that_need_upcasting_go_through_the_envelope_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ticket event class at ``class_version`` 2 is upcast by the mapper on the way in;
    the state reader would see the stored (version 1) state, so it leaves the topic to the
    envelope mapping, which upcasts."""
    app = history(tmp_path)
    expected = same_ids(reference_facts(app))

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["to_status"] = {"on_hold": "pending"}.get(state["to_status"], state["to_status"])

    status_changed = Ticket.StatusChanged  # type: ignore[attr-defined]
    monkeypatch.setattr(status_changed, "class_version", 2, raising=False)
    monkeypatch.setattr(status_changed, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)
    assert get_topic(status_changed) not in StateReader(app.mapper).readers
    upcast = same_ids(read_store(app))
    assert upcast == same_ids(reference_facts(app))
    assert upcast != expected  # the upcast took effect: on_hold reads as pending
