"""The intake counts commands by outcome and dead letters, and logs rejections with their
correlation id."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from prometheus_client import REGISTRY

from contracts.dead_letters import DeadLetter
from services.settings import Settings
from services.ticket_service.adapters.kafka.intake import CommandIntake
from services.ticket_service.bootstrap import build_application
from tests.unit.kafka.test_intake_acks import Message, Record


def encode(command_type: str, data: dict[str, Any], **head: Any) -> bytes:
    return json.dumps(
        {
            "command_id": str(uuid4()),
            "command_type": command_type,
            "issued_at": datetime.now(UTC).isoformat(),
            "actor": {"role": "integration"},
            "data": data,
            **head,
        }
    ).encode()


def counted(outcome: str) -> float:
    labels = {"outcome": outcome}
    return REGISTRY.get_sample_value("helpdesk_intake_commands_total", labels) or 0.0


def dead_letters() -> float:
    return REGISTRY.get_sample_value("helpdesk_intake_dead_letters_total") or 0.0


async def test_outcomes_and_dead_letters_are_counted(caplog: pytest.LogCaptureFixture) -> None:
    app = build_application(Settings(database_url="sqlite:///:memory:"))

    async def publish(letter: DeadLetter, key: bytes | None) -> None:
        pass

    intake = CommandIntake(app, publish_dead_letter=publish, consumer_group="g")
    create = encode("CreateTicket", {"subject": "Old", "requester": "r@example.com"})
    close = encode("CloseTicket", {"closed_by": "integration"}, ticket_number=1)
    reply = encode(
        "AddComment", {"body": "one more"}, ticket_number=1, correlation_id="crm-trace-9"
    )
    before = {o: counted(o) for o in ("accepted", "rejected", "duplicate")}
    before_dead = dead_letters()

    with caplog.at_level(logging.WARNING, logger="services.ticket_service.adapters.kafka"):
        await intake.handle(Message((Record(create, 0), Record(b"junk", 1), Record(close, 2))))
        await intake.handle(Message((Record(close, 2), Record(reply, 3))))  # redelivery + reply

    assert {o: counted(o) - before[o] for o in before} == {
        "accepted": 2,
        "rejected": 1,
        "duplicate": 1,
    }
    assert dead_letters() - before_dead == 1
    [rejected] = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert rejected.correlation_id == "crm-trace-9"  # type: ignore[attr-defined]
    app.close()
