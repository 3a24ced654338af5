"""Follow-ups through every channel (design §3): agent API, integration API, help center,
and email (a ``CreateFollowUp`` command with the Message-ID as ``source_key``, as email ingest
publishes it).

Each: fields copied, subject and description reference the original, ``Location`` points
at the new ticket, the original's version and history are unchanged, and the same
idempotency key twice yields one follow-up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from httpx import Response

from contracts import Actor, CreateFollowUp
from services.ticket_service.application.messagebus import handle_command
from tests.unit.http.api_client import CC, REQUESTER, Api

COPIED = ("form", "requester", "cc", "assignee", "division", "priority")

FollowUp = Callable[[Api, int, str, str], Response]
"""(api, original number, body, idempotency key) → the HTTP answer (201 + Location)."""


def via_agent(api: Api, number: int, body: str, key: str) -> Response:
    return api.client.post(
        f"/api/v1/tickets/{number}/follow-ups",
        json={"body": body},
        headers={**api.headers("agent"), "Idempotency-Key": key},
    )


def via_integration(api: Api, number: int, body: str, key: str) -> Response:
    return api.client.post(
        f"/api/v1/tickets/{number}/follow-ups",
        json={"body": body},
        headers={**api.headers("integration"), "Idempotency-Key": key},
    )


def via_help_center(api: Api, number: int, body: str, key: str) -> Response:
    return api.client.post(
        f"/helpcenter/v1/requests/{number}/follow-ups",
        json={"body": body},
        headers={**api.headers("requester", email=CC), "Idempotency-Key": key},
    )


def via_email(api: Api, number: int, body: str, key: str) -> Response:
    """Email ingest's command, applied by the ticket service; then read over HTTP."""
    services = api.client.app.state.services.get()  # type: ignore[attr-defined]
    command = CreateFollowUp(
        command_id=uuid4(),
        ticket_number=number,
        issued_at=datetime.now(UTC),
        actor=Actor(role="requester", email=REQUESTER),
        data={"body": body, "channel": "email", "source_key": f"<{key}@mail.example.com>"},
    )
    outcome = handle_command(services.tickets, command)
    assert outcome.ok, outcome
    r = api.client.get(f"/api/v1/tickets/{outcome.ticket_number}", headers=api.headers("agent"))
    r.status_code = 201
    r.headers["location"] = f"/api/v1/tickets/{outcome.ticket_number}"
    return r


CHANNELS: dict[str, tuple[FollowUp, str]] = {
    "agent": (via_agent, "/api/v1/tickets/"),
    "integration": (via_integration, "/api/v1/tickets/"),
    "help_center": (via_help_center, "/helpcenter/v1/requests/"),
    "email": (via_email, "/api/v1/tickets/"),
}


def read(api: Api, number: int) -> dict[str, Any]:
    r = api.client.get(f"/api/v1/tickets/{number}", headers=api.headers("agent"))
    assert r.status_code == 200
    return dict(r.json())


def history(api: Api, number: int) -> list[dict[str, Any]]:
    r = api.client.get(f"/api/v1/tickets/{number}/events", headers=api.headers("agent"))
    return list(r.json()["events"])


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_follow_up(api: Api, channel: str) -> None:
    create, location_prefix = CHANNELS[channel]
    original = api.closed_ticket(
        cc=[CC], assignee="alice", division="emea", form="hardware", priority="high", tags=["t"]
    )
    number = original["number"]
    before = (read(api, number), history(api, number))

    r = create(api, number, "The printer is smoking again.", f"key-{channel}")

    assert r.status_code == 201, r.text
    follow_up = r.json()
    assert r.headers["location"] == f"{location_prefix}{follow_up['number']}"
    full = read(api, follow_up["number"])
    assert {f: full[f] for f in COPIED} == {f: original[f] for f in COPIED}
    assert full["status"] == "new"
    assert full["subject"] == f"Follow-up to #{number}: {original['subject']}"
    assert full["description"].startswith(f"Follow-up to #{number}")
    assert "The printer is smoking again." in full["description"]
    assert full["follow_up_of"] == {"number": number, "id": original["id"]}
    assert (read(api, number), history(api, number)) == before
    assert before[0]["version"] == original["version"]

    again = create(api, number, "The printer is smoking again.", f"key-{channel}")
    assert again.json()["number"] == follow_up["number"]
    integration = api.client.get(f"/api/v1/tickets/{number}", headers=api.headers("integration"))
    assert integration.json()["follow_ups"] == [follow_up["number"]]


@pytest.mark.parametrize("channel", ["agent", "integration", "help_center"])
def test_follow_up_of_an_active_ticket_is_refused(api: Api, channel: str) -> None:
    create, _ = CHANNELS[channel]
    number = api.create(cc=[CC])["number"]
    r = create(api, number, "hi", "k")
    assert r.status_code == 409
    assert r.json()["code"] == "not_closed"
