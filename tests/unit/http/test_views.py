"""The views as read models: All, Closed, My requests; cursor pagination; tracking."""

from __future__ import annotations

from typing import Any

from contracts.common import Actor, Role
from services.ticket_service.adapters.http.deps import Services
from services.ticket_service.application.context import RequestContext
from tests.unit.http.api_client import CC, OTHER, REQUESTER, Api


def services(api: Api) -> Services:
    return api.client.app.state.services.get()  # type: ignore[attr-defined]


def pages(api: Api, path: str, key: str, headers: dict[str, str], limit: int) -> list[list[Any]]:
    result, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = api.client.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        result.append(r.json()[key])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return result


def test_created_ticket_is_listed_by_the_next_request(api: Api) -> None:
    number = api.create()["number"]
    r = api.client.get("/api/v1/views/all?limit=5", headers=api.headers("agent"))
    assert r.json()["tickets"][0]["number"] == number
    assert r.json()["tickets"][0]["bulk_selectable"] is True


def test_all_and_closed_split_and_paginate(api: Api) -> None:
    agent = api.headers("agent")
    open_numbers = [api.create()["number"] for _ in range(5)]
    closed_numbers = [api.closed_ticket()["number"] for _ in range(5)]
    # Close an older ticket last: Closed is ordered by when tickets closed.
    late = api.create()["number"]
    api.close(late)
    closed_numbers.append(late)

    all_rows = [t for page in pages(api, "/api/v1/views/all", "tickets", agent, 2) for t in page]
    numbers = [t["number"] for t in all_rows]
    assert numbers == sorted(numbers, reverse=True)
    assert set(open_numbers) <= set(numbers)
    assert not set(closed_numbers) & set(numbers)
    assert all(t["status"] != "closed" for t in all_rows)

    closed_pages = pages(api, "/api/v1/views/closed", "tickets", agent, 2)
    rows = [t for page in closed_pages for t in page]
    assert all(len(page) <= 2 for page in closed_pages)
    assert [t["number"] for t in rows][: len(closed_numbers)] == list(reversed(closed_numbers))
    assert all(t["status"] == "closed" and t["bulk_selectable"] is False for t in rows)


def test_my_requests(api: Api) -> None:
    own = api.create()["number"]
    cced = api.create(requester="zed@example.com", cc=[REQUESTER])["number"]
    closed = api.closed_ticket()["number"]
    someone_else = api.create(requester=OTHER, cc=[CC])["number"]
    mine = [
        r
        for page in pages(api, "/helpcenter/v1/requests", "requests", api.headers("requester"), 3)
        for r in page
    ]
    by_number = {r["number"]: r for r in mine}
    assert {own, cced, closed} <= set(by_number)
    assert someone_else not in by_number
    assert (by_number[closed]["status"], by_number[closed]["read_only"]) == ("solved", True)
    assert by_number[closed]["can_follow_up"] is True
    assert by_number[own]["can_follow_up"] is False
    assert all(r["status"] != "closed" for r in mine)


def test_invalid_cursor_is_422(api: Api) -> None:
    r = api.client.get("/api/v1/views/all?cursor=abc", headers=api.headers("agent"))
    assert r.status_code == 422


def test_views_track_their_position_and_are_not_rebuilt_per_request(api: Api) -> None:
    svc = services(api)
    api.create()
    api.client.get("/api/v1/views/all", headers=api.headers("agent"))
    position = svc.views.position()
    assert position == svc.tickets.recorder.max_notification_id()
    api.client.get("/api/v1/views/closed", headers=api.headers("agent"))
    assert svc.views.position() == position
    api.create()
    api.client.get("/api/v1/views/closed", headers=api.headers("agent"))
    latest = svc.tickets.recorder.max_notification_id()
    assert latest is not None
    assert svc.views.position() == latest > position


def test_rebuild_from_scratch_reports_what_changed(api: Api) -> None:
    svc = services(api)
    number = api.create()["number"]
    svc.views.catch_up()
    assert svc.views.rebuild().unchanged
    with svc.views.tables.transaction() as cur:
        cur.execute("DELETE FROM helpdesk_view_tickets WHERE number = ?", (number,))
        cur.execute(
            'UPDATE helpdesk_view_tickets SET doc = \'{"status": "bogus"}\' WHERE number = ?',
            (number - 1,),
        )
    report = svc.views.rebuild()
    assert report.added == [number]
    assert report.changed == [number - 1]
    assert svc.views.rebuild().unchanged
    r = api.client.get(
        f"/api/v1/views/all?cursor={number + 1}&limit=1", headers=api.headers("agent")
    )
    assert r.json()["tickets"][0]["number"] == number


def test_replay_restores_deleted_read_models_identically(api: Api) -> None:
    svc = services(api)
    for _ in range(3):
        api.create()
    follow_up_source = api.closed_ticket()["number"]
    api.client.post(
        f"/api/v1/tickets/{follow_up_source}/follow-ups",
        json={"body": "again"},
        headers=api.headers("agent"),
    )
    svc.views.catch_up()
    tables = ("helpdesk_view_tickets", "helpdesk_view_participants")

    def dump() -> dict[str, list[Any]]:
        with svc.views.tables.transaction() as cur:
            rows = {}
            for table in tables:
                cur.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
                rows[table] = [tuple(row) for row in cur.fetchall()]
            return rows

    before = dump()
    assert all(before.values())
    with svc.views.tables.transaction() as cur:
        for table in tables:
            cur.execute(f"DELETE FROM {table}")
    assert not any(dump().values())
    svc.views.rebuild()
    assert dump() == before


def test_a_dry_run_catches_up_first_so_views_that_are_merely_behind_are_no_difference(
    api: Api,
) -> None:
    svc = services(api)
    svc.views.catch_up()
    # Saved behind the views' back (as another process would): the views are behind.
    numbers = [api.create()["number"] for _ in range(3)]
    behind = svc.views.position()
    svc.tickets.update_ticket(
        numbers[0],
        {"priority": "urgent"},
        RequestContext(actor=Actor(role=Role.AGENT, email="x@example.com", sub="x")),
    )
    assert svc.views.position() == behind < (svc.tickets.recorder.max_notification_id() or 0)
    report = svc.views.rebuild(dry_run=True)
    assert (report.added, report.removed, report.changed) == ([], [], [])
    assert report.position == svc.tickets.recorder.max_notification_id()
