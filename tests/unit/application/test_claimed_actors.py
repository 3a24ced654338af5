"""Which actor a Kafka command may claim: the automation only in the closer's timer close,
and that close only by the automation; every other claim is left to the lifecycle rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.commands import COMMAND_TYPES, CommandAdapter
from contracts.common import Role
from services.settings import Settings
from services.ticket_service.application.commands import handle_command
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain import errors
from services.ticket_service.domain.claimed_actors import (
    AUTOMATION_IN_TIMER_CLOSE_ONLY,
    TIMER_CLOSE_BY_AUTOMATION_ONLY,
)

DATA: dict[str, list[dict[str, Any]]] = {
    "CreateTicket": [{"subject": "s", "requester": "r@example.com"}],
    "UpdateTicket": [{"changes": {"priority": "high"}}, {"changes": {"status": "closed"}}],
    "AddComment": [{"body": "hello"}],
    "CloseTicket": [
        {"closed_by": "automation", "solve_id": 1},
        {"closed_by": "integration"},
    ],
    "CreateFollowUp": [{"body": "again"}],
    "FollowUpRequested": [{"body": "again", "message_id": "<m@x>", "sender": "r@example.com"}],
    "ChangeAutoClosePolicy": [{"after_days": 3}],
}


@pytest.fixture(scope="module")
def app() -> Iterator[TicketApplication]:
    app = build_application(Settings(database_url="sqlite:///:memory:"))
    for status in ("solved", "closed"):  # ticket 1: solved (solve 1); ticket 2: closed
        handle_command(app, command("CreateTicket", Role.INTEGRATION, DATA["CreateTicket"][0]))
        handle_command(
            app,
            command("UpdateTicket", Role.INTEGRATION, {"changes": {"status": status}}, 1),
        )
    yield app
    app.close()


def command(kind: str, role: Role, data: dict[str, Any], number: int | None = None) -> Any:
    return CommandAdapter.validate_python(
        {
            "command_id": str(uuid4()),
            "command_type": kind,
            "issued_at": datetime.now(UTC).isoformat(),
            "actor": {"role": role.value, "sub": "producer"},
            "data": data,
            **({"ticket_number": number} if number else {}),
        }
    )


def test_every_command_type_is_covered() -> None:
    assert {t.model_fields["command_type"].default for t in COMMAND_TYPES} == set(DATA)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kind=st.sampled_from(sorted(DATA)), data=st.data(), role=st.sampled_from(list(Role)))
def test_only_the_timer_close_acts_as_the_automation(
    app: TicketApplication, kind: str, data: st.DataObject, role: Role
) -> None:
    body = data.draw(st.sampled_from(DATA[kind]), label="data")
    number = data.draw(st.sampled_from([1, 2]), label="ticket") if kind != "CreateTicket" else None
    if kind == "ChangeAutoClosePolicy":
        number = None
    timer_close = kind == "CloseTicket" and body["closed_by"] == "automation"
    outcome = handle_command(app, command(kind, role, body, number))
    refused_for_the_claim = (
        not outcome.ok
        and isinstance(outcome.error, errors.NotPermitted)
        and outcome.error.message
        in {TIMER_CLOSE_BY_AUTOMATION_ONLY, AUTOMATION_IN_TIMER_CLOSE_ONLY}
    )
    assert refused_for_the_claim == ((role == Role.AUTOMATION) != timer_close), outcome
