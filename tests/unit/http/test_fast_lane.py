"""The fast lane answers exactly as the routes do.

The same script of requests runs against two apps on fresh stores, one with the lane and
one without; every answer (status, headers, body with timestamps blanked) must be the same,
and the lane must have served the requests it is for — and only those.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.settings import Settings
from services.ticket_service.adapters.http.app import create_app
from services.ticket_service.adapters.http.fast_lane import FastLane
from tests.unit.http.api_client import SECRET, Api

Step = tuple[str, str, dict[str, Any] | str | None, dict[str, str]]

_TIMES = frozenset({"created_at", "updated_at", "solved_at", "closed_at", "at", "due_at"})
_HEADERS = (
    "content-type",
    "content-length",
    "location",
    "etag",
    "www-authenticate",
    "x-content-type-options",
    "cache-control",
)
"""Headers compared (the date and the generated correlation id differ by nature)."""


def _script(api: Api) -> list[tuple[Step, bool]]:
    """(request, served by the lane?) — the second number is created by the first step."""
    agent, integration = api.headers("agent"), api.headers("integration")
    requester = api.headers("requester")
    body = {"subject": "Printer on fire", "requester": "ann@example.com"}
    json_type = {"Content-Type": "application/json"}
    deep = '{"subject": "s", "requester": "ann@example.com", "custom_fields": %s}' % (
        "[" * 40 + "]" * 40
    )
    return [
        (("POST", "/api/v1/tickets", body, agent), True),
        (("POST", "/api/v1/tickets", body, {**agent, "Idempotency-Key": "k1"}), True),
        (("POST", "/api/v1/tickets", body, {**agent, "Idempotency-Key": "k1"}), True),
        (
            (
                "POST",
                "/api/v1/tickets",
                {**body, "tags": ["x"]},
                {**agent, "Idempotency-Key": "k1"},
            ),
            True,
        ),
        (("PATCH", "/api/v1/tickets/1", {"priority": "high"}, agent), True),
        (("PATCH", "/api/v1/tickets/1", {"tags": ["vip"]}, {**agent, "If-Match": '"2"'}), True),
        (("PATCH", "/api/v1/tickets/1", {"tags": []}, {**agent, "If-Match": '"2"'}), True),
        (("PATCH", "/api/v1/tickets/1", {"tags": []}, {**agent, "If-Match": "x"}), True),
        (("PATCH", "/api/v1/tickets/1", {"status": "closed"}, agent), True),
        (("PATCH", "/api/v1/tickets/2", {"status": "closed"}, integration), True),
        (("PATCH", "/api/v1/tickets/2", {"priority": "low"}, integration), True),
        (("PATCH", "/api/v1/tickets/2", {"status": "open"}, integration), True),
        (("PATCH", "/api/v1/tickets/2", {"subject": "New"}, agent), True),
        (("POST", "/api/v1/tickets", {**body, "status": "closed"}, agent), True),
        (("POST", "/api/v1/tickets", body, integration), True),
        (("PATCH", "/api/v1/tickets/99", {"priority": "low"}, agent), True),
        (("PATCH", "/api/v1/tickets/0", {"priority": "low"}, agent), False),
        (("PATCH", "/api/v1/tickets/1/", {"priority": "low"}, agent), False),
        (("POST", "/api/v1/tickets", {"subject": "No requester"}, agent), False),
        (("POST", "/api/v1/tickets", {**body, "priority": "soon"}, agent), False),
        (("POST", "/api/v1/tickets", "{not json", {**agent, **json_type}), False),
        (("POST", "/api/v1/tickets", deep, {**agent, **json_type}), False),
        (("PATCH", "/api/v1/tickets/1", "[" * 2000, {**agent, **json_type}), False),
        (("POST", "/api/v1/tickets", body, {**agent, "Idempotency-Key": "k" * 201}), False),
        (("POST", "/api/v1/tickets", body, {}), False),
        (("POST", "/api/v1/tickets", body, {"Authorization": "Bearer nonsense"}), False),
        (("POST", "/api/v1/tickets", body, {"Authorization": "Basic abc"}), False),
        (("POST", "/api/v1/tickets", body, requester), False),
        (("GET", "/api/v1/tickets/1", None, agent), False),
    ]


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    with (
        TestClient(_app(tmp_path / "lane", lane=True)) as with_lane,
        TestClient(_app(tmp_path / "routes", lane=False)) as without,
    ):
        yield (
            Api(with_lane, with_lane.app.state.services.settings),
            Api(without, without.app.state.services.settings),
        )


def _app(data_dir: Path, *, lane: bool) -> FastAPI:
    return create_app(Settings(data_dir=data_dir, jwt_secret=SECRET), fast_lane=lane)


def _lane(app: FastAPI) -> FastLane:
    node: Any = app.middleware_stack
    while not isinstance(node, FastLane):
        node = node.app
    return node


def _answer(api: Api, step: Step) -> tuple[int, dict[str, str], Any]:
    method, path, body, headers = step
    if isinstance(body, str):
        response = api.client.request(
            method, path, content=body, headers=headers, follow_redirects=False
        )
    else:
        response = api.client.request(
            method, path, json=body, headers=headers, follow_redirects=False
        )
    kept = {name: response.headers[name] for name in _HEADERS if name in response.headers}
    content = _blank_times(response.json()) if response.content else None
    return response.status_code, kept, content


def _blank_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<time>" if k in _TIMES else _blank_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_times(v) for v in value]
    return value


def test_the_lane_answers_as_the_routes_do(apps: tuple[Api, Api]) -> None:
    with_lane, without = apps
    lane = _lane(with_lane.client.app)  # type: ignore[arg-type]
    for step, served in _script(with_lane):
        before = lane.served
        expected = _answer(without, step)
        assert _answer(with_lane, step) == expected, step
        assert lane.served - before == int(served), step


def test_the_lane_serves_chunked_bodies_and_hands_them_on(apps: tuple[Api, Api]) -> None:
    with_lane, _ = apps
    headers = {**with_lane.headers("agent"), "Content-Type": "application/json"}

    def chunks(*parts: bytes) -> Iterator[bytes]:
        yield from parts

    ok = with_lane.client.post(
        "/api/v1/tickets",
        content=chunks(b'{"subject": "Split", ', b'"requester": "ann@example.com"}'),
        headers=headers,
    )
    assert ok.status_code == 201 and ok.json()["subject"] == "Split"
    refused = with_lane.client.post(
        "/api/v1/tickets", content=chunks(b'{"subject": ', b'"No requester"}'), headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "requester"]
