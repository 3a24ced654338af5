"""The committed OpenAPI document (``docs/openapi.json``) matches the code."""

from __future__ import annotations

from pathlib import Path

from services.ticket_service.adapters.http.app import openapi_json

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_committed_openapi_is_current() -> None:
    assert DOC.read_text() == openapi_json(), "docs/openapi.json is stale: run `make openapi`"


def test_every_api_route_declares_bearer_auth() -> None:
    import json

    doc = json.loads(openapi_json())
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if path in {"/healthz", "/readyz"}:
                continue
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
