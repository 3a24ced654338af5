"""Every 409 hint names the caller's own API and the ticket's real number: a requester is
sent to the help-center endpoints, an agent or integration to the agent API; no hint
carries a literal ``{number}`` placeholder."""

from __future__ import annotations

from typing import Any

from tests.unit.http.api_client import REQUESTER, Api


def refused(api: Api, method: str, path: str, role: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.client.request(method, path, json=body, headers=api.headers(role))
    assert r.status_code == 409, (path, r.text)
    problem = dict(r.json())
    assert "{" not in problem.get("hint", ""), problem
    return problem


def test_a_follow_up_of_an_open_request_points_to_the_help_center_comment_endpoint(
    api: Api,
) -> None:
    number = api.create(status="open")["number"]
    problem = refused(
        api, "POST", f"/helpcenter/v1/requests/{number}/follow-ups", "requester", {"body": "x"}
    )
    assert problem["code"] == "not_closed"
    assert f"POST /helpcenter/v1/requests/{number}/comments" in problem["hint"]


def test_a_follow_up_of_an_open_ticket_points_to_the_agent_comment_endpoint(api: Api) -> None:
    number = api.create(status="open")["number"]
    problem = refused(api, "POST", f"/api/v1/tickets/{number}/follow-ups", "agent", {"body": "x"})
    assert f"POST /api/v1/tickets/{number}/comments" in problem["hint"]


def test_every_refusal_on_a_closed_ticket_names_the_callers_follow_up_endpoint(
    api: Api,
) -> None:
    number = api.closed_ticket(requester=REQUESTER)["number"]
    agent_url = f"POST /api/v1/tickets/{number}/follow-ups"
    for method, path, role, body in [
        ("POST", f"/api/v1/tickets/{number}/comments", "agent", {"body": "hi"}),
        ("POST", f"/api/v1/tickets/{number}/comments", "integration", {"body": "hi"}),
        ("PATCH", f"/api/v1/tickets/{number}", "agent", {"priority": "low"}),
        ("PATCH", f"/api/v1/tickets/{number}", "integration", {"status": "open"}),
        ("PATCH", f"/api/v1/tickets/{number}", "integration", {"subject": "new"}),
    ]:
        assert agent_url in refused(api, method, path, role, body)["hint"], (method, path, role)
    problem = refused(
        api, "POST", f"/helpcenter/v1/requests/{number}/comments", "requester", {"body": "hi"}
    )
    assert f"POST /helpcenter/v1/requests/{number}/follow-ups" in problem["hint"]
