"""Every role x every endpoint x {active, closed, other requester's ticket}: the exact
status code of design §9. The table below is the whole specification of this test.

Ticket kinds: ``active`` and ``closed`` belong to the requester ann@example.com (the
requester role's token); ``other`` is an active ticket of bob@example.org. ``-`` rows take
no ticket; ``org`` is an organization. Each case runs on freshly created tickets (or a fresh
organization). Integrations may set ``closed`` (a no-op on a closed ticket) and edit the
integration-editable fields of a closed ticket; nobody reopens one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.unit.http.api_client import OTHER, Api

ROLES = ("agent", "supervisor", "admin", "owner", "integration", "requester")

MATRIX = """
operation              | kind   | agent | supervisor | admin | owner | integration | requester
create_ticket          | -      | 201   | 201        | 201   | 201   | 201         | 403
create_ticket_closed   | -      | 422   | 422        | 422   | 422   | 422         | 403
get_ticket             | active | 200   | 200        | 200   | 200   | 200         | 403
get_ticket             | closed | 200   | 200        | 200   | 200   | 200         | 403
get_ticket             | other  | 200   | 200        | 200   | 200   | 200         | 403
update_priority        | active | 200   | 200        | 200   | 200   | 200         | 403
update_priority        | closed | 409   | 409        | 409   | 409   | 200         | 403
update_priority        | other  | 200   | 200        | 200   | 200   | 200         | 403
update_subject         | closed | 409   | 409        | 409   | 409   | 409         | 403
set_closed             | active | 403   | 403        | 403   | 403   | 200         | 403
set_closed             | other  | 403   | 403        | 403   | 403   | 200         | 403
set_closed             | closed | 403   | 403        | 403   | 403   | 200         | 403
reopen                 | closed | 409   | 409        | 409   | 409   | 409         | 403
add_comment            | active | 201   | 201        | 201   | 201   | 201         | 403
add_comment            | closed | 409   | 409        | 409   | 409   | 409         | 403
add_comment            | other  | 201   | 201        | 201   | 201   | 201         | 403
create_follow_up       | active | 409   | 409        | 409   | 409   | 409         | 403
create_follow_up       | closed | 201   | 201        | 201   | 201   | 201         | 403
create_follow_up       | other  | 409   | 409        | 409   | 409   | 409         | 403
ticket_events          | active | 200   | 200        | 200   | 200   | 200         | 403
ticket_events          | closed | 200   | 200        | 200   | 200   | 200         | 403
ticket_events          | other  | 200   | 200        | 200   | 200   | 200         | 403
bulk_update            | active | 200   | 200        | 200   | 200   | 403         | 403
bulk_update            | closed | 200   | 200        | 200   | 200   | 403         | 403
bulk_set_closed        | active | 403   | 403        | 403   | 403   | 403         | 403
view_all               | -      | 200   | 200        | 200   | 200   | 403         | 403
view_closed            | -      | 200   | 200        | 200   | 200   | 403         | 403
get_auto_close         | -      | 200   | 200        | 200   | 200   | 403         | 403
put_auto_close         | -      | 403   | 403        | 200   | 200   | 403         | 403
put_auto_close_invalid | -      | 403   | 403        | 422   | 422   | 403         | 403
list_organizations     | -      | 200   | 200        | 200   | 200   | 403         | 403
get_organization       | org    | 200   | 200        | 200   | 200   | 403         | 403
create_organization    | -      | 403   | 403        | 201   | 201   | 403         | 403
create_org_free_mail   | -      | 403   | 403        | 422   | 422   | 403         | 403
update_organization    | org    | 403   | 403        | 200   | 200   | 403         | 403
delete_organization    | org    | 403   | 403        | 204   | 204   | 403         | 403
list_requests          | -      | 403   | 403        | 403   | 403   | 403         | 200
create_request         | -      | 403   | 403        | 403   | 403   | 403         | 201
get_request            | active | 403   | 403        | 403   | 403   | 403         | 200
get_request            | closed | 403   | 403        | 403   | 403   | 403         | 200
get_request            | other  | 403   | 403        | 403   | 403   | 403         | 404
comment_request        | active | 403   | 403        | 403   | 403   | 403         | 201
comment_request        | closed | 403   | 403        | 403   | 403   | 403         | 409
comment_request        | other  | 403   | 403        | 403   | 403   | 403         | 404
follow_up_request      | active | 403   | 403        | 403   | 403   | 403         | 409
follow_up_request      | closed | 403   | 403        | 403   | 403   | 403         | 201
follow_up_request      | other  | 403   | 403        | 403   | 403   | 403         | 404
ticket_original        | active | 404   | 404        | 404   | 404   | 404         | 403
ticket_attachment      | active | 404   | 404        | 404   | 404   | 404         | 403
comment_original       | active | 404   | 404        | 404   | 404   | 404         | 403
comment_attachment     | active | 404   | 404        | 404   | 404   | 404         | 403
request_attachment     | active | 403   | 403        | 403   | 403   | 403         | 404
request_attachment     | other  | 403   | 403        | 403   | 403   | 403         | 404
request_comment_attach | active | 403   | 403        | 403   | 403   | 403         | 404
request_comment_attach | other  | 403   | 403        | 403   | 403   | 403         | 404
list_dead_letters      | -      | 403   | 403        | 200   | 200   | 403         | 403
get_dead_letter        | -      | 403   | 403        | 404   | 404   | 403         | 403
retry_dead_letter      | -      | 403   | 403        | 404   | 404   | 403         | 403
purge_dead_letter      | -      | 403   | 403        | 404   | 404   | 403         | 403
create_webhook         | -      | 403   | 403        | 201   | 201   | 201         | 403
create_webhook_private | -      | 403   | 403        | 422   | 422   | 422         | 403
list_webhooks          | -      | 403   | 403        | 200   | 200   | 200         | 403
get_webhook            | -      | 403   | 403        | 404   | 404   | 404         | 403
update_webhook         | -      | 403   | 403        | 404   | 404   | 404         | 403
delete_webhook         | -      | 403   | 403        | 404   | 404   | 404         | 403
rotate_webhook_secret  | -      | 403   | 403        | 404   | 404   | 404         | 403
list_deliveries        | -      | 403   | 403        | 404   | 404   | 404         | 403
redeliver              | -      | 403   | 403        | 404   | 404   | 404         | 403
ping_webhook           | -      | 403   | 403        | 404   | 404   | 404         | 403
webhook_audit          | -      | 403   | 403        | 200   | 200   | 200         | 403
"""
# The mail downloads run on tickets that came from no mail, and the dead-letter routes on
# an id that names none: every caller allowed gets 404 (their content is tested in
# test_mail_downloads.py and the dead-letter tests).
COMMENT = "00000000-0000-4000-8000-000000000001"
ATTACHMENT = "a" * 64
# What each operation sends: (method, path, json body). {n} is the ticket's number.
REQUESTS: dict[str, tuple[str, str, Any]] = {
    "create_ticket": ("POST", "/api/v1/tickets", {"subject": "s", "requester": "x@example.com"}),
    "create_ticket_closed": (
        "POST",
        "/api/v1/tickets",
        {"subject": "s", "requester": "x@example.com", "status": "closed"},
    ),
    "get_ticket": ("GET", "/api/v1/tickets/{n}", None),
    "update_priority": ("PATCH", "/api/v1/tickets/{n}", {"priority": "high"}),
    "update_subject": ("PATCH", "/api/v1/tickets/{n}", {"subject": "changed"}),
    "set_closed": ("PATCH", "/api/v1/tickets/{n}", {"status": "closed"}),
    "reopen": ("PATCH", "/api/v1/tickets/{n}", {"status": "open"}),
    "add_comment": ("POST", "/api/v1/tickets/{n}/comments", {"body": "hello", "public": True}),
    "create_follow_up": ("POST", "/api/v1/tickets/{n}/follow-ups", {"body": "again"}),
    "ticket_events": ("GET", "/api/v1/tickets/{n}/events", None),
    "bulk_update": (
        "POST",
        "/api/v1/tickets/bulk",
        {"numbers": ["{n}"], "changes": {"priority": "high"}},
    ),
    "bulk_set_closed": (
        "POST",
        "/api/v1/tickets/bulk",
        {"numbers": ["{n}"], "changes": {"status": "closed"}},
    ),
    "view_all": ("GET", "/api/v1/views/all", None),
    "view_closed": ("GET", "/api/v1/views/closed", None),
    "get_auto_close": ("GET", "/api/v1/settings/auto-close", None),
    "put_auto_close": ("PUT", "/api/v1/settings/auto-close", {"after_days": 7}),
    "put_auto_close_invalid": ("PUT", "/api/v1/settings/auto-close", {"after_days": 29}),
    "list_organizations": ("GET", "/api/v1/organizations", None),
    "get_organization": ("GET", "/api/v1/organizations/{n}", None),
    "create_organization": ("POST", "/api/v1/organizations", {"name": "Matrix org"}),
    "create_org_free_mail": (
        "POST",
        "/api/v1/organizations",
        {"name": "Free", "domains": ["gmail.com"]},
    ),
    "update_organization": ("PATCH", "/api/v1/organizations/{n}", {"name": "Renamed"}),
    "delete_organization": ("DELETE", "/api/v1/organizations/{n}", None),
    "list_requests": ("GET", "/helpcenter/v1/requests", None),
    "create_request": ("POST", "/helpcenter/v1/requests", {"subject": "Help", "description": ""}),
    "get_request": ("GET", "/helpcenter/v1/requests/{n}", None),
    "comment_request": ("POST", "/helpcenter/v1/requests/{n}/comments", {"body": "thanks"}),
    "follow_up_request": ("POST", "/helpcenter/v1/requests/{n}/follow-ups", {"body": "again"}),
    "list_dead_letters": ("GET", "/api/v1/dead-letters", None),
    "get_dead_letter": ("GET", "/api/v1/dead-letters/{c}", None),
    "retry_dead_letter": ("POST", "/api/v1/dead-letters/{c}/retry", None),
    "purge_dead_letter": ("DELETE", "/api/v1/dead-letters/{c}", None),
    # A public address literal: no DNS look-up; the webhook routes run on an id naming none.
    "create_webhook": ("POST", "/api/v1/webhooks", {"url": "https://93.184.215.14/hook"}),
    "create_webhook_private": ("POST", "/api/v1/webhooks", {"url": "https://10.0.0.1/hook"}),
    "list_webhooks": ("GET", "/api/v1/webhooks", None),
    "get_webhook": ("GET", "/api/v1/webhooks/{c}", None),
    "update_webhook": ("PATCH", "/api/v1/webhooks/{c}", {"active": False}),
    "delete_webhook": ("DELETE", "/api/v1/webhooks/{c}", None),
    "rotate_webhook_secret": ("POST", "/api/v1/webhooks/{c}/rotate-secret", None),
    "list_deliveries": ("GET", "/api/v1/webhooks/{c}/deliveries", None),
    "redeliver": ("POST", "/api/v1/webhooks/{c}/deliveries/{a}/redeliver", None),
    "ping_webhook": ("POST", "/api/v1/webhooks/{c}/ping", None),
    "webhook_audit": ("GET", "/api/v1/webhooks/{c}/audit", None),
    "ticket_original": ("GET", "/api/v1/tickets/{n}/original", None),
    "ticket_attachment": ("GET", "/api/v1/tickets/{n}/attachments/{a}", None),
    "comment_original": ("GET", "/api/v1/tickets/{n}/comments/{c}/original", None),
    "comment_attachment": ("GET", "/api/v1/tickets/{n}/comments/{c}/attachments/{a}", None),
    "request_attachment": ("GET", "/helpcenter/v1/requests/{n}/attachments/{a}", None),
    "request_comment_attach": (
        "GET",
        "/helpcenter/v1/requests/{n}/comments/{c}/attachments/{a}",
        None,
    ),
}


def filled(path: str, number: int | str) -> str:
    return path.replace("{n}", str(number)).replace("{c}", COMMENT).replace("{a}", ATTACHMENT)


@dataclass(frozen=True)
class Case:
    operation: str
    kind: str
    role: str
    status: int

    def __str__(self) -> str:
        return f"{self.operation}-{self.kind}-{self.role}-{self.status}"


def cases() -> list[Case]:
    lines = [line for line in MATRIX.strip().splitlines()[1:] if line.strip()]
    result = []
    for line in lines:
        operation, kind, *codes = (cell.strip() for cell in line.split("|"))
        assert len(codes) == len(ROLES), line
        result += [
            Case(operation, kind, role, int(code)) for role, code in zip(ROLES, codes, strict=True)
        ]
    return result


def test_matrix_covers_every_endpoint() -> None:
    from fastapi.routing import APIRoute

    from services.ticket_service.adapters.http.app import API_ROUTERS
    from services.ticket_service.adapters.http.permissions import ROLE_TABLE

    covered = {REQUESTS[c.operation][0] + " " + REQUESTS[c.operation][1] for c in cases()}
    routes = {
        f"{method} {route.path}".replace("{number}", "{n}")
        .replace("{organization_id}", "{n}")
        .replace("{comment_id}", "{c}")
        .replace("{attachment_id}", "{a}")
        .replace("{dead_letter_id}", "{c}")
        .replace("{webhook_id}", "{c}")
        .replace("{delivery_id}", "{a}")
        for router in API_ROUTERS  # the app's own routes list nests them (FastAPI 0.13x)
        for route in router.routes
        if isinstance(route, APIRoute) and route.name in ROLE_TABLE
        for method in route.methods
    }
    assert len(routes) >= len(ROLE_TABLE)
    assert routes <= covered, routes - covered


def fill(value: Any, number: int | str) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, number) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, number) for v in value]
    return number if value == "{n}" else value


def target_for(api: Api, kind: str) -> int | str:
    """A ticket number, or an organization's id for ``org``."""
    if kind == "org":
        return str(api.organization("Matrix target")["id"])
    if kind == "active":
        return int(api.create()["number"])
    if kind == "closed":
        return int(api.closed_ticket()["number"])
    if kind == "other":
        return int(api.create(requester=OTHER)["number"])
    return 0


@pytest.mark.parametrize("case", cases(), ids=str)
def test_permission_matrix(api: Api, case: Case) -> None:
    method, path, body = REQUESTS[case.operation]
    number = target_for(api, case.kind)
    response = api.client.request(
        method,
        filled(path, number),
        json=fill(body, number),
        headers=api.headers(case.role),
    )
    assert response.status_code == case.status, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= response.json().keys()


@pytest.mark.parametrize("operation", sorted(REQUESTS))
def test_every_endpoint_wants_a_token(api: Api, operation: str) -> None:
    method, path, body = REQUESTS[operation]
    response = api.client.request(method, filled(path, 1), json=fill(body, 1))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
