"""Schemathesis in stateful mode: scenarios that follow the OpenAPI links (create → get →
change → comment → follow-up; a view's or the help center's first row → that ticket or
request) against the served API, once per role, bounded. Every answer must be no server
error and conform to the documented schema, status and content type.

The number of requests each role's run made is printed (``-s``) and written to
``var/schemathesis-stateful.json`` for the record."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi import checks as openapi_checks

from contracts.common import Role
from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from services.ticket_service.adapters.http.permissions import ROLE_TABLE
from services.ticket_service.bootstrap import create_app
from tests.integration.http.conftest import Served, serve
from tests.unit.http.api_client import EMAILS, SECRET

ROLES = ("agent", "supervisor", "admin", "owner", "integration", "requester")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.response_schema_conformance,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
]
BOUNDS = settings(
    max_examples=20,
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
"""At most 20 scenarios of at most 8 requests per role."""
TICKET_ROUTES = r"^/(api/v1/(tickets|views)|helpcenter/)"
DOWNLOADS = frozenset({"get_comment_original", "get_comment_attachment", "get_request_attachment"})
"""Byte downloads of email comments (none exist here): links inferred to them from comment
ids made generation depend on server state (hypothesis FlakyStrategyDefinition); the
stateless run (test_schemathesis.py) and tests/unit/http/test_mail_downloads.py cover them."""
RECORD = Path("var/schemathesis-stateful.json")

DOCUMENT = create_app(Settings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def _token(role: str) -> str:
    return mint_token(SECRET, role=role, email=EMAILS[role])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A served API with the requester's tickets in every state the links lead to: active,
    solved and closed (closed ones take follow-ups)."""
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("stateful"), jwt_secret=SECRET)
    for served in serve(settings_):
        agent = {"Authorization": f"Bearer {_token('agent')}"}
        integration = {"Authorization": f"Bearer {_token('integration')}"}
        with httpx.Client(base_url=served.base_url) as client:
            for status in ("open", "solved", "new", "pending", "new"):
                client.post(
                    "/api/v1/tickets",
                    json={"subject": "s", "requester": EMAILS["requester"], "status": status},
                    headers=agent,
                ).raise_for_status()
            for number in (3, 5):
                client.patch(
                    f"/api/v1/tickets/{number}", json={"status": "closed"}, headers=integration
                ).raise_for_status()
            assert client.get("/openapi.json").json() == DOCUMENT
        yield served


def test_the_document_links_the_ticket_routes() -> None:
    links = DOCUMENT["paths"]["/api/v1/tickets"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} >= {
        "get_ticket",
        "update_ticket",
        "add_comment",
        "create_follow_up",
    }


@pytest.mark.parametrize("role", ROLES)
def test_stateful_scenarios_for_every_role(role: str, seeded: Served) -> None:
    headers = {"Authorization": f"Bearer {_token(role)}"}
    answers: Counter[tuple[str, int]] = Counter()

    # the operations the role table lets this role call: scenarios are spent on real work,
    # not on 403s (the permission matrix covers those)
    # and only the ticket routes the links join (organizations, dead letters, ... have their
    # own tests; their server-side state would make generation depend on run order)
    allowed = [
        operation["operationId"]
        for path, item in DOCUMENT["paths"].items()
        if re.match(TICKET_ROUTES, path)
        for operation in item.values()
        if Role(role) in ROLE_TABLE.get(operation["operationId"], ())
        and operation["operationId"] not in DOWNLOADS
    ]
    role_schema = schema.include(operation_id=allowed)

    class Scenarios(role_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            answers[("scenarios", 0)] += 1

        def before_call(self, case: schemathesis.Case) -> None:
            # the role's own token, not a generated Authorization header
            case.headers = {**(case.headers or {}), **headers}

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": seeded.base_url, "headers": headers}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            answers[(case.operation.label, response.status_code)] += 1
            case.validate_response(
                response,
                checks=CHECKS,
                headers=headers,
                transport_kwargs=kwargs.get("transport_kwargs") or None,
                recorder=self.recorder,
            )

    Scenarios.run(settings=BOUNDS)
    scenarios = answers.pop(("scenarios", 0))
    total = sum(answers.values())
    print(f"\n{role}: {scenarios} scenarios, {total} requests; {dict(sorted(answers.items()))}")
    _record(role, scenarios, total, answers)
    assert scenarios >= BOUNDS.max_examples and total >= 2 * scenarios
    linked = {label for (label, status), _ in answers.items() if status < 400}
    if role == "requester":
        assert {"GET /helpcenter/v1/requests/{number}"} <= linked
    else:
        assert {"GET /api/v1/tickets/{number}"} <= linked


def _record(role: str, scenarios: int, total: int, answers: Counter[tuple[str, int]]) -> None:
    RECORD.parent.mkdir(exist_ok=True)
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    record[role] = {
        "scenarios": scenarios,
        "requests": total,
        "answers": {f"{label} → {status}": n for (label, status), n in sorted(answers.items())},
    }
    RECORD.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
