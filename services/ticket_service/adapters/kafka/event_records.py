"""The Kafka record of a public event envelope: key = ticket id, value = the JSON envelope,
headers for routing without parsing the value."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.events import EventEnvelope

CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class EventRecord:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def event_record(envelope: EventEnvelope) -> EventRecord:
    ticket_id = str(envelope.ticket_id).encode()
    headers = [
        ("event_type", envelope.event_type.encode()),
        ("event_id", str(envelope.event_id).encode()),
        ("ticket_id", ticket_id),
        ("schema_version", str(envelope.schema_version).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if envelope.version is not None:  # a CommandRejected has none
        headers.insert(3, ("version", str(envelope.version).encode()))
    if envelope.correlation_id:
        headers.append(("correlation_id", envelope.correlation_id.encode()))
    return EventRecord(
        key=ticket_id,
        value=envelope.model_dump_json().encode(),
        headers=headers,
    )
