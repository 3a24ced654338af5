"""The JWT secret: the HTTP service refuses to start with the built-in one (or a short one);
the local stack makes a random secret per data directory, which ``helpdesk token`` uses
when no secret is configured."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.cli import app as cli
from services.local_jwt_secret import local_secret, secret_path, stack_secret
from services.settings import BUILTIN_JWT_SECRET, BUILTIN_JWT_SECRETS, Settings, get_settings
from services.ticket_service.adapters.http.auth import (
    InsecureTokenSettings,
    TokenPolicy,
    decode_token,
)
from services.ticket_service.bootstrap import create_app
from services.ticket_service.entrypoints.http import refuse_insecure_tokens
from tests.unit.http.api_client import SECRET

INSECURE: list[dict[str, object]] = [
    *({"jwt_secret": s} for s in sorted(BUILTIN_JWT_SECRETS)),
    {"jwt_secret": "short-secret"},
    {"jwt_secret": SECRET, "jwt_secrets": {"old": BUILTIN_JWT_SECRET}},
    {"jwt_secret": SECRET, "jwt_secrets": {"old": "tiny"}},
]


@pytest.mark.parametrize("insecure", INSECURE)
def test_the_http_service_refuses_to_start_with_an_insecure_secret(
    tmp_path: Path, insecure: dict[str, object]
) -> None:
    settings = Settings(data_dir=tmp_path, **insecure)  # type: ignore[arg-type]
    with pytest.raises(InsecureTokenSettings), TestClient(create_app(settings)):
        pass
    with pytest.raises(SystemExit, match="refusing to serve"):
        refuse_insecure_tokens(settings)


def test_the_default_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="built-in development secret"):
        refuse_insecure_tokens(Settings(data_dir=tmp_path))


def test_the_openapi_document_needs_no_secret() -> None:
    assert create_app(Settings()).openapi()["info"]["title"]


def test_a_secret_of_our_own_is_served_with(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, jwt_secrets={"k2": SECRET[::-1]})
    refuse_insecure_tokens(settings)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200


# ---- the local stack's secret ------------------------------------------------------------


def test_the_local_stack_makes_one_private_secret_per_data_directory(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    made = local_secret(first)
    assert local_secret(first) == made
    assert local_secret(second) != made
    assert stat.S_IMODE(secret_path(first).stat().st_mode) == 0o600
    TokenPolicy(primary=made).require_secure()
    assert made not in BUILTIN_JWT_SECRETS


def test_a_loosened_secret_file_is_made_private_again(tmp_path: Path) -> None:
    local_secret(tmp_path)
    secret_path(tmp_path).chmod(0o644)
    local_secret(tmp_path)
    assert stat.S_IMODE(secret_path(tmp_path).stat().st_mode) == 0o600


def test_a_configured_secret_wins_over_the_local_one(tmp_path: Path) -> None:
    assert stack_secret(Settings(data_dir=tmp_path, jwt_secret=SECRET)) == SECRET
    assert not secret_path(tmp_path).exists()
    assert stack_secret(Settings(data_dir=tmp_path)) == local_secret(tmp_path)


# ---- helpdesk token --------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("HELPDESK_JWT_SECRET", "HELPDESK_JWT_SECRETS", "HELPDESK_JWT_MAX_LIFETIME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def mint(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["token", "--role", "agent", "--email", "a@x.com", *args])
    return result.exit_code, result.output.strip()


def test_the_cli_signs_with_the_local_stack_secret(data_dir: Path) -> None:
    secret = local_secret(data_dir)
    code, token = mint()
    assert code == 0, token
    assert decode_token(token, secret).email == "a@x.com"


def test_the_cli_refuses_without_a_secret(data_dir: Path) -> None:
    code, output = mint()
    assert code == 2
    assert "HELPDESK_JWT_SECRET" in output


def test_the_cli_mints_within_the_lifetime_and_with_a_kid(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_JWT_SECRET", SECRET)
    monkeypatch.setenv("HELPDESK_JWT_SECRETS", f'{{"k2": "{SECRET[::-1]}"}}')
    monkeypatch.setenv("HELPDESK_JWT_MAX_LIFETIME", "2h")
    get_settings.cache_clear()
    assert mint("--ttl-hours", "3")[0] != 0
    assert mint("--kid", "nope")[0] != 0
    code, token = mint("--kid", "k2", "--ttl-hours", "1")
    assert code == 0, token
    policy = TokenPolicy(primary=SECRET, keys=(("k2", SECRET[::-1]),), max_lifetime_seconds=7200)
    assert decode_token(token, policy).sub == "a@x.com"


def test_an_empty_issuer_or_audience_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_JWT_ISSUER", "")
    monkeypatch.setenv("HELPDESK_JWT_AUDIENCE", "")
    settings = Settings()
    assert (settings.jwt_issuer, settings.jwt_audience) == (None, None)


def test_a_service_joining_the_local_stack_uses_its_data_directorys_secret(
    tmp_path: Path,
) -> None:
    from services.ticket_service.adapters.http.auth import mint_token

    secret = local_secret(tmp_path)
    settings = Settings(data_dir=tmp_path)  # no HELPDESK_JWT_SECRET
    refuse_insecure_tokens(settings)
    token = mint_token(secret, role="agent", email="a@x.com")
    with TestClient(create_app(settings)) as client:
        r = client.get("/api/v1/views/all", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
