"""Bodies above ``HELPDESK_MAX_BODY_BYTES`` are refused with 413 before any work: not read
whole, not parsed, no token checked (issue #12, item 6). Driven at the ASGI level against
the real app, so the test sees exactly how much of a body the app pulls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message

from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from services.ticket_service.bootstrap import create_app
from tests.unit.http.api_client import SECRET

LIMIT = 64 * 1024
CHUNK = 16 * 1024


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ASGIApp]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("limit"), jwt_secret=SECRET, max_body_bytes=LIMIT
    )
    application = create_app(settings)
    with TestClient(application):  # runs the lifespan
        yield application


class Body:
    """An ASGI ``receive`` that streams ``total`` bytes (None: without end), counting what
    the app pulled."""

    def __init__(self, total: int | None, chunk: int = CHUNK, data: bytes | None = None):
        self.total, self.chunk, self.data = total, chunk, data
        self.pulled = 0
        self.calls = 0

    async def __call__(self) -> Message:
        self.calls += 1
        if self.pulled > 50 * LIMIT:
            raise AssertionError(f"the app read on past {self.pulled} bytes")
        if self.data is not None:
            data, self.data = self.data, b""
            self.pulled += len(data)
            return {"type": "http.request", "body": data, "more_body": False}
        left = self.chunk if self.total is None else min(self.chunk, self.total - self.pulled)
        self.pulled += left
        more = self.total is None or self.pulled < self.total
        return {"type": "http.request", "body": b"x" * left, "more_body": more}


async def call(
    app: ASGIApp, method: str, path: str, body: Body, headers: dict[str, str]
) -> tuple[int, dict[str, str], Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "app": app,
    }
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, body, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, json.loads(payload) if payload else None


def token(role: str = "agent") -> str:
    return "Bearer " + mint_token(SECRET, role=role, email="alice@helpdesk.example.com")


ROUTES = [
    ("POST", "/api/v1/tickets"),
    ("PATCH", "/api/v1/tickets/1"),
    ("POST", "/api/v1/tickets/1/comments"),
    ("POST", "/api/v1/tickets/bulk"),
    ("PUT", "/api/v1/settings/auto-close"),
    ("POST", "/helpcenter/v1/requests/1/comments"),
    ("POST", "/no/such/route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "valid"])
async def test_an_endless_chunked_body_is_refused_after_the_limit(
    app: ASGIApp, method: str, path: str, authorization: str | None
) -> None:
    headers = {"content-type": "application/json", "transfer-encoding": "chunked"}
    if authorization:
        headers["authorization"] = token() if authorization == "valid" else authorization
    body = Body(total=None)  # never ends: reading it whole would never return

    status, response_headers, problem = await call(app, method, path, body, headers)

    assert status == 413
    assert response_headers["content-type"] == "application/problem+json"
    assert response_headers["connection"] == "close"
    assert problem["code"] == "body_too_large"
    assert problem["status"] == 413
    assert body.pulled <= LIMIT + CHUNK


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_a_declared_length_above_the_limit_is_refused_unread(
    app: ASGIApp, method: str, path: str
) -> None:
    body = Body(total=100 * 1024 * 1024)
    headers = {"content-type": "application/json", "content-length": str(100 * 1024 * 1024)}

    status, _, problem = await call(app, method, path, body, headers)

    assert (status, problem["code"]) == (413, "body_too_large")
    assert body.calls == 0


@settings(max_examples=30, deadline=None)
@given(size=st.integers(min_value=0, max_value=3 * LIMIT), chunk=st.sampled_from([1000, CHUNK]))
async def test_bodies_within_the_limit_reach_the_app_whole(
    app: ASGIApp, size: int, chunk: int
) -> None:
    """Below or at the limit the body is handed on unchanged (the app answers on its own:
    here 400 invalid_json for bytes that are no JSON, 422 for an empty body); above it,
    413 — chunked or not."""
    for chunked in (True, False):
        headers = {"content-type": "application/json", "authorization": token()}
        if chunked:
            headers["transfer-encoding"] = "chunked"
        else:
            headers["content-length"] = str(size)
        body = Body(total=size, chunk=chunk)
        status, _, problem = await call(app, "POST", "/api/v1/tickets", body, headers)
        if size > LIMIT:
            assert (status, problem["code"]) == (413, "body_too_large")
        else:
            expected = (422, "invalid_request") if size == 0 else (400, "invalid_json")
            assert (status, problem["code"]) == expected
            assert body.pulled == size


async def test_a_ticket_at_the_limit_is_created(app: ASGIApp) -> None:
    fields = {"subject": "Big", "requester": "ann@example.com"}
    padding = LIMIT - len(json.dumps({**fields, "description": ""}).encode())
    data = json.dumps({**fields, "description": "d" * padding}).encode()
    assert len(data) == LIMIT
    for chunked in (True, False):
        headers = {"content-type": "application/json", "authorization": token()}
        headers["transfer-encoding" if chunked else "content-length"] = (
            "chunked" if chunked else str(len(data))
        )
        status, _, created = await call(
            app, "POST", "/api/v1/tickets", Body(total=None, data=data), headers
        )
        assert status == 201, created
        assert len(created["description"]) == padding


def test_the_default_limit_is_one_mebibyte(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).max_body_bytes == 1024 * 1024
