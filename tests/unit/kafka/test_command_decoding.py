"""Commands topic records → commands, or a dead letter saying why not."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts import limits
from contracts.commands import CreateTicket
from services.ticket_service.adapters.kafka import command_records
from services.ticket_service.adapters.kafka.command_records import (
    PoisonMessage,
    dead_letter_for,
    dead_letter_headers,
    decode_command,
)


@dataclass
class Record:
    value: bytes | None
    topic: str = "helpdesk.ticket-commands"
    partition: int = 0
    offset: int = 7
    timestamp: int = 1_700_000_000_000
    key: bytes | None = b"k"
    headers: list[tuple[str, bytes]] = field(default_factory=lambda: [("h", b"\xff\x00")])


def create_ticket_json(**overrides: object) -> dict[str, object]:
    command: dict[str, object] = {
        "command_id": str(uuid4()),
        "command_type": "CreateTicket",
        "issued_at": datetime.now(UTC).isoformat(),
        "actor": {"role": "integration"},
        "data": {"subject": "Printer on fire", "requester": "r@example.com"},
    }
    command.update(overrides)
    return command


def test_a_valid_command_decodes() -> None:
    raw = create_ticket_json()
    command = decode_command(json.dumps(raw).encode())
    assert isinstance(command, CreateTicket)
    assert str(command.command_id) == raw["command_id"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\xff\xfe garbage", "undecodable"),
        (b"{not json", "undecodable"),
        (None, "undecodable"),
        (b"[1, 2]", "invalid"),
        (json.dumps({"command_type": "LaunchRocket"}).encode(), "unknown_type"),
        (json.dumps({"hello": "world"}).encode(), "unknown_type"),
        (json.dumps(create_ticket_json(data={"subject": ""})).encode(), "invalid"),
        (json.dumps(create_ticket_json(command_id="not-a-uuid")).encode(), "invalid"),
    ],
)
def test_poison_is_classified(value: bytes | None, reason: str) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_command(value)
    assert caught.value.reason == reason
    assert caught.value.error


def test_schema_errors_name_the_fields() -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_command(json.dumps(create_ticket_json(data={"subject": "x"})).encode())
    assert "requester" in caught.value.error


def test_a_dead_letter_keeps_the_original_record_whole() -> None:
    record = Record(value=b"\xff\xfe garbage")
    with pytest.raises(PoisonMessage) as caught:
        decode_command(record.value)
    letter = dead_letter_for(record, caught.value, "group-1")
    assert base64.b64decode(letter.value_b64 or "") == record.value
    assert base64.b64decode(letter.key_b64 or "") == b"k"
    assert [(h.key, base64.b64decode(h.value_b64)) for h in letter.headers] == record.headers
    assert (letter.source_topic, letter.partition, letter.offset) == (record.topic, 0, 7)
    assert letter.reason == "undecodable"
    assert letter.consumer_group == "group-1"
    assert dead_letter_for(record, caught.value, "g").dead_letter_id == letter.dead_letter_id
    assert dead_letter_headers(letter)["dlq_reason"] == "undecodable"


EDGE_VALUES = [
    json.dumps(create_ticket_json()).encode(),
    b"\xef\xbb\xbf" + json.dumps(create_ticket_json()).encode(),
    json.dumps(create_ticket_json()).encode("utf-16"),
    json.dumps(create_ticket_json()).encode() + b" x",
    json.dumps(create_ticket_json(data={"subject": "a\tb", "requester": "r@example.com"}))
    .replace("\\t", "\t")
    .encode(),
    json.dumps(create_ticket_json(schema_version="1")).encode(),
    json.dumps(create_ticket_json(ticket_number=1.5)).encode(),
    json.dumps(
        create_ticket_json(
            data={"subject": "s", "requester": "r@example.com", "custom_fields": {"n": 1e300}}
        )
    ).encode(),
    b'{"command_type": "CreateTicket", "command_type": "LaunchRocket"}',
    b"[1, 2]",
    b"{not json",
    b"\xff\xfe garbage",
]


@pytest.mark.parametrize("value", EDGE_VALUES)
def test_one_step_decoding_agrees_with_step_by_step(value: bytes) -> None:
    """Whatever the one-step parse does, the outcome is the step-by-step one."""

    def outcome(decode: object) -> object:
        assert callable(decode)
        try:
            return decode(value).model_dump()
        except PoisonMessage as poison:
            return (poison.reason, poison.error)

    assert outcome(decode_command) == outcome(command_records._decode_step_by_step)


def test_a_valid_command_is_decoded_in_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(value: bytes) -> None:
        raise AssertionError("a valid command should not need the step-by-step path")

    monkeypatch.setattr(command_records, "_decode_step_by_step", refuse)
    assert isinstance(decode_command(json.dumps(create_ticket_json()).encode()), CreateTicket)


def test_a_bom_prefixed_command_still_decodes() -> None:
    raw = create_ticket_json()
    command = decode_command(b"\xef\xbb\xbf" + json.dumps(raw).encode())
    assert str(command.command_id) == raw["command_id"]


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"ticket_number": "1"}, "ticket_number"),
        ({"ticket_number": True}, "ticket_number"),
        ({"data": {"body": "x", "public": 0, "channel": "agent"}}, "public"),
        ({"data": {"body": "x", "public": "true", "channel": "agent"}}, "public"),
        (
            {"data": {"body": "x", "follow_up_if_closed": 1, "channel": "agent"}},
            "follow_up_if_closed",
        ),
    ],
)
def test_commands_are_typed_strictly(overrides: dict[str, object], where: str) -> None:
    """What lax validation would coerce is poison, with the field named."""
    comment = {"command_type": "AddComment", "ticket_number": 1}
    raw = create_ticket_json(**{**comment, "data": {"body": "x", "channel": "agent"}, **overrides})
    with pytest.raises(PoisonMessage) as refused:
        decode_command(json.dumps(raw).encode())
    assert refused.value.reason == "invalid"
    assert where in refused.value.error


def test_strictness_keeps_the_json_forms_of_ids_times_and_enums() -> None:
    raw = create_ticket_json(
        data={"subject": "s", "requester": "r@example.com", "status": "open", "priority": "high"}
    )
    command = decode_command(b"\xef\xbb\xbf" + json.dumps(raw).encode())  # a BOM, too
    assert isinstance(command, CreateTicket)
    assert command.data.status == "open" and command.data.priority == "high"


def test_the_dead_letter_of_the_largest_record_fits_a_default_kafka_record() -> None:
    """A poison record as large as the broker takes (value, key and headers) makes a dead
    letter that the broker takes too: otherwise its publication fails, the batch is
    rewound and the intake stalls on it (issue #12, item 6)."""
    record = Record(
        value=b"{" + b"x" * (1_048_576 - 1),
        key=b"k" * 10_000,
        headers=[(f"h{i}", b"v" * 1_000) for i in range(300)],
    )
    with pytest.raises(PoisonMessage) as caught:
        decode_command(record.value)
    letter = dead_letter_for(record, caught.value, "group-1")
    published = letter.model_dump_json().encode()
    headers = sum(len(k) + len(v) for k, v in dead_letter_headers(letter).items())
    assert len(published) + headers + limits.KEY_MAX < 1_000_000
    assert letter.truncated is True
    assert letter.value_size == len(record.value or b"")
    kept = base64.b64decode(letter.value_b64 or "")
    assert kept == (record.value or b"")[: len(kept)] and len(kept) > 500_000
    small = dead_letter_for(Record(value=b"\xff"), caught.value, None)
    assert small.truncated is False
