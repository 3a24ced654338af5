"""A small client for the HTTP API tests: tokens per role and ticket set-up helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
REQUESTER = "ann@example.com"
CC = "carl@example.com"
OTHER = "bob@example.org"
EMAILS = {
    "agent": "alice@helpdesk.example.com",
    "supervisor": "sue@helpdesk.example.com",
    "admin": "adam@helpdesk.example.com",
    "owner": "olga@helpdesk.example.com",
    "integration": "crm@integrations.example.com",
    "requester": REQUESTER,
}


@dataclass
class Api:
    client: TestClient
    settings: Settings

    def headers(self, role: str, email: str | None = None, **claims: Any) -> dict[str, str]:
        token = mint_token(SECRET, role=role, email=email or EMAILS[role], **claims)
        return {"Authorization": f"Bearer {token}"}

    def create(self, requester: str = REQUESTER, **fields: Any) -> dict[str, Any]:
        body = {"subject": "Printer on fire", "description": "Smoke!", "requester": requester}
        r = self.client.post(
            "/api/v1/tickets", json={**body, **fields}, headers=self.headers("agent")
        )
        assert r.status_code == 201, r.text
        return r.json()

    def organization(
        self, name: str, *, members: list[str] | None = None, domains: list[str] | None = None
    ) -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/organizations",
            json={"name": name, "members": members or [], "domains": domains or []},
            headers=self.headers("admin"),
        )
        assert r.status_code == 201, r.text
        return r.json()

    def org_viewer(self, email: str, organization_id: str) -> dict[str, str]:
        """An org-wide requester token naming the organization's id."""
        return self.headers("requester", email=email, org=organization_id, org_wide=True)

    def close(self, number: int) -> dict[str, Any]:
        r = self.client.patch(
            f"/api/v1/tickets/{number}",
            json={"status": "closed"},
            headers=self.headers("integration"),
        )
        assert r.status_code == 200, r.text
        return r.json()

    def closed_ticket(self, requester: str = REQUESTER, **fields: Any) -> dict[str, Any]:
        return self.close(self.create(requester, **fields)["number"])
