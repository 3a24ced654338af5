"""Strict types on the public API: every integer, boolean and string of every JSON request
body of the OpenAPI document refuses the JSON values of other types that lax validation
would coerce (``"7"`` or ``true`` for an integer, ``0`` or ``"true"`` for a boolean, a
number for a string), on both paths into the routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.settings import Settings
from services.ticket_service.bootstrap import create_app
from tests.unit.http.api_client import SECRET, Api
from tests.unit.http.route_callers import allowed_role, filled_path

WRONG: dict[str, list[Any]] = {
    "integer": ["7", True, 7.0, 7.5],
    "boolean": [0, 1, "true", "false", None],
    "string": [7, True, ["x"]],
}
"""Values of another JSON type, per schema type, that must be refused."""


@pytest.fixture(scope="module")
def apps(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("strict")
    settings_ = Settings(data_dir=data_dir, jwt_secret=SECRET)
    with TestClient(create_app(settings_)) as client:
        api = Api(client, settings_)
        api.create()
        yield api


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _types(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """The JSON types a property schema accepts (``anyOf`` included; ``null`` left out)."""
    schema = _resolve(document, schema)
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
    for option in schema.get("anyOf", []):
        found |= _types(document, option)
    return found - {"null"}


def _typed_fields(document: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    """(method, path, role, field, wrong value) for every scalar field of every JSON body
    (and the items of array fields, as ``field[]``)."""
    cases = []
    for template, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body = _resolve(document, content["application/json"]["schema"])
            role = allowed_role(operation["operationId"])
            path = filled_path(template)
            for field, schema in body.get("properties", {}).items():
                targets = [(field, _types(document, schema))]
                resolved = _resolve(document, schema)
                for option in [resolved, *resolved.get("anyOf", [])]:
                    if "items" in option:
                        targets.append((f"{field}[]", _types(document, option["items"])))
                for name, types in targets:
                    for json_type in types & WRONG.keys():
                        for wrong in WRONG[json_type]:
                            if any(_fits(wrong, t) for t in types):
                                continue
                            cases.append((method.upper(), path, role, name, wrong))
    return cases


def _fits(value: Any, json_type: str) -> bool:
    """Whether ``value`` is of JSON type ``json_type`` (then it is no wrong value for it)."""
    if json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "string":
        return isinstance(value, str)
    return False


def test_every_typed_field_refuses_values_of_another_type(apps: Api) -> None:
    document = apps.client.app.openapi()  # type: ignore[attr-defined]
    cases = _typed_fields(document)
    fields = {(path, field) for _, path, _, field, _ in cases}
    assert ("/api/v1/tickets/1/comments", "public") in fields
    assert ("/api/v1/settings/auto-close", "after_days") in fields
    assert ("/api/v1/tickets/bulk", "numbers[]") in fields
    accepted = []
    for method, path, role, field, wrong in cases:
        name = field.removesuffix("[]")
        value = [wrong] if field.endswith("[]") else wrong
        r = apps.client.request(method, path, json={name: value}, headers=apps.headers(role))
        errors = r.json().get("errors", []) if r.status_code == 422 else []
        if not any(e["loc"][:2] == ["body", name] and e["type"] != "missing" for e in errors):
            accepted.append((method, path, field, wrong, r.status_code))
    assert accepted == []


@pytest.mark.parametrize(
    ("method", "path", "role", "body"),
    [
        ("POST", "/api/v1/tickets/1/comments", "agent", {"body": "x", "public": 0}),
        ("PUT", "/api/v1/settings/auto-close", "admin", {"after_days": True}),
        ("PUT", "/api/v1/settings/auto-close", "admin", {"after_days": "7"}),
        ("POST", "/api/v1/tickets/bulk", "agent", {"numbers": ["1"], "changes": {}}),
    ],
)
def test_the_examples_of_the_issue_are_422(
    apps: Api, method: str, path: str, role: str, body: dict[str, Any]
) -> None:
    r = apps.client.request(method, path, json=body, headers=apps.headers(role))
    assert r.status_code == 422, r.text


def test_json_natural_forms_stay_accepted(apps: Api) -> None:
    """Enums are strings in JSON; strictness does not refuse them."""
    created = apps.client.post(
        "/api/v1/tickets",
        json={"subject": "s", "requester": "ann@example.com", "status": "open", "priority": "high"},
        headers=apps.headers("agent"),
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    bulk = apps.client.post(
        "/api/v1/tickets/bulk",
        json={"numbers": [number], "changes": {"status": "pending"}},
        headers=apps.headers("agent"),
    )
    assert bulk.status_code == 200 and bulk.json()["results"][0]["ok"], bulk.text
    put = apps.client.put(
        "/api/v1/settings/auto-close", json={"after_days": 7}, headers=apps.headers("admin")
    )
    assert put.status_code == 200, put.text
