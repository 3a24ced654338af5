"""OpenAPI links of the agent, integration and help-center APIs: which answer feeds which
request (a created ticket's number → get, change, comment, follow up; a page's first row →
that ticket). Clients and stateful API testers (schemathesis) follow them; the document
served at ``/openapi.json`` and committed as ``docs/openapi.json`` carries them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Source = tuple[str, str, str]
"""(operationId, status, JSON pointer of the ticket number in that answer)."""

TICKET_ROUTES = ("get_ticket", "update_ticket", "add_comment", "create_follow_up", "ticket_events")
REQUEST_ROUTES = ("get_request", "comment_request", "follow_up_request")

LINKS: Mapping[Source, tuple[str, ...]] = {
    ("create_ticket", "201", "/number"): TICKET_ROUTES,
    ("get_ticket", "200", "/number"): TICKET_ROUTES,
    ("update_ticket", "200", "/number"): TICKET_ROUTES,
    ("add_comment", "201", "/number"): TICKET_ROUTES,
    ("create_follow_up", "201", "/number"): TICKET_ROUTES,
    ("view_all", "200", "/tickets/0/number"): TICKET_ROUTES,
    ("view_closed", "200", "/tickets/0/number"): TICKET_ROUTES,
    ("list_requests", "200", "/requests/0/number"): REQUEST_ROUTES,
    ("get_request", "200", "/number"): REQUEST_ROUTES,
    ("comment_request", "201", "/number"): REQUEST_ROUTES,
    ("follow_up_request", "201", "/number"): REQUEST_ROUTES,
}


def link_name(operation_id: str) -> str:
    return "".join(part.capitalize() for part in operation_id.split("_"))


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the links of :data:`LINKS` in its responses (in place)."""
    operations = {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for (source, status, pointer), targets in LINKS.items():
        response = operations[source]["responses"][status]
        response["links"] = {
            link_name(target): {
                "operationId": target,
                "parameters": {"number": f"$response.body#{pointer}"},
                "description": f"The ticket's number from this answer, for {target}.",
            }
            for target in targets
        }
    return document
