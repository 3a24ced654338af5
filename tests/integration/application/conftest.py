"""The application suite runs on every store the product supports."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.settings import Settings


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path, auto_close_after="1h")
    else:
        dsn = request.getfixturevalue("postgres_database")
        yield Settings(database_url=dsn, auto_close_after="1h")
