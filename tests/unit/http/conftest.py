from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.settings import Settings
from services.ticket_service.bootstrap import create_app
from tests.unit.http.api_client import SECRET, Api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The HTTP app on a SQLite file store (embedded: no external service)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("http"), jwt_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings)
