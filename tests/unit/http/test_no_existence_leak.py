"""No existence leak in the help center: every route that names a request answers a ticket
that does not exist and one the caller may not see with the same status, headers and
body, but for the number asked for."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ticket_service.adapters.http import routes_helpcenter
from services.ticket_service.adapters.http.auth import mint_token
from tests.unit.http.api_client import CC, REQUESTER, SECRET, Api

PREFIX = "/helpcenter/v1/requests/{number}"

BODIES: dict[str, list[Any]] = {
    "get_request": [None],
    "comment_request": [{"body": "still broken"}, {"body": ""}, None],
    "follow_up_request": [{"body": "again"}, {}, None],
}
"""Bodies to send to each help-center route that names a request (valid and not)."""

CALLERS: dict[str, dict[str, Any]] = {
    "stranger": {"email": "stranger@example.org"},
    "no email": {"email": None, "sub": "someone"},
    "other organization, org-wide": {
        "email": "eve@other.example",
        "org": "other.example",
        "org_wide": True,
    },
    "same domain, not org-wide": {"email": "dora@example.com", "org": "example.com"},
}
"""Requesters who may not see the tickets made below (requester ann@, CC carl@)."""


def _headers(caller: str) -> dict[str, str]:
    token = mint_token(SECRET, role="requester", **CALLERS[caller])
    return {"Authorization": f"Bearer {token}"}


VARYING_HEADERS = {"content-length", "date", "x-request-id", "x-correlation-id"}


def numbered_routes() -> dict[str, set[str]]:
    return {
        route.name: route.methods or set()
        for route in routes_helpcenter.router.routes
        if isinstance(route, APIRoute) and route.path.startswith(PREFIX)
    }


def test_every_numbered_help_center_route_is_covered() -> None:
    assert set(numbered_routes()) == set(BODIES)


def _answer(
    api: Api, name: str, method: str, number: int, body: Any, headers: dict[str, str]
) -> tuple[int, dict[str, str], str]:
    path = {
        "get_request": f"/helpcenter/v1/requests/{number}",
        "comment_request": f"/helpcenter/v1/requests/{number}/comments",
        "follow_up_request": f"/helpcenter/v1/requests/{number}/follow-ups",
    }[name]
    r = api.client.request(method, path, json=body, headers=headers)
    kept = {k: v for k, v in r.headers.items() if k.lower() not in VARYING_HEADERS}
    return r.status_code, kept, re.sub(rf"(?<!\d){number}(?!\d)", "{n}", r.text)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(BODIES)),
    data=st.data(),
    caller=st.sampled_from(sorted(CALLERS)),
    closed=st.booleans(),
    key=st.sampled_from([None, "retry-1"]),
)
def test_a_hidden_request_answers_like_a_missing_one(
    api: Api, name: str, data: st.DataObject, caller: str, closed: bool, key: str | None
) -> None:
    body = data.draw(st.sampled_from(BODIES[name]), label="body")
    ticket = api.closed_ticket(cc=[CC]) if closed else api.create(cc=[CC])
    hidden = ticket["number"]
    missing = hidden + 1_000_000
    headers = _headers(caller)
    if key:
        headers["Idempotency-Key"] = key
    [method] = sorted(numbered_routes()[name])
    seen = _answer(api, name, method, hidden, body, headers)
    unseen = _answer(api, name, method, missing, body, headers)
    assert seen == unseen
    assert seen[0] in {404, 422}, seen


def test_the_requester_still_sees_their_request(api: Api) -> None:
    number = api.create(cc=[CC])["number"]
    for email in (REQUESTER, CC):
        r = api.client.get(
            f"/helpcenter/v1/requests/{number}", headers=api.headers("requester", email=email)
        )
        assert r.status_code == 200
