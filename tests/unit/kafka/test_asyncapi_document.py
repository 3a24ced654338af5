"""docs/asyncapi.yaml is what ``make asyncapi`` generates now."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.ticket_service.adapters.kafka.asyncapi import asyncapi_yaml

DOC = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"


def test_committed_document_is_fresh() -> None:
    assert DOC.read_text() == asyncapi_yaml(), "stale docs/asyncapi.yaml: run `make asyncapi`"


def test_document_has_the_three_channels_with_their_payloads() -> None:
    spec = yaml.safe_load(asyncapi_yaml())
    addresses = {c["address"] for c in spec["channels"].values()}
    assert addresses == {
        "helpdesk.ticket-events",
        "helpdesk.ticket-commands",
        "helpdesk.dead-letter",
    }
    schemas = spec["components"]["schemas"]
    for name in ("TicketCreated", "TicketClosed", "CommandRejected", "CreateTicket", "DeadLetter"):
        assert name in schemas
