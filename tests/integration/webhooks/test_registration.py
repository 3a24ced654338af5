"""Targets that are, or resolve to, loopback, private or metadata addresses are refused at
registration when the allowlist is empty; https only unless http is allowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.settings import Settings
from tests.integration.webhooks.conftest import Api, management_api


@pytest.fixture
def strict_api(tmp_path: object, settings: Settings) -> Iterator[Api]:
    yield from management_api(
        settings.model_copy(update={"webhook_allowed_hosts": "", "webhook_allow_http": False})
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",
        "https://[::1]/hook",
        "http://93.184.215.14/hook",
    ],
)
def test_unsafe_targets_are_refused_at_registration(strict_api: Api, url: str) -> None:
    reply = strict_api.client.post(
        "/api/v1/webhooks", json={"url": url}, headers=strict_api.headers("integration")
    )
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert strict_api.client.get("/api/v1/webhooks", headers=strict_api.headers()).json() == {
        "webhooks": []
    }


def test_agents_may_not_manage_webhooks(strict_api: Api) -> None:
    for path in ("/api/v1/webhooks",):
        assert strict_api.client.get(path, headers=strict_api.headers("agent")).status_code == 403
