"""The OpenAPI document declares the response headers the routes really send
(``Location``, ``ETag``, ``X-Correlation-ID``), and no declared header is missing from a
real answer."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.unit.http.api_client import REQUESTER, Api

DOCUMENTED = ("location", "etag", "x-correlation-id")


def operation_of(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The document's operation for this request (literal segments win over parameters)."""
    candidates = []
    for template, operations in document["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            candidates.append((template.count("{"), operations[method.lower()]))
    assert candidates, f"no operation for {method} {path}"
    return dict(min(candidates, key=lambda c: c[0])[1])


def exchanges(api: Api) -> list[httpx.Response]:
    agent, requester = api.headers("agent"), api.headers("requester", email=REQUESTER)
    created = api.client.post(
        "/api/v1/tickets", json={"subject": "s", "requester": REQUESTER}, headers=agent
    )
    number = created.json()["number"]
    closed = api.closed_ticket()["number"]
    return [
        created,
        api.client.get(f"/api/v1/tickets/{number}", headers=agent),
        api.client.patch(f"/api/v1/tickets/{number}", json={"priority": "low"}, headers=agent),
        api.client.post(f"/api/v1/tickets/{number}/comments", json={"body": "b"}, headers=agent),
        api.client.get(f"/api/v1/tickets/{number}/events", headers=agent),
        api.client.post(f"/api/v1/tickets/{closed}/follow-ups", json={}, headers=agent),
        api.client.post(
            f"/helpcenter/v1/requests/{closed}/follow-ups", json={"body": "x"}, headers=requester
        ),
        api.client.get("/helpcenter/v1/requests", headers=requester),
        api.client.get(f"/helpcenter/v1/requests/{number}", headers=requester),
        api.client.get("/api/v1/views/all", headers=agent),
        api.client.get("/api/v1/settings/auto-close", headers=agent),
        api.client.get("/api/v1/dead-letters", headers=api.headers("admin")),
        api.client.get("/healthz"),
        api.client.get("/readyz"),
        api.client.get(f"/api/v1/tickets/{number + 1000}", headers=agent),
    ]


def test_every_header_a_route_sends_is_declared_and_every_declared_one_is_sent(
    api: Api,
) -> None:
    document = api.client.get("/openapi.json").json()
    for response in exchanges(api):
        request = response.request
        operation = operation_of(document, request.method, request.url.path)
        name = operation["operationId"]
        sent = {header for header in DOCUMENTED if header in response.headers}
        assert "x-correlation-id" in sent, name
        spec = operation["responses"][str(response.status_code)]
        promised = {header.lower() for header in spec.get("headers", {})}
        assert sent == promised & set(DOCUMENTED), (name, response.status_code)
