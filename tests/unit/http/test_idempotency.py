"""An Idempotency-Key means one request: the caller's own key, tied to the request it came
with (another request under it → 422 ``idempotency_key_reused``), and new again after its
lifetime — on ticket creation (both paths) and on both follow-up routes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import assume, example, given
from hypothesis import strategies as st

from contracts.common import Actor, Role, TicketFields
from services.settings import Settings
from services.ticket_service.adapters.http import idempotency
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.handlers import follow_up_key
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import create_app
from services.ticket_service.domain import errors
from services.ticket_service.domain.ids import receipt_id_for
from services.ticket_service.domain.ticket import Ticket
from tests.unit.http.api_client import REQUESTER, SECRET, Api

BODY = {"subject": "Printer on fire", "requester": REQUESTER}
TEXT = st.text(max_size=12)


@given(first=st.tuples(TEXT, TEXT.filter(bool)), second=st.tuples(TEXT, TEXT.filter(bool)))
@example(first=("svc", "x:y"), second=("svc:x", "y"))
@example(first=("1:a", "b"), second=("1", "a:b"))
@example(first=("", "1::x"), second=(":", "x"))
def test_no_two_callers_keys_share_a_receipt(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    assume(first != second)
    one, other = idempotency.scoped_key(*first), idempotency.scoped_key(*second)
    assert one is not None and other is not None
    assert one != other
    assert receipt_id_for(one) != receipt_id_for(other)


@given(sub=TEXT, key=TEXT.filter(bool), number=st.integers(1, 10**12), name=TEXT)
def test_request_keys_never_meet_the_other_receipt_keys(
    sub: str, key: str, number: int, name: str
) -> None:
    """Kafka command ids and email Message-IDs have receipt keys of their own."""
    scoped = idempotency.scoped_key(sub, key)
    assert scoped not in (f"command:{name}", follow_up_key(number, name))


def test_no_key_is_no_receipt() -> None:
    assert idempotency.scoped_key("svc", None) is None
    assert idempotency.scoped_key("svc", "") is None


@pytest.fixture(scope="module")
def apps(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("idempotency")
    settings_ = Settings(data_dir=data_dir, jwt_secret=SECRET)
    with TestClient(create_app(settings_)) as client:
        yield Api(client, settings_)


def _create(api: Api, key: str, body: Any = BODY, **claims: Any) -> Any:
    headers = {**api.headers("integration", **claims), "Idempotency-Key": key}
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        return api.client.post("/api/v1/tickets", content=body, headers=headers)
    return api.client.post("/api/v1/tickets", json=body, headers=headers)


def _reused(response: Any) -> bool:
    return (
        response.status_code == 422
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["type"].endswith("idempotency_key_reused")
    )


def test_a_retry_gets_the_first_ticket(apps: Api) -> None:
    first = _create(apps, "retry")
    again = _create(apps, "retry")
    reordered = _create(apps, "retry", json.dumps(dict(reversed(BODY.items()))).encode())
    defaults_spelled_out = _create(apps, "retry", {**BODY, "status": "new", "cc": []})
    assert first.status_code == again.status_code == reordered.status_code == 201
    numbers = {r.json()["number"] for r in (first, again, reordered, defaults_spelled_out)}
    assert numbers == {first.json()["number"]}


def test_the_same_key_with_another_body_is_refused(apps: Api) -> None:
    first = _create(apps, "one-request")
    assert first.status_code == 201
    for other in ({**BODY, "subject": "Something else"}, {**BODY, "priority": "high"}):
        refused = _create(apps, "one-request", other)
        assert _reused(refused), refused.text
    probe = apps.create()
    assert probe["number"] == first.json()["number"] + 1  # the refusals made no ticket


def test_keys_are_the_callers_own(apps: Api) -> None:
    """The issue's case: ``sub=svc`` + ``x:y`` and ``sub=svc:x`` + ``y`` are two keys."""
    one = _create(apps, "x:y", {**BODY, "subject": "from svc"}, sub="svc")
    other = _create(apps, "y", {**BODY, "subject": "from svc:x"}, sub="svc:x")
    assert one.status_code == other.status_code == 201, (one.text, other.text)
    assert one.json()["number"] != other.json()["number"]
    assert other.json()["subject"] == "from svc:x"
    same_key_other_caller = _create(apps, "x:y", BODY, sub="someone-else")
    assert same_key_other_caller.status_code == 201


