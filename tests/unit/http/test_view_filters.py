"""Filters, sorting and cursor pagination of the agent views, and help-center requests
created through the API."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.unit.http.api_client import REQUESTER, Api


def numbers(api: Api, path: str, **params: Any) -> list[int]:
    """Every page of ``path`` with ``params``, two rows a page (cursor pagination)."""
    found: list[int] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = api.client.get(path, params=query, headers=api.headers("agent"))
        assert r.status_code == 200, r.text
        found += [t["number"] for t in r.json()["tickets"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return found


def test_filters_match_each_field(api: Api) -> None:
    word = f"zq{uuid4().hex[:8]}"
    a = api.create(subject=f"{word} printer jammed", priority="high", tags=["hw"])["number"]
    b = api.create(subject=f"Printer {word}", assignee="alice", requester="dora@example.com")[
        "number"
    ]
    c = api.create(subject=f"{word} network down", status="pending", tags=["net"])["number"]
    assert numbers(api, "/api/v1/views/all", q=word) == [c, b, a]
    assert numbers(api, "/api/v1/views/all", q=f"{word} print") == [b, a]
    assert numbers(api, "/api/v1/views/all", q=f"{word} PRINTER") == [b, a]
    assert numbers(api, "/api/v1/views/all", q=word, priority="high") == [a]
    assert numbers(api, "/api/v1/views/all", q=word, assignee="alice") == [b]
    assert numbers(api, "/api/v1/views/all", q=word, requester="DORA@example.com") == [b]
    assert numbers(api, "/api/v1/views/all", q=word, tag="net") == [c]
    assert numbers(api, "/api/v1/views/all", q=word, status="pending") == [c]
    assert numbers(api, "/api/v1/views/all", q=word, sort="number") == [a, b, c]


def test_sort_by_update_pages_through_every_ticket_once(api: Api) -> None:
    word = f"zu{uuid4().hex[:8]}"
    made = [api.create(subject=f"{word} {i}")["number"] for i in range(5)]
    r = api.client.patch(
        f"/api/v1/tickets/{made[1]}", json={"priority": "low"}, headers=api.headers("agent")
    )
    assert r.status_code == 200
    recent = numbers(api, "/api/v1/views/all", q=word, sort="-updated")
    assert recent[0] == made[1]
    assert sorted(recent) == made
    assert numbers(api, "/api/v1/views/all", q=word, sort="updated") == recent[::-1]


def test_closed_view_filters_and_stays_newest_closed_first(api: Api) -> None:
    word = f"zc{uuid4().hex[:8]}"
    first = api.closed_ticket(subject=f"{word} one", tags=["x"])["number"]
    second = api.closed_ticket(subject=f"{word} two")["number"]
    api.create(subject=f"{word} open")
    assert numbers(api, "/api/v1/views/closed", q=word) == [second, first]
    assert numbers(api, "/api/v1/views/closed", q=word, tag="x") == [first]
    assert numbers(api, "/api/v1/views/all", q=f"{word} one") == []


def test_a_foreign_cursor_is_a_problem(api: Api) -> None:
    r = api.client.get(
        "/api/v1/views/all",
        params={"sort": "-updated", "cursor": "12"},
        headers=api.headers("agent"),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("cursor", ["9223372036854775808", "9999999999999999999"])
def test_a_cursor_past_the_stores_integers_is_a_problem(api: Api, cursor: str) -> None:
    """Past 2**63 - 1 both stores overflow (a 500 before the bound was checked)."""
    for path in ("/api/v1/views/all", "/api/v1/views/closed"):
        r = api.client.get(path, params={"cursor": cursor}, headers=api.headers("agent"))
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_cursor"


def test_requester_creates_a_request(api: Api) -> None:
    r = api.client.post(
        "/helpcenter/v1/requests",
        json={"subject": "My laptop", "description": "It beeps."},
        headers=api.headers("requester"),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["requester"] == REQUESTER
    assert r.headers["location"] == f"/helpcenter/v1/requests/{body['number']}"
    listed = api.client.get("/helpcenter/v1/requests", headers=api.headers("requester")).json()
    assert listed["requests"][0]["number"] == body["number"]
    ticket = api.client.get(f"/api/v1/tickets/{body['number']}", headers=api.headers("agent"))
    assert ticket.json()["channel"] == "help_center"


def test_a_request_names_only_subject_and_description(api: Api) -> None:
    r = api.client.post(
        "/helpcenter/v1/requests",
        json={"subject": "x", "requester": "someone@example.com"},
        headers=api.headers("requester"),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_views_made_before_the_filter_index_get_it_from_their_documents(api: Api) -> None:
    from services.ticket_service.adapters.read_models.projector import TicketViews
    from services.ticket_service.adapters.read_models.view_filters import Filters
    from tests.unit.http.test_views import services

    word = f"zb{uuid4().hex[:8]}"
    number = api.create(subject=f"{word} older views", tags=["legacy"])["number"]
    svc = services(api)
    svc.views.catch_up()
    with svc.views.tables.transaction() as cur:
        for table in ("helpdesk_view_words", "helpdesk_view_tags", "helpdesk_view_fields"):
            cur.execute(f"DELETE FROM {table}")
    assert numbers(api, "/api/v1/views/all", q=word) == []
    views = TicketViews(svc.tickets)
    page = views.view(closed=False, filters=Filters(text=word, tag="legacy"))
    assert [d["number"] for d in page.docs] == [number]
    assert views.rebuild().unchanged
