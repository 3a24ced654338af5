"""Every answer carries ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``:
successes and problems, FastAPI's routes and the fast lane, the API and the service's own
documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.settings import Settings
from services.ticket_service.bootstrap import create_app
from tests.unit.http.api_client import SECRET, Api


@pytest.fixture(scope="module")
def apps(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("headers")
    settings_ = Settings(data_dir=data_dir, jwt_secret=SECRET)
    with TestClient(create_app(settings_)) as client:
        yield Api(client, settings_)


def test_every_kind_of_answer_is_not_sniffed_nor_stored(apps: Api) -> None:
    agent = apps.headers("agent")
    body = {"subject": "s", "requester": "ann@example.com"}
    number = apps.create()["number"]
    answers = {
        "create (201)": apps.client.post("/api/v1/tickets", json=body, headers=agent),
        "update (200)": apps.client.patch(
            f"/api/v1/tickets/{number}", json={"priority": "low"}, headers=agent
        ),
        "refused update (403)": apps.client.patch(
            f"/api/v1/tickets/{number}", json={"status": "closed"}, headers=agent
        ),
        "get (200)": apps.client.get(f"/api/v1/tickets/{number}", headers=agent),
        "missing (404)": apps.client.get("/api/v1/tickets/999", headers=agent),
        "no token (401)": apps.client.get("/api/v1/tickets/1"),
        "invalid (422)": apps.client.post("/api/v1/tickets", json={}, headers=agent),
        "unparseable (400)": apps.client.post(
            "/api/v1/tickets", content=b"{", headers={**agent, "Content-Type": "application/json"}
        ),
        "no route (404)": apps.client.get("/nowhere"),
        "wrong method (405)": apps.client.delete("/api/v1/tickets"),
        "view (200)": apps.client.get("/api/v1/views/all", headers=agent),
        "health (200)": apps.client.get("/healthz"),
        "openapi (200)": apps.client.get("/openapi.json"),
        "metrics (200)": apps.client.get("/metrics"),
    }
    missing = {
        name: dict(r.headers)
        for name, r in answers.items()
        if r.headers.get("x-content-type-options") != "nosniff"
        or r.headers.get("cache-control") != "no-store"
        or r.headers.get_list("cache-control") != ["no-store"]
    }
    assert missing == {}
    assert "server" not in answers["get (200)"].headers
