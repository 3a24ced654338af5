"""Schemathesis against the served API, with a valid token for each role: no 5xx, and
every response conforms to the documented schema, status and content type.

The schema is loaded eagerly from the app (schemathesis' lazy fixture loader does not work
with this pytest); the fixture checks that the server serves exactly that document."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from services.settings import Settings
from services.ticket_service.bootstrap import create_app
from tests.integration.http.conftest import Served
from tests.unit.http.api_client import EMAILS, SECRET

ROLES = ("agent", "supervisor", "admin", "owner", "integration", "requester")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.response_schema_conformance,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
]


DOCUMENT = create_app(Settings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def seeded(served: Served) -> Iterator[Served]:
    """The schema as served, after seeding an active, a solved and a closed ticket."""
    from services.ticket_service.adapters.http.auth import mint_token

    agent = {"Authorization": f"Bearer {mint_token(SECRET, role='agent', email=EMAILS['agent'])}"}
    integration = {
        "Authorization": f"Bearer {mint_token(SECRET, role='integration', email='i@example.com')}"
    }
    with httpx.Client(base_url=served.base_url) as client:
        for status in ("open", "solved", "new"):
            client.post(
                "/api/v1/tickets",
                json={"subject": "s", "requester": EMAILS["requester"], "status": status},
                headers=agent,
            ).raise_for_status()
        client.patch("/api/v1/tickets/3", json={"status": "closed"}, headers=integration)
        assert client.get("/openapi.json").json() == DOCUMENT
    yield served


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_for_every_role(case: schemathesis.Case, seeded: Served) -> None:
    from services.ticket_service.adapters.http.auth import mint_token

    for role in ROLES:
        token = mint_token(SECRET, role=role, email=EMAILS[role])
        case.call_and_validate(
            base_url=seeded.base_url,
            headers={"Authorization": f"Bearer {token}"},
            checks=CHECKS,
        )
