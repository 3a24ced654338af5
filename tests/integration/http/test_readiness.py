"""``/readyz`` checks the store, the broker and Redis when they are configured."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from services.settings import Settings
from services.ticket_service.bootstrap import create_app
from tests.fixtures.processes import free_port
from tests.unit.http.api_client import SECRET


def test_ready_with_broker_and_redis(tmp_path: Path, kafka_bootstrap: str, redis_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path, kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, jwt_secret=SECRET
    )
    with TestClient(create_app(settings)) as client:
        r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"store": "ok", "broker": "ok", "redis": "ok"}


def test_not_ready_when_a_dependency_is_down(tmp_path: Path) -> None:
    dead = f"127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=tmp_path, kafka_bootstrap=dead, redis_url=f"redis://{dead}/0", jwt_secret=SECRET
    )
    with TestClient(create_app(settings)) as client:
        r = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["store"] == "ok"
    assert checks["broker"].startswith("error")
    assert checks["redis"].startswith("error")
