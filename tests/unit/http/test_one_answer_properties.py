"""One answer for every way in, as a property (issue #12, item 3): for any change — valid
or not, generated — ``PATCH /api/v1/tickets/{n}`` and the Kafka command path (the intake's
own decoding, ``decode_command``, then ``handle_command``) accept or refuse alike, with the
same refusal class, and leave the ticket in the same state. The broker itself is in
``tests/integration/kafka/test_one_answer.py``; here the bytes go straight to the decoder,
so many more changes can be tried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from services.ticket_service.adapters.kafka.command_records import PoisonMessage, decode_command
from services.ticket_service.application.messagebus import handle_command
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application, create_app
from services.ticket_service.domain.ticket import UPDATABLE_FIELDS
from tests.unit.http.api_client import SECRET
from tests.unit.http.change_paths import (
    CATEGORY_OF_CODE,
    CATEGORY_OF_STATUS,
    EMAILS,
    Change,
    set_up,
    state,
)

FIELDS = [*sorted(UPDATABLE_FIELDS), "description", "colour"]
"""Every field a change may set, one it may not (description) and one that does not exist."""
json_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=8)
values = st.one_of(
    json_scalars,
    st.sampled_from(["new", "open", "pending", "on_hold", "solved", "closed", "OPEN"]),
    st.sampled_from(["low", "normal", "high", "urgent", "extreme"]),
    st.sampled_from(["ann@example.com", "bob@example.org", "not-an-address", ""]),
    st.lists(st.sampled_from(["a", "b", "x@example.com", ""]) | json_scalars, max_size=3),
    st.dictionaries(st.text(max_size=3), json_scalars | st.lists(json_scalars, max_size=2)),
)
changes = st.dictionaries(st.sampled_from(FIELDS), values, max_size=4)


@pytest.fixture(scope="module")
def sides(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, TicketApplication, TicketApplication]]:
    http_settings = Settings(data_dir=tmp_path_factory.mktemp("http"), jwt_secret=SECRET)
    http_app = build_application(http_settings)
    kafka_app = build_application(Settings(data_dir=tmp_path_factory.mktemp("kafka")))
    try:
        with TestClient(create_app(http_settings, http_app)) as client:
            yield client, http_app, kafka_app
    finally:
        http_app.close()
        kafka_app.close()


def over_http(client: TestClient, app: TicketApplication, change: Change) -> tuple[str, Any]:
    number = set_up(app, change).number
    token = mint_token(SECRET, role=change.role, email=EMAILS[change.role])
    response = client.patch(
        f"/api/v1/tickets/{number}",
        content=json.dumps(change.changes),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    outcome = CATEGORY_OF_STATUS.get(response.status_code, str(response.status_code))
    return outcome, state(app.get_ticket(number))


def over_kafka(app: TicketApplication, change: Change) -> tuple[str, Any]:
    number = set_up(app, change).number
    value = json.dumps(
        {
            "command_id": str(uuid4()),
            "command_type": "UpdateTicket",
            "issued_at": "2026-12-01T00:00:00Z",
            "ticket_number": number,
            "actor": {"role": change.role, "email": EMAILS[change.role]},
            "data": {"changes": change.changes},
        }
    ).encode()
    try:
        command = decode_command(value)
    except PoisonMessage as poison:
        assert poison.reason == "invalid", poison
        outcome = "invalid"
    else:
        result = handle_command(app, command)
        if result.ok:
            outcome = "accepted"
        else:
            assert result.error is not None
            outcome = CATEGORY_OF_CODE.get(result.error.code, result.error.code)
    return outcome, state(app.get_ticket(number))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    role=st.sampled_from(["agent", "integration"]),
    start=st.sampled_from(["new", "open", "closed"]),
    wanted=changes,
)
def test_http_and_the_kafka_command_path_answer_alike(
    sides: tuple[TestClient, TicketApplication, TicketApplication],
    role: str,
    start: str,
    wanted: dict[str, Any],
) -> None:
    client, http_app, kafka_app = sides
    change = Change("generated", role, start, wanted, expected="?")
    http_outcome, http_state = over_http(client, http_app, change)
    kafka_outcome, kafka_state = over_kafka(kafka_app, change)
    assert http_outcome == kafka_outcome
    assert http_state == kafka_state
