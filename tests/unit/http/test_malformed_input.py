"""No 500 from input: numbers in request text are ASCII digits, bodies are JSON of a sane
depth, and what is not is a 4xx problem document — on every route that reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.settings import Settings
from services.ticket_service.adapters.http import json_body
from services.ticket_service.adapters.http.numerals import ascii_number
from services.ticket_service.bootstrap import create_app
from tests.unit.http.api_client import SECRET, Api
from tests.unit.http.route_callers import allowed_role, filled_path

BOUNDED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LATIN_1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"))
"""What an HTTP header value can carry (servers decode header bytes as latin-1)."""


@pytest.fixture(scope="module")
def apps(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app, with one ticket of each kind the routes
    need: #1 active, #2 closed (requester ann@example.com)."""
    data_dir: Path = tmp_path_factory.mktemp("malformed")
    settings_ = Settings(data_dir=data_dir, jwt_secret=SECRET)
    with TestClient(create_app(settings_)) as client:
        api = Api(client, settings_)
        api.create()
        api.closed_ticket()
        yield api


@given(text=st.text(max_size=25))
@example(text="¹")
@example(text="\u0661")
@example(text="1" * 19)
@BOUNDED
def test_ascii_number_reads_ascii_digits_only(text: str) -> None:
    number = ascii_number(text)
    if text.isascii() and text.isdigit() and len(text) <= 18:
        assert number == int(text)
    else:
        assert number is None


CURSOR_VIEWS = (
    ("/api/v1/views/all", "agent"),
    ("/api/v1/views/closed", "agent"),
    ("/helpcenter/v1/requests", "requester"),
)


@given(cursor=st.text(max_size=40))
@example(cursor="¹")
@example(cursor="\u0661")
@example(cursor="²³")
@BOUNDED
def test_any_cursor_is_a_page_or_a_422(apps: Api, cursor: str) -> None:
    for path, role in CURSOR_VIEWS:
        r = apps.client.get(path, params={"cursor": cursor}, headers=apps.headers(role))
        if cursor == "" or (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
            assert r.status_code == 200, (path, cursor, r.text)
        else:
            assert r.status_code == 422, (path, cursor, r.text)
            assert r.json()["code"] == "invalid_cursor"


@given(value=LATIN_1)
@example(value='"¹"')
@example(value="¹")
@example(value='W/"²"')
@BOUNDED
def test_any_if_match_is_an_answer_not_an_error(apps: Api, value: str) -> None:
    headers = {**apps.headers("agent"), "If-Match": value.encode("latin-1")}
    r = apps.client.patch("/api/v1/tickets/1", json={"tags": []}, headers=headers)  # type: ignore[dict-item]
    raw = value.strip().removeprefix("W/").strip('"')
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        assert r.status_code in (200, 412), (value, r.text)
    else:
        assert r.status_code == 422, (value, r.text)
        assert r.headers["content-type"] == "application/problem+json"


def _json_body_routes(api: Api) -> list[tuple[str, str, str]]:
    """(method, path, role) of every operation of the OpenAPI document that takes a JSON
    body, with its path parameter set to a ticket it may use and a role allowed to."""
    routes = []
    for template, item in api.client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method, operation in item.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            number = "2" if operation["operationId"].startswith("follow_up") else "1"
            number = "2" if operation["operationId"] == "create_follow_up" else number
            role = allowed_role(operation["operationId"])
            path = filled_path(template, number)
            routes.append((method.upper(), path, role))
    return routes


def nested(depth: int) -> Any:
    """A JSON value of ``depth`` levels of arrays."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _body_at_depth(depth: int) -> bytes:
    """A create body that is ``depth`` levels deep (the body object is level 1)."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return b'{"subject": "Deep", "requester": "ann@example.com", "custom_fields": {"a": %s}}' % (
        inner.encode()
    )


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"subject": ', b"\xff\xfe", b"[" * 40 + b"]" * 40, b"[" * 5000, b"{}" * 3],
    ids=["garbage", "truncated", "not utf-8", "too deep", "recursion", "two documents"],
)
def test_unparseable_or_too_deep_json_is_400_on_every_json_route(apps: Api, body: bytes) -> None:
    routes = _json_body_routes(apps)
    assert len(routes) >= 8
    for method, path, role in routes:
        headers = {**apps.headers(role), "Content-Type": "application/json"}
        r = apps.client.request(method, path, content=body, headers=headers)
        assert r.status_code == 400, (method, path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "invalid_json"


def test_the_depth_limit_is_the_documented_one(apps: Api) -> None:
    headers = {**apps.headers("agent"), "Content-Type": "application/json"}
    at_limit = apps.client.post(
        "/api/v1/tickets", content=_body_at_depth(json_body.MAX_DEPTH), headers=headers
    )
    # the parser takes it; the contract's own, smaller limit on custom_fields answers
    assert at_limit.status_code == 422, at_limit.text
    assert "custom_fields nests deeper than" in at_limit.text
    beyond = apps.client.post(
        "/api/v1/tickets", content=_body_at_depth(json_body.MAX_DEPTH + 1), headers=headers
    )
    assert beyond.status_code == 400 and "deeper than 32" in beyond.json()["detail"]
    patch = apps.client.patch(
        "/api/v1/tickets/1",
        json={"custom_fields": {"a": nested(json_body.MAX_DEPTH)}},
        headers=headers,
    )
    assert patch.status_code == 400, patch.text


@given(depth=st.integers(min_value=1, max_value=80), brackets_in_strings=st.booleans())
@settings(max_examples=60, deadline=None)
def test_parse_refuses_exactly_the_documents_deeper_than_the_limit(
    depth: int, brackets_in_strings: bool
) -> None:
    document: Any = {"text": "[[[[{{{{" * 10} if brackets_in_strings else {}
    document["nested"] = nested(depth - 1) if depth > 1 else None
    raw = json_body.json.dumps(document).encode()
    if depth <= json_body.MAX_DEPTH:
        assert json_body.parse(raw) == document
    else:
        with pytest.raises(json_body.json.JSONDecodeError):
            json_body.parse(raw)
