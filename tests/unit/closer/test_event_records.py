"""Reading records of the events topic: relevant types parsed, the rest skipped cheaply."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from services.closer_worker.adapters.event_records import parse_record
from tests.unit.closer.envelopes import T0, commented, solved


def headers(event_type: str) -> list[tuple[str, bytes]]:
    return [("event_type", event_type.encode()), ("content-type", b"application/json")]


def test_relevant_event_is_parsed() -> None:
    event = solved(uuid4(), 2, 1, T0 + timedelta(days=1))
    value = event.model_dump_json().encode()
    assert parse_record(value, headers("StatusChanged")) == event
    assert parse_record(value, None) == event


def test_irrelevant_event_is_skipped_with_or_without_header() -> None:
    value = commented(uuid4(), 2).model_dump_json().encode()
    assert parse_record(value, headers("CommentAdded")) is None
    assert parse_record(value, None) is None


def test_unknown_and_unreadable_records_are_skipped_not_raised() -> None:
    assert parse_record(b'{"event_type":"SomethingNew","x":1}', None) is None
    assert parse_record(b"not json", None) is None
    assert parse_record(b'{"event_type":"StatusChanged"}', headers("StatusChanged")) is None
    assert parse_record(None, None) is None
