"""The real server (uvicorn with the service's own options) names no server software."""

from __future__ import annotations

import httpx

from services.settings import Settings
from services.ticket_service.entrypoints.http import server_options
from tests.integration.http.conftest import Served


def test_answers_carry_no_server_banner(served: Served) -> None:
    with httpx.Client(base_url=served.base_url) as client:
        for path in ("/healthz", "/api/v1/tickets/1", "/nowhere"):
            response = client.get(path)
            assert "server" not in response.headers, (path, dict(response.headers))
            assert response.headers["x-content-type-options"] == "nosniff"


def test_the_entrypoint_starts_uvicorn_without_the_banner() -> None:
    assert server_options(Settings())["server_header"] is False