def test_a_key_stands_for_one_route_and_ticket(apps: Api) -> None:
    source = apps.closed_ticket()["number"]
    second_source = apps.closed_ticket()["number"]
    headers = {**apps.headers("agent"), "Idempotency-Key": "follow"}
    path = f"/api/v1/tickets/{source}/follow-ups"
    first = apps.client.post(path, json={"body": "More smoke"}, headers=headers)
    again = apps.client.post(path, json={"body": "More smoke"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert _reused(apps.client.post(path, json={"body": "Other"}, headers=headers))
    assert _reused(apps.client.post(path, headers=headers))  # no body is the empty message
    other_source = f"/api/v1/tickets/{second_source}/follow-ups"
    assert _reused(apps.client.post(other_source, json={"body": "More smoke"}, headers=headers))
    create_with_it = apps.client.post("/api/v1/tickets", json=BODY, headers=headers)
    assert _reused(create_with_it)


def test_help_center_follow_ups_too(apps: Api) -> None:
    source = apps.closed_ticket()["number"]
    headers = {**apps.headers("requester"), "Idempotency-Key": "hc"}
    path = f"/helpcenter/v1/requests/{source}/follow-ups"
    first = apps.client.post(path, json={"body": "Still broken"}, headers=headers)
    again = apps.client.post(path, json={"body": "Still broken"}, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["number"] == again.json()["number"]
    assert _reused(apps.client.post(path, json={"body": "Now the fax"}, headers=headers))


# ---- expiry, with the request times given (no clock involved) ---------------------------

AGENT = Actor(role=Role.AGENT, email="alice@helpdesk.example.com")
FIELDS = TicketFields(subject="s", requester=REQUESTER)
OTHER_FIELDS = TicketFields(subject="other", requester=REQUESTER)
DAY = timedelta(hours=24)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TicketApplication]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    application = TicketApplication(env=env, idempotency_key_ttl=DAY)
    yield application
    application.close()


KEY = "idempotency:1:k:key"


def _digest(fields: TicketFields) -> str:
    return idempotency.fingerprint("POST", "/api/v1/tickets", fields.model_dump(mode="json"))


def _at(app: TicketApplication, fields: TicketFields, after: timedelta) -> Ticket:
    ctx = RequestContext(actor=AGENT, at=START + after)
    return app.create_ticket(
        fields, ctx, channel="agent", idempotency_key=KEY, fingerprint=_digest(fields)
    )


START = utcnow()


def test_a_key_is_new_again_after_its_lifetime(app: TicketApplication) -> None:
    first = _at(app, FIELDS, timedelta(0))
    assert _at(app, FIELDS, DAY - timedelta(seconds=1)).number == first.number
    with pytest.raises(errors.IdempotencyKeyReused):
        _at(app, OTHER_FIELDS, DAY - timedelta(seconds=1))
    renewed = _at(app, OTHER_FIELDS, DAY)  # expired: another request is welcome now
    assert renewed.number != first.number and renewed.subject == "other"
    assert _at(app, OTHER_FIELDS, DAY + timedelta(hours=1)).number == renewed.number
    with pytest.raises(errors.IdempotencyKeyReused):
        _at(app, FIELDS, DAY + timedelta(hours=1))
    again_later = _at(app, FIELDS, 3 * DAY)
    assert again_later.number not in (first.number, renewed.number)


def test_the_lifetime_is_a_setting_of_24_hours_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().idempotency_key_ttl == DAY
    monkeypatch.setenv("HELPDESK_IDEMPOTENCY_KEY_TTL", "90m")
    assert Settings().idempotency_key_ttl == timedelta(minutes=90)


def test_of_two_writers_renewing_one_expired_key_one_wins(tmp_path: Path) -> None:
    """Two processes on one store: the second renewal of the same expired receipt collides
    and finds the first one's (no second ticket for the key)."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    one = TicketApplication(env=env, idempotency_key_ttl=DAY)
    other = TicketApplication(env=env, idempotency_key_ttl=DAY)
    try:
        first = _at(one, FIELDS, timedelta(0))
        stale = one.receipt(KEY)
        assert stale is not None and stale.version == 1
        winner = _at(other, OTHER_FIELDS, DAY)
        assert winner.number != first.number
        # `one` renews the expired receipt too: its save collides with the winner's renewal
        with pytest.raises(errors.IdempotencyKeyReused):  # the winner's request holds the key
            _at(one, FIELDS, DAY)
        renewed = one.receipt(KEY)
        assert renewed is not None and renewed.version == 2
        assert renewed.ticket_id == winner.id
        assert _at(one, OTHER_FIELDS, DAY).id == winner.id
    finally:
        one.close()
        other.close()
