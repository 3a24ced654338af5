"""One test per row of the seed's API-behaviour table (design §2, §3, §9)."""

from __future__ import annotations

from tests.unit.http.api_client import CC, REQUESTER, Api


def test_create_closed_is_refused_with_a_clear_message(api: Api) -> None:
    for role in ("agent", "integration"):
        r = api.client.post(
            "/api/v1/tickets",
            json={"subject": "s", "requester": REQUESTER, "status": "closed"},
            headers=api.headers(role),
        )
        assert r.status_code == 422
        assert "cannot be created closed" in r.json()["detail"]


def test_create_in_any_active_status(api: Api) -> None:
    for status in ("new", "open", "pending", "on_hold", "solved"):
        ticket = api.create(status=status)
        assert ticket["status"] == status
        assert (ticket["solved_at"] is not None) == (status == "solved")


def test_update_closed_via_api_integration_fields_only(api: Api) -> None:
    number = api.closed_ticket()["number"]
    integration = api.headers("integration")
    r = api.client.patch(
        f"/api/v1/tickets/{number}",
        json={"assignee": "zed", "priority": "urgent", "tags": ["vip"], "custom_fields": {"a": 1}},
        headers=integration,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    assert (r.json()["assignee"], r.json()["priority"]) == ("zed", "urgent")
    for locked in ({"status": "open"}, {"requester": "x@example.com"}, {"subject": "new"}):
        r = api.client.patch(f"/api/v1/tickets/{number}", json=locked, headers=integration)
        assert r.status_code == 409, locked
    r = api.client.patch(
        f"/api/v1/tickets/{number}", json={"priority": "low"}, headers=api.headers("agent")
    )
    assert r.status_code == 409
    problem = r.json()
    assert "follow-up" in problem["hint"]
    assert problem["follow_up_url"] == f"/api/v1/tickets/{number}/follow-ups"


def test_set_closed_via_api(api: Api) -> None:
    number = api.create(status="open")["number"]
    r = api.client.patch(
        f"/api/v1/tickets/{number}", json={"status": "closed"}, headers=api.headers("agent")
    )
    assert r.status_code == 403
    closed = api.close(number)
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    events = api.client.get(
        f"/api/v1/tickets/{number}/events", headers=api.headers("agent")
    ).json()["events"]
    assert events[-1]["event_type"] == "TicketClosed"
    assert events[-1]["data"]["closed_by"] == "integration"


def test_follow_up_via_api_with_parent_reference(api: Api) -> None:
    original = api.closed_ticket(cc=[CC], assignee="alice", division="emea", form="hw")
    r = api.client.post(
        f"/api/v1/tickets/{original['number']}/follow-ups",
        json={"body": "It is on fire again."},
        headers=api.headers("integration"),
    )
    assert r.status_code == 201
    assert r.json()["follow_up_of"] == {"number": original["number"], "id": original["id"]}


def test_parent_link_in_responses(api: Api) -> None:
    original = api.closed_ticket()
    number = original["number"]
    follow_up = api.client.post(
        f"/api/v1/tickets/{number}/follow-ups", headers=api.headers("agent")
    ).json()
    integration, agent = api.headers("integration"), api.headers("agent")
    seen_by_integration = api.client.get(f"/api/v1/tickets/{number}", headers=integration).json()
    assert seen_by_integration["follow_ups"] == [follow_up["number"]]
    child = api.client.get(f"/api/v1/tickets/{follow_up['number']}", headers=integration).json()
    assert child["follow_up_of"]["number"] == number
    assert child["follow_ups"] == []
    seen_by_agent = api.client.get(f"/api/v1/tickets/{number}", headers=agent).json()
    assert seen_by_agent["follow_ups"] is None
    child = api.client.get(f"/api/v1/tickets/{follow_up['number']}", headers=agent).json()
    assert child["follow_up_of"]["number"] == number


def test_bulk_refuses_closed_tickets_one_by_one(api: Api) -> None:
    active, closed = api.create()["number"], api.closed_ticket()["number"]
    r = api.client.post(
        "/api/v1/tickets/bulk",
        json={"numbers": [active, closed, 10**9], "changes": {"priority": "high"}},
        headers=api.headers("supervisor"),
    )
    assert r.status_code == 200
    results = {x["number"]: x for x in r.json()["results"]}
    assert results[active]["ok"] is True
    assert "error" not in results[active]
    assert results[closed]["ok"] is False
    assert results[closed]["error"]["status"] == 409
    assert results[10**9]["error"]["status"] == 404


def test_bulk_close_is_refused_for_the_whole_request(api: Api) -> None:
    number = api.create()["number"]
    r = api.client.post(
        "/api/v1/tickets/bulk",
        json={"numbers": [number], "changes": {"status": "closed"}},
        headers=api.headers("admin"),
    )
    assert r.status_code == 403
    ticket = api.client.get(f"/api/v1/tickets/{number}", headers=api.headers("agent")).json()
    assert ticket["status"] == "new"


def test_if_match_stale_version_is_412(api: Api) -> None:
    ticket = api.create()
    number, version = ticket["number"], ticket["version"]
    agent = api.headers("agent")
    ok = api.client.patch(
        f"/api/v1/tickets/{number}",
        json={"priority": "high"},
        headers={**agent, "If-Match": f'"{version}"'},
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] == f'"{version + 1}"'
    stale = api.client.patch(
        f"/api/v1/tickets/{number}",
        json={"priority": "low"},
        headers={**agent, "If-Match": str(version)},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"


def test_idempotency_key_on_create(api: Api) -> None:
    agent = api.headers("agent")
    body = {"subject": "once", "requester": REQUESTER}
    first = api.client.post(
        "/api/v1/tickets", json=body, headers={**agent, "Idempotency-Key": "k1"}
    )
    again = api.client.post(
        "/api/v1/tickets", json=body, headers={**agent, "Idempotency-Key": "k1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert first.headers["location"] == again.headers["location"]
    other_caller = api.client.post(
        "/api/v1/tickets",
        json=body,
        headers={**api.headers("agent", email="zoe@example.com"), "Idempotency-Key": "k1"},
    )
    assert other_caller.json()["number"] != first.json()["number"]


def test_event_history_oldest_first(api: Api) -> None:
    number = api.create()["number"]
    agent = api.headers("agent")
    api.client.patch(f"/api/v1/tickets/{number}", json={"status": "solved"}, headers=agent)
    api.client.post(f"/api/v1/tickets/{number}/comments", json={"body": "hi"}, headers=agent)
    events = api.client.get(f"/api/v1/tickets/{number}/events", headers=agent).json()["events"]
    assert [e["event_type"] for e in events] == ["TicketCreated", "StatusChanged", "CommentAdded"]
    assert [e["version"] for e in events] == [1, 2, 3]
    assert events[1]["data"]["auto_close_due_at"] is not None


def test_requester_reply_reopens_pending(api: Api) -> None:
    number = api.create(status="pending")["number"]
    r = api.client.post(
        f"/helpcenter/v1/requests/{number}/comments",
        json={"body": "still broken"},
        headers=api.headers("requester"),
    )
    assert r.status_code == 201
    assert r.json()["status"] == "open"


def test_help_center_shows_closed_as_solved_read_only(api: Api) -> None:
    number = api.closed_ticket(cc=[CC])["number"]
    for email in (REQUESTER, CC):
        r = api.client.get(
            f"/helpcenter/v1/requests/{number}", headers=api.headers("requester", email=email)
        )
        assert r.status_code == 200
        body = r.json()
        assert (body["status"], body["read_only"], body["can_follow_up"]) == ("solved", True, True)
    r = api.client.post(
        f"/helpcenter/v1/requests/{number}/comments",
        json={"body": "hello?"},
        headers=api.headers("requester"),
    )
    assert r.status_code == 409
    assert r.json()["follow_up_url"] == f"/helpcenter/v1/requests/{number}/follow-ups"


def test_org_wide_requester_sees_history_but_cannot_follow_up(api: Api) -> None:
    org = api.organization("History Corp", domains=["history.example"])
    other = api.organization("Other Corp", domains=["other-history.example"])
    number = api.closed_ticket("ann@history.example")["number"]
    colleague = api.org_viewer("dora@history.example", org["id"])
    r = api.client.get(f"/helpcenter/v1/requests/{number}", headers=colleague)
    assert r.status_code == 200
    assert (r.json()["read_only"], r.json()["can_follow_up"]) == (True, False)
    listed = api.client.get("/helpcenter/v1/requests?limit=200", headers=colleague).json()
    assert number in {x["number"] for x in listed["requests"]}
    r = api.client.post(f"/helpcenter/v1/requests/{number}/follow-ups", headers=colleague)
    assert r.status_code == 403
    stranger = api.headers("requester", email="dora@history.example")
    assert api.client.get(f"/helpcenter/v1/requests/{number}", headers=stranger).status_code == 404
    other_org = api.org_viewer("eve@other-history.example", other["id"])
    assert api.client.get(f"/helpcenter/v1/requests/{number}", headers=other_org).status_code == 404


def test_settings_change_is_audited_and_bounded(api: Api) -> None:
    admin = api.headers("admin")
    assert (
        api.client.put(
            "/api/v1/settings/auto-close", json={"after_days": 0}, headers=admin
        ).status_code
        == 422
    )
    r = api.client.put("/api/v1/settings/auto-close", json={"after_days": 3}, headers=admin)
    assert r.json() == {"after_days": 3, "after_seconds": 3 * 86400}
    assert (
        api.client.get("/api/v1/settings/auto-close", headers=api.headers("agent")).json()[
            "after_days"
        ]
        == 3
    )
    api.client.put("/api/v1/settings/auto-close", json={"after_days": 7}, headers=admin)


def test_invalid_token_is_401(api: Api) -> None:
    from services.ticket_service.adapters.http.auth import mint_token

    forged = mint_token(
        "another-secret-another-secret-another", role="admin", email="x@example.com"
    )
    for headers in ({"Authorization": f"Bearer {forged}"}, {"Authorization": "Bearer junk"}, {}):
        r = api.client.get("/api/v1/views/all", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"


def test_health_needs_no_token(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}  # as docs/api.md says
    ready = api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["store"] == "ok"
