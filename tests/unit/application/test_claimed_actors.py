"""Which actor a Kafka command may claim: the automation only in the closer's timer close,
and that close only by the automation; only the roles a deployment allows
(``HELPDESK_COMMAND_ROLES``); every other claim is left to the lifecycle rules."""

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
from services.ticket_service.application.messagebus import handle_command
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain import errors
from services.ticket_service.domain.claimed_actors import (
    AUTOMATION_IN_TIMER_CLOSE_ONLY,
    TIMER_CLOSE_BY_AUTOMATION_ONLY,
    role_not_allowed,
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


NARROWED = frozenset({Role.INTEGRATION, Role.REQUESTER, Role.AUTOMATION})
"""A deployment whose topic only upstream systems, email ingest and the closer write to."""


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[frozenset[Role] | None, TicketApplication]]:
    made: dict[frozenset[Role] | None, TicketApplication] = {}
    for allowed in (None, NARROWED):
        settings = Settings(database_url="sqlite:///:memory:", command_roles=allowed)
        app = made[allowed] = build_application(settings)
        for status in ("solved", "closed"):  # ticket 1: solved (solve 1); ticket 2: closed
            create = command("CreateTicket", Role.INTEGRATION, DATA["CreateTicket"][0])
            number = handle_command(app, create).ticket_number
            change = {"changes": {"status": status}}
            handle_command(app, command("UpdateTicket", Role.INTEGRATION, change, number))
    yield made
    for app in made.values():
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
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(sorted(DATA)),
    data=st.data(),
    role=st.sampled_from(list(Role)),
    allowed=st.sampled_from([None, NARROWED]),
)
def test_a_claim_is_refused_exactly_when_the_trust_rules_say(
    apps: dict[frozenset[Role] | None, TicketApplication],
    kind: str,
    data: st.DataObject,
    role: Role,
    allowed: frozenset[Role] | None,
) -> None:
    body = data.draw(st.sampled_from(DATA[kind]), label="data")
    targeted = kind not in {"CreateTicket", "ChangeAutoClosePolicy"}
    number = data.draw(st.sampled_from([1, 2]), label="ticket") if targeted else None
    timer_close = kind == "CloseTicket" and body["closed_by"] == "automation"
    outcome = handle_command(apps[allowed], command(kind, role, body, number))
    refusals = {
        TIMER_CLOSE_BY_AUTOMATION_ONLY,
        AUTOMATION_IN_TIMER_CLOSE_ONLY,
        role_not_allowed(role),
    }
    refused_for_the_claim = (
        not outcome.ok
        and isinstance(outcome.error, errors.NotPermitted)
        and outcome.error.message in refusals
    )
    expected = (allowed is not None and role not in allowed) or (
        (role == Role.AUTOMATION) != timer_close
    )
    assert refused_for_the_claim == expected, outcome
