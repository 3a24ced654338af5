"""One answer for every way in (issue #12, item 3): the same table of changes through
``PATCH /api/v1/tickets/{n}`` and through a Kafka ``UpdateTicket`` (real broker, the
intake, the relay) gives the same accept/refuse outcome and the same ticket state."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application, create_app, run_ticket_workers
from tests.fixtures.kafka import CONSUMER_SETTINGS
from tests.integration.kafka.streams import command, encode, produce, read_until
from tests.unit.http.change_paths import (
    CATEGORY_OF_CODE,
    CATEGORY_OF_STATUS,
    EMAILS,
    TABLE,
    set_up,
    state,
)

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def http_outcomes(tmp_path: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    settings = Settings(data_dir=tmp_path / "http", jwt_secret=SECRET)
    app = build_application(settings)
    outcomes, states = {}, {}
    try:
        with TestClient(create_app(settings, app)) as client:
            for change in TABLE:
                number = set_up(app, change).number
                token = mint_token(SECRET, role=change.role, email=EMAILS[change.role])
                response = client.patch(
                    f"/api/v1/tickets/{number}",
                    json=change.changes,
                    headers={"Authorization": f"Bearer {token}"},
                )
                outcomes[change.name] = CATEGORY_OF_STATUS.get(
                    response.status_code, str(response.status_code)
                )
                states[change.name] = state(app.get_ticket(number))
    finally:
        app.close()
    return outcomes, states


async def kafka_outcomes(
    app: TicketApplication, settings: Settings
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    bootstrap = settings.kafka_bootstrap or ""
    numbers = {change.name: set_up(app, change).number for change in TABLE}
    sent = {
        change.name: command(
            "UpdateTicket",
            {"changes": change.changes},
            ticket_number=numbers[change.name],
            actor={"role": change.role, "email": EMAILS[change.role], "sub": EMAILS[change.role]},
        )
        for change in TABLE
    }
    async with run_ticket_workers(
        app,
        settings,
        group_id=f"{settings.topic_commands}-group",
        consumer_options=CONSUMER_SETTINGS,
    ) as running:
        await produce(bootstrap, settings.topic_commands, map(encode, sent.values()))
        dead = await read_until(
            bootstrap,
            settings.topic_dead_letter,
            lambda records: (
                running.intake is not None
                and running.intake.commands + running.intake.dead_letters >= len(sent)
                and len(records) >= running.intake.dead_letters
            ),
        )
        await running.relay.wait_caught_up()
        events = await read_until(
            bootstrap,
            settings.topic_events,
            lambda records: len(records) >= running.relay.published_events,
        )
    rejected = {
        e["data"]["command_id"]: e["data"]["error"]
        for e in (json.loads(r.value) for r in events)
        if e["event_type"] == "CommandRejected"
    }
    dead_lettered = {
        json.loads(base64.b64decode(json.loads(r.value)["value_b64"]))["command_id"] for r in dead
    }
    outcomes = {}
    for name, sent_command in sent.items():
        command_id = sent_command["command_id"]
        if command_id in dead_lettered:
            outcomes[name] = "invalid"
        elif command_id in rejected:
            outcomes[name] = CATEGORY_OF_CODE.get(rejected[command_id], rejected[command_id])
        else:
            outcomes[name] = "accepted"
    states = {name: state(app.get_ticket(number)) for name, number in numbers.items()}
    return outcomes, states


async def test_http_and_kafka_answer_every_change_alike(
    app: TicketApplication, settings: Settings, tmp_path: Path
) -> None:
    over_http, http_states = http_outcomes(tmp_path)
    over_kafka, kafka_states = await kafka_outcomes(app, settings)

    expected = {change.name: change.expected for change in TABLE}
    assert over_http == expected
    assert over_kafka == expected
    assert kafka_states == http_states
