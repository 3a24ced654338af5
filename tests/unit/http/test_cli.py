"""``helpdesk token``, ``helpdesk openapi`` and ``helpdesk replay projections``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts import Actor, TicketFields
from services.cli import app as cli
from services.settings import Settings, get_settings
from services.ticket_service.adapters.http.auth import decode_token
from services.ticket_service.adapters.read_models.projector import TicketViews
from services.ticket_service.application.context import RequestContext
from services.ticket_service.bootstrap import build_application
from tests.unit.http.api_client import SECRET


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("HELPDESK_JWT_SECRET", SECRET)
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HELPDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_token(env: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "token",
            "--role",
            "requester",
            "--email",
            "ann@example.com",
            "--org",
            "example.com",
            "--org-wide",
        ],
    )
    assert result.exit_code == 0, result.output
    claims = decode_token(result.output.strip(), SECRET)
    assert (claims.role, claims.email, claims.org, claims.org_wide) == (
        "requester",
        "ann@example.com",
        "example.com",
        True,
    )
    bad = CliRunner().invoke(cli, ["token", "--role", "automation", "--email", "x@example.com"])
    assert bad.exit_code != 0


def test_openapi(env: Path) -> None:
    result = CliRunner().invoke(cli, ["openapi"])
    assert result.exit_code == 0
    assert "/api/v1/tickets/{number}/follow-ups" in json.loads(result.output)["paths"]


def test_replay_projections_reports_changes(env: Path) -> None:
    app = build_application(Settings(data_dir=env))
    ctx = RequestContext(actor=Actor(role="agent", email="alice@example.com"))
    for _ in range(3):
        app.create_ticket(
            TicketFields(subject="s", requester="ann@example.com"), ctx, channel="agent"
        )
    views = TicketViews(app)
    views.catch_up()
    with views.tables.transaction() as cur:
        cur.execute("DELETE FROM helpdesk_view_tickets WHERE number = 2")
    app.close()

    result = CliRunner().invoke(cli, ["replay", "projections"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["tickets"], report["added"], report["unchanged"]) == (3, [2], False)
    again = json.loads(CliRunner().invoke(cli, ["replay", "projections"]).output)
    assert again["unchanged"] is True
