from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.settings import Settings
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application


def kafka_settings(bootstrap: str, prefix: str, data_dir: Path, *, partitions: int = 1) -> Settings:
    """Unique topics; one partition by default, so that tests can assert total order."""
    return Settings(
        kafka_bootstrap=bootstrap,
        kafka_partitions=partitions,
        data_dir=data_dir,
        topic_events=f"{prefix}events",
        topic_commands=f"{prefix}commands",
        topic_dead_letter=f"{prefix}dead-letter",
    )


@pytest.fixture
def settings(kafka_bootstrap: str, kafka_topic_prefix: str, tmp_path: Path) -> Settings:
    return kafka_settings(kafka_bootstrap, kafka_topic_prefix, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The Kafka settings on each store the product supports (a SQLite file, PostgreSQL)."""
    if request.param == "sqlite":
        return settings
    return settings.model_copy(
        update={"database_url": request.getfixturevalue("postgres_database")}
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[TicketApplication]:
    application = build_application(settings)
    yield application
    application.close()
