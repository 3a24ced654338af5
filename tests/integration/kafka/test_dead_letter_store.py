"""Dead letters are kept in the ticket store by the one dead-letter path (before the batch's
offsets are committed), survive the broker and the process, and can be listed, retried and
purged through the CLI and the admin API — against the real broker and store."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from contracts.dead_letters import DeadLetter
from services.cli import app as cli_app
from services.settings import Settings
from services.ticket_service.adapters.dead_letter_store import DeadLetterStore
from services.ticket_service.adapters.http.auth import mint_token
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application, create_app
from tests.integration.kafka.streams import (
    caused_by,
    command,
    encode,
    produce,
    read_count,
    read_until,
)
from tests.integration.kafka.test_command_intake import REQUESTER, workers

SECRET = "dead-letter-tests-secret-long-enough-for-hs256-0123"


def eventually_kept(app: TicketApplication, count: int) -> list[Any]:
    return DeadLetterStore(app).oldest(limit=100)[:count]


async def test_every_dead_letter_is_kept_in_the_store_before_the_batch_is_acknowledged(
    app: TicketApplication, settings: Settings
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    garbage = b"\x00\xff not json"
    unknown = encode(command("LaunchRocket", {"target": "moon"}))
    valid = command("CreateTicket", {"subject": "After poison", "requester": REQUESTER})
    async with workers(app, settings) as running:
        await produce(bootstrap, settings.topic_commands, [garbage, unknown, encode(valid)])
        await read_until(bootstrap, settings.topic_events, caused_by(valid["command_id"]))
        published = await read_count(bootstrap, settings.topic_dead_letter, 2)
        assert running.intake is not None and running.intake.dead_letters == 2

    # A fresh process on the same store (the broker may be gone): the same dead letters.
    reopened = build_application(settings)
    try:
        kept = DeadLetterStore(reopened).oldest()
    finally:
        reopened.close()
    on_topic = [DeadLetter.model_validate_json(r.value) for r in published]
    assert [k.letter for k in kept] == on_topic
    assert [base64.b64decode(k.letter.value_b64 or "") for k in kept] == [garbage, unknown]
    assert {k.status for k in kept} == {"pending"}


def test_recording_a_redelivered_dead_letter_again_changes_nothing(
    app: TicketApplication,
) -> None:
    from services.ticket_service.adapters.kafka.command_records import (
        PoisonMessage,
        dead_letter_for,
    )

    class Record:
        topic, partition, offset, timestamp = "t", 0, 7, 1
        key, value, headers = b"k", b"nope", [("h", b"\xff")]

    letter = dead_letter_for(Record(), PoisonMessage("undecodable", "bad"), "g")
    store = DeadLetterStore(app)
    assert store.record([letter]) == 1
    again = letter.model_copy(update={"error": "a later redelivery"})
    assert store.record([again]) == 0
    kept = store.get(letter.dead_letter_id)
    assert kept is not None and kept.letter == letter


async def test_retry_republishes_the_original_command_and_marks_it_retried(
    app: TicketApplication, settings: Settings, tmp_path: Path
) -> None:
    from services.ticket_service.adapters.kafka.dead_letter_retry import retry_dead_letter

    bootstrap = settings.kafka_bootstrap or ""
    poison = encode(command("CreateTicket", {"subject": "", "requester": "nobody"}))
    async with workers(app, settings):
        await produce(bootstrap, settings.topic_commands, [poison])
        await read_count(bootstrap, settings.topic_dead_letter, 1)
        store = DeadLetterStore(app)
        (first,) = store.oldest()
        retried = await retry_dead_letter(
            store, settings, first.letter.dead_letter_id, actor="test"
        )
        assert (retried.status, retried.retries) == ("retried", 1)
        # Still poison: it comes back as a new dead letter with the same bytes.
        again = await read_count(bootstrap, settings.topic_dead_letter, 2)
    second = DeadLetter.model_validate_json(again[1].value)
    assert second.offset == first.letter.offset + 1
    assert second.value_b64 == first.letter.value_b64
    assert [k.status for k in DeadLetterStore(app).oldest()] == ["retried", "pending"]


@pytest.fixture
def admin_api(settings: Settings) -> Any:
    api_settings = settings.model_copy(update={"jwt_secret": SECRET})
    with TestClient(create_app(api_settings)) as client:
        yield client


def bearer(role: str) -> dict[str, str]:
    token = mint_token(SECRET, role=role, email=f"{role}@example.com")
    return {"Authorization": f"Bearer {token}"}


async def test_the_admin_api_lists_shows_retries_and_purges_dead_letters(
    app: TicketApplication, settings: Settings, admin_api: TestClient
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    async with workers(app, settings):
        await produce(bootstrap, settings.topic_commands, [b"{broken", b"[1, 2]"])
        await read_count(bootstrap, settings.topic_dead_letter, 2)
        listed = admin_api.get("/api/v1/dead-letters", headers=bearer("admin"))
        assert listed.status_code == 200, listed.text
        letters = listed.json()["dead_letters"]
        assert [base64.b64decode(d["value_b64"]) for d in letters] == [b"{broken", b"[1, 2]"]
        first, second = (d["dead_letter_id"] for d in letters)

        shown = admin_api.get(f"/api/v1/dead-letters/{first}", headers=bearer("owner"))
        assert shown.status_code == 200 and shown.json()["status"] == "pending"
        retried = admin_api.post(f"/api/v1/dead-letters/{first}/retry", headers=bearer("admin"))
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["retries"]) == ("retried", 1)
        await read_count(bootstrap, settings.topic_dead_letter, 3)

    gone = admin_api.delete(f"/api/v1/dead-letters/{second}", headers=bearer("admin"))
    assert gone.status_code == 204
    missing = admin_api.get(f"/api/v1/dead-letters/{second}", headers=bearer("admin"))
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    pending = admin_api.get(
        "/api/v1/dead-letters", params={"status": "pending"}, headers=bearer("admin")
    ).json()["dead_letters"]
    assert [base64.b64decode(d["value_b64"]) for d in pending] == [b"{broken"]  # the retry's
    for role in ("agent", "supervisor", "integration", "requester"):
        refused = admin_api.get("/api/v1/dead-letters", headers=bearer(role))
        assert refused.status_code == 403, role
    assert admin_api.get("/api/v1/dead-letters").status_code == 401
    bad = admin_api.get("/api/v1/dead-letters/not-a-uuid", headers=bearer("admin"))
    assert bad.status_code == 422


async def test_the_cli_lists_shows_retries_and_purges_dead_letters(
    app: TicketApplication, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    for name, value in {
        "HELPDESK_DATA_DIR": str(settings.data_dir),
        "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
        "HELPDESK_TOPIC_COMMANDS": settings.topic_commands,
    }.items():
        monkeypatch.setenv(name, value)
    run: Callable[..., Any] = CliRunner().invoke
    async with workers(app, settings):
        await produce(bootstrap, settings.topic_commands, [b"not json"])
        await read_count(bootstrap, settings.topic_dead_letter, 1)
        listed = run(cli_app, ["dead-letters", "list"])
        assert listed.exit_code == 0, listed.output
        dead_letter_id = listed.output.split()[0]
        UUID(dead_letter_id)
        shown = run(cli_app, ["dead-letters", "show", dead_letter_id])
        assert shown.exit_code == 0 and '"value_text": "not json"' in shown.output
        retried = await asyncio.to_thread(run, cli_app, ["dead-letters", "retry", dead_letter_id])
        assert retried.exit_code == 0, retried.output
        await read_count(bootstrap, settings.topic_dead_letter, 2)
    purged = run(cli_app, ["dead-letters", "purge", "--all", "--status", "retried"])
    assert purged.exit_code == 0 and "purged 1 dead letter(s)" in purged.output, purged.output
    remaining = DeadLetterStore(app).oldest()
    assert [k.status for k in remaining] == ["pending"]


def test_a_retry_without_a_broker_is_a_503_problem_and_the_dead_letter_stays_pending(
    app: TicketApplication, settings: Settings
) -> None:
    from services.ticket_service.adapters.kafka.command_records import (
        PoisonMessage,
        dead_letter_for,
    )

    class Record:
        topic, partition, offset, timestamp = "commands", 0, 3, 1
        key, value, headers = None, b"nope", []

    letter = dead_letter_for(Record(), PoisonMessage("undecodable", "bad"), None)
    DeadLetterStore(app).record([letter])
    offline = settings.model_copy(update={"jwt_secret": SECRET, "kafka_bootstrap": None})
    with TestClient(create_app(offline, app)) as client:
        url = f"/api/v1/dead-letters/{letter.dead_letter_id}"
        refused = client.post(f"{url}/retry", headers=bearer("owner"))
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert client.get(url, headers=bearer("owner")).json()["status"] == "pending"
