"""Messages on ``helpdesk.dead-letter``: a consumed message that could not be decoded or
validated, or whose application kept failing, kept whole (original bytes base64-encoded)
with where it came from and why."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts import limits
from contracts.common import SCHEMA_VERSION, Contract

DeadLetterReason = Literal["undecodable", "unknown_type", "invalid", "failed"]


class DeadLetterHeader(Contract):
    key: str
    value_b64: str


class DeadLetter(Contract):
    dead_letter_id: UUID = Field(
        description="Derived from (topic, partition, offset): a re-sent dead letter keeps it."
    )
    source_topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = Field(None, description="The original record's timestamp.")
    key_b64: str | None = Field(None, description="The original key, base64.")
    value_b64: str | None = Field(None, description="The original value bytes, base64.")
    headers: list[DeadLetterHeader] = Field(default_factory=list)
    value_size: int | None = Field(None, description="Bytes of the original value.")
    truncated: bool = Field(
        False,
        description="The original record was too large to keep whole: value_b64 holds its "
        f"first {limits.DEAD_LETTER_VALUE_MAX} bytes and headers the first "
        f"{limits.DEAD_LETTER_HEADERS_MAX} bytes' worth (the dead letter must fit a default "
        "Kafka record).",
    )
    reason: DeadLetterReason = Field(
        description="undecodable: not UTF-8 JSON; unknown_type: no such command_type; "
        "invalid: fails the command's schema; failed: a valid command whose application "
        "raised an unexpected error on every attempt (HELPDESK_INTAKE_MAX_ATTEMPTS), nothing "
        "stored; `error` names the exception."
    )
    error: str = Field(description="What was wrong, for a human.")
    consumer_group: str | None = None
    dead_lettered_at: datetime
    schema_version: int = SCHEMA_VERSION
