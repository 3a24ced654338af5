"""Kafka records on the commands topic → contract commands, or the reason they are poison."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import NAMESPACE_URL, uuid5

from pydantic import ValidationError

from contracts import limits
from contracts.commands import COMMAND_TYPES, Command, CommandAdapter
from contracts.dead_letters import DeadLetter, DeadLetterHeader, DeadLetterReason
from services.ticket_service.application.context import utcnow

KNOWN_COMMAND_TYPES = frozenset(
    model.model_fields["command_type"].default for model in COMMAND_TYPES
)


class RecordLike(Protocol):
    """The parts of an aiokafka ``ConsumerRecord`` used here."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class PoisonMessage(Exception):
    def __init__(self, reason: DeadLetterReason, error: str) -> None:
        super().__init__(f"{reason}: {error}")
        self.reason = reason
        self.error = error


def decode_command(value: bytes | None) -> Command:
    """Parse and validate one command; raise :class:`PoisonMessage` saying why not.

    A well-formed command is parsed and validated from the bytes in one step; anything
    that step refuses is examined again step by step, which tells why (and accepts what
    ``json.loads`` accepts and the one-step parser does not, e.g. a UTF-8 BOM).

    Validation is strict, as on the HTTP API: every value has the JSON type the published
    schema names (``"7"`` is no integer, ``0`` no boolean); ids, times and enums are
    JSON strings, as the schema says."""
    if value is None:
        raise PoisonMessage("undecodable", "empty record value (tombstone)")
    try:
        return CommandAdapter.validate_json(value, strict=True)
    except ValidationError:
        return _decode_step_by_step(value)


def _decode_step_by_step(value: bytes) -> Command:
    try:
        raw: Any = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PoisonMessage("undecodable", f"not UTF-8 JSON: {error}") from None
    if not isinstance(raw, dict):
        raise PoisonMessage("invalid", f"a command is a JSON object, not {type(raw).__name__}")
    command_type = raw.get("command_type")
    if command_type not in KNOWN_COMMAND_TYPES:
        raise PoisonMessage(
            "unknown_type",
            f"unknown command_type {command_type!r}; "
            f"known: {', '.join(sorted(KNOWN_COMMAND_TYPES))}",
        )
    try:
        return CommandAdapter.validate_json(json.dumps(raw), strict=True)
    except ValidationError as error:
        raise PoisonMessage("invalid", _describe(error)) from None


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:10]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    return f"{error.error_count()} validation error(s): " + "; ".join(parts)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def dead_letter_for(
    record: RecordLike, poison: PoisonMessage, consumer_group: str | None
) -> DeadLetter:
    """The dead letter of a poison record: the record whole, unless it is too large to fit
    a default Kafka record once base64-encoded (then its beginning, marked ``truncated``)."""
    value = record.value
    headers, headers_size = [], 0
    for k, v in record.headers or ():
        headers_size += len(k) + len(v or b"")
        if headers_size > limits.DEAD_LETTER_HEADERS_MAX:
            break
        headers.append(DeadLetterHeader(key=k, value_b64=_b64(v) or ""))
    truncated = len(headers) < len(record.headers or ())
    if value is not None and len(value) > limits.DEAD_LETTER_VALUE_MAX:
        value, truncated = value[: limits.DEAD_LETTER_VALUE_MAX], True
    return DeadLetter(
        dead_letter_id=uuid5(
            NAMESPACE_URL, f"kafka:{record.topic}/{record.partition}/{record.offset}"
        ),
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp,
        key_b64=_b64(record.key[: limits.KEY_MAX] if record.key else record.key),
        value_b64=_b64(value),
        headers=headers,
        value_size=None if record.value is None else len(record.value),
        truncated=truncated or bool(record.key and len(record.key) > limits.KEY_MAX),
        reason=poison.reason,
        error=poison.error[: limits.TEXT_MAX],
        consumer_group=consumer_group,
        dead_lettered_at=utcnow(),
    )


def dead_letter_headers(letter: DeadLetter) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "dlq_reason": letter.reason,
        "dlq_source_topic": letter.source_topic,
        "dlq_source_partition": str(letter.partition),
        "dlq_source_offset": str(letter.offset),
    }
