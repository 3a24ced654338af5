"""Shared pytest fixtures for real services (see tests/fixtures/services.py for resolution).

All service fixtures are lazy: a test that uses none of them starts no process.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest

from tests.fixtures.kafka import tansu_process
from tests.fixtures.postgres import create_database, drop_database
from tests.fixtures.processes import LocalProcess
from tests.fixtures.redis import redis_process
from tests.fixtures.services import kafka_service, postgres_service, redis_service


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Each test leaves the environment as it found it. The ``helpdesk`` CLI fills the
    local stack's addresses into ``os.environ`` from ``./var/stack.json`` (left by ``make
    run``); run in process by a test, they leaked into every later test's settings."""
    before = dict(os.environ)
    yield
    if os.environ != before:
        os.environ.clear()
        os.environ.update(before)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """``host:port`` of the session's Kafka (env, testcontainers or a local Tansu)."""
    with kafka_service() as service:
        yield service.address


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[LocalProcess]:
    """A dedicated local Tansu broker for outage tests: ``stop()``/``kill()``/``start()``.

    Separate from ``kafka_bootstrap`` so restarts never disturb other tests; connect to
    ``kafka_broker.address``. A test that stops it must ``start()`` it again (try/finally).
    Memory storage: a restart loses all topics, records and committed offsets.
    """
    with tansu_process() as broker:
        yield broker


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``redis://host:port/0`` of the session's Redis."""
    with redis_service() as service:
        yield service.address


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalProcess]:
    """A dedicated local redis-server for outage tests (URL: ``redis://{address}/0``)."""
    with redis_process() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """``postgresql://user:pass@host:port/db`` of the session's PostgreSQL."""
    with postgres_service() as service:
        yield service.address


@pytest.fixture
def postgres_database(postgres_dsn: str) -> Iterator[str]:
    """DSN of a fresh, empty database on the session server, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    dsn = create_database(postgres_dsn, name)
    try:
        yield dsn
    finally:
        drop_database(postgres_dsn, name)


@pytest.fixture
def kafka_topic_prefix(request: pytest.FixtureRequest) -> str:
    """A unique prefix for this test's topics and group ids, e.g. ``f"{prefix}tickets"``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"{slug}-{uuid.uuid4().hex[:8]}-"
