"""Response headers in the OpenAPI document: FastAPI documents bodies, not headers, so the
headers the routes set are declared here and added to the generated document.

Every response carries ``X-Correlation-ID`` (the middleware); the routes that return one
ticket carry its ``ETag`` (its version, for ``If-Match``); creations answer ``Location``.
``tests/unit/http/test_openapi_headers.py`` checks that every header a route really sends
is declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HEADERS: Mapping[str, dict[str, Any]] = {
    "X-Correlation-ID": {
        "description": "The request's X-Correlation-ID (or X-Request-ID) when given, else a "
        "new id; carried by every event the request causes and by its log lines.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'The ticket\'s version, quoted ("7"): send it back as If-Match to '
        "update only that version (412 otherwise).",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "Where the created ticket (or request) is read.",
        "schema": {"type": "string"},
    },
}

ROUTE_HEADERS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("create_ticket", "201"): ("Location", "ETag"),
    ("get_ticket", "200"): ("ETag",),
    ("update_ticket", "200"): ("ETag",),
    ("create_follow_up", "201"): ("Location", "ETag"),
    ("follow_up_request", "201"): ("Location",),
}
EVERY_RESPONSE = ("X-Correlation-ID",)


def declare_response_headers(document: dict[str, Any]) -> dict[str, Any]:
    """Add the response headers to ``document`` (an OpenAPI dict, changed in place): each
    described once under ``components.headers``, referenced from the responses."""
    document.setdefault("components", {})["headers"] = dict(HEADERS)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            name = operation.get("operationId", "")
            for status, response in operation["responses"].items():
                names = (*ROUTE_HEADERS.get((name, status), ()), *EVERY_RESPONSE)
                headers = response.setdefault("headers", {})
                for header in names:
                    headers[header] = {"$ref": f"#/components/headers/{header}"}
    return document
