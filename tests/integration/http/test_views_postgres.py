"""The read models on PostgreSQL: same tables, same tracking, same answers as SQLite; two
projectors on one database never apply a notification twice."""

from __future__ import annotations

import threading

from contracts import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.adapters.read_models.projector import TicketViews
from services.ticket_service.application.context import RequestContext
from services.ticket_service.bootstrap import build_application

AGENT = RequestContext(actor=Actor(role="agent", email="alice@example.com"))
INTEGRATION = RequestContext(actor=Actor(role="integration", email="crm@example.com"))


def test_views_on_postgres(postgres_database: str) -> None:
    app = build_application(Settings(database_url=postgres_database))
    first, second = TicketViews(app), TicketViews(app)
    numbers = [
        app.create_ticket(
            TicketFields(subject=f"t{i}", requester="ann@example.com", cc=["carl@example.com"]),
            AGENT,
            channel="agent",
        ).number
        for i in range(30)
    ]
    for n in numbers[:10]:
        app.update_ticket(n, {"status": "closed"}, INTEGRATION)
    follow_up = app.create_follow_up(numbers[0], AGENT, body="again", channel="agent")

    threads = [threading.Thread(target=v.catch_up) for v in (first, second, first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert first.position() == second.position() == app.recorder.max_notification_id()

    page = first.all_open(None, 15)
    rest = first.all_open(int(page.next_cursor or 0), 15)
    listed = [d["number"] for d in page.docs + rest.docs]
    assert listed == sorted([*numbers[10:], follow_up.number], reverse=True)
    closed = [d["number"] for d in second.closed(None, 50).docs]
    assert closed == list(reversed(numbers[:10]))
    mine = first.requests("CARL@example.com", None, None, 100).docs
    assert len(mine) == 31
    assert first.follow_ups_of(numbers[0]) == [follow_up.number]
    assert all(d["version"] == 1 for d in page.docs)
    assert first.rebuild().unchanged


def test_http_api_on_postgres(postgres_database: str) -> None:
    from fastapi.testclient import TestClient

    from services.ticket_service.bootstrap import create_app
    from tests.unit.http.api_client import SECRET, Api

    settings = Settings(database_url=postgres_database, jwt_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        original = api.closed_ticket()
        follow_up = client.post(
            f"/api/v1/tickets/{original['number']}/follow-ups",
            json={"body": "again"},
            headers={**api.headers("agent"), "Idempotency-Key": "pg"},
        )
        assert follow_up.status_code == 201
        listed = client.get("/api/v1/views/all", headers=api.headers("agent")).json()
        assert [t["number"] for t in listed["tickets"]] == [follow_up.json()["number"]]
        closed = client.get("/api/v1/views/closed", headers=api.headers("admin")).json()
        assert [t["number"] for t in closed["tickets"]] == [original["number"]]
        seen = client.get(
            f"/api/v1/tickets/{original['number']}", headers=api.headers("integration")
        ).json()
        assert seen["follow_ups"] == [follow_up.json()["number"]]
        mine = client.get("/helpcenter/v1/requests", headers=api.headers("requester")).json()
        assert {r["number"] for r in mine["requests"]} == {
            original["number"],
            follow_up.json()["number"],
        }


def test_view_filters_on_postgres(postgres_database: str) -> None:
    """Filters, word-prefix text and keyset pages on PostgreSQL (its collation orders the
    word ranges) answer as on SQLite."""
    from services.ticket_service.adapters.read_models.view_filters import Filters, Sort

    app = build_application(Settings(database_url=postgres_database))
    views = TicketViews(app)
    subjects = ["Printer jammed", "printers offline", "Network down", "Café printer ünicode"]
    made = [
        app.create_ticket(
            TicketFields(
                subject=s,
                requester="ann@example.com",
                tags=["hw"] if i % 2 else [],
                priority="high",
            ),
            AGENT,
            channel="agent",
        ).number
        for i, s in enumerate(subjects)
    ]
    views.catch_up()

    def all_pages(filters: Filters, sort: Sort) -> list[int]:
        found, cursor = [], None
        while True:
            page = views.view(closed=False, filters=filters, sort=sort, cursor=cursor, limit=1)
            found += [d["number"] for d in page.docs if d["number"] in made]
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    printers = [made[0], made[1], made[3]]
    assert all_pages(Filters(text="print"), Sort.OLDEST) == printers
    assert all_pages(Filters(text="PRINTER café"), Sort.NEWEST) == [made[3]]
    assert all_pages(Filters(tag="hw", priority="high"), Sort.OLDEST) == [made[1], made[3]]
    assert all_pages(Filters(text="print"), Sort.RECENTLY_UPDATED) == printers[::-1]
    assert views.rebuild().unchanged
