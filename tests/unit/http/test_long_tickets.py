"""A ticket with 150+ events (so loaded from a snapshot plus its tail) behaves through the
HTTP API like any other: status changes, solving, a requester's reply, the automation's
close and a follow-up all answer as they should, never a 500."""

from __future__ import annotations

from datetime import timedelta

from contracts.common import Actor
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.tickets import SNAPSHOT_INTERVAL
from tests.fixtures.closing import auto_close
from tests.unit.http.api_client import REQUESTER, Api

COMMENTS = 150


def test_a_long_ticket_changes_status_solves_closes_and_is_followed_up(api: Api) -> None:
    ticket = api.create()
    number, agent = ticket["number"], api.headers("agent")
    for n in range(COMMENTS):
        r = api.client.post(
            f"/api/v1/tickets/{number}/comments",
            json={"body": f"note {n}", "public": False},
            headers=agent,
        )
        assert r.status_code == 201, r.text
    tickets = api.client.app.state.services.get().tickets  # type: ignore[attr-defined]
    assert tickets.snapshots is not None
    ticket_id = tickets.get_ticket(number).id
    assert [s.originator_version for s in tickets.snapshots.get(ticket_id)] == [SNAPSHOT_INTERVAL]

    for status in ("open", "pending"):
        r = api.client.patch(f"/api/v1/tickets/{number}", json={"status": status}, headers=agent)
        assert (r.status_code, r.json()["status"]) == (200, status), r.text

    reply = api.client.post(
        f"/helpcenter/v1/requests/{number}/comments",
        json={"body": "still broken"},
        headers=api.headers("requester", email=REQUESTER),
    )
    assert (reply.status_code, reply.json()["status"]) == (201, "open"), reply.text

    solved = api.client.patch(f"/api/v1/tickets/{number}", json={"status": "solved"}, headers=agent)
    assert (solved.status_code, solved.json()["status"]) == (200, "solved"), solved.text
    solve = tickets.get_ticket(number)
    assert solve.auto_close_due_at is not None

    automation = RequestContext(
        actor=Actor(role="automation", sub="closer"),
        at=max(utcnow(), solve.auto_close_due_at + timedelta(seconds=1)),
    )
    auto_close(tickets, ticket_id, solve.solve_id, automation)  # the closer's CloseTicket path
    after = api.client.get(f"/api/v1/tickets/{number}", headers=agent)
    assert (after.status_code, after.json()["status"]) == (200, "closed"), after.text
    assert after.json()["version"] > COMMENTS + 5

    refused = api.client.patch(f"/api/v1/tickets/{number}", json={"status": "open"}, headers=agent)
    assert refused.status_code == 409, refused.text
    follow_up = api.client.post(
        f"/api/v1/tickets/{number}/follow-ups", json={"body": "it is back"}, headers=agent
    )
    assert follow_up.status_code == 201, follow_up.text
    assert follow_up.json()["follow_up_of"]["number"] == number
