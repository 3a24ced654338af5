"""The dead-letter table behaves the same on SQLite and PostgreSQL: any sequence of records
(redeliveries included), retries and purges leaves what a plain dictionary model says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.dead_letters import DeadLetter
from services.settings import Settings
from services.ticket_service.adapters.dead_letter_store import DeadLetterStore
from services.ticket_service.bootstrap import build_application

START = datetime(2026, 1, 1, tzinfo=UTC)


def letter(offset: int) -> DeadLetter:
    return DeadLetter(
        dead_letter_id=UUID(int=offset + 1),
        source_topic="helpdesk.ticket-commands",
        partition=0,
        offset=offset,
        value_b64="bm9wZQ==",
        reason="undecodable",
        error="not JSON",
        dead_lettered_at=START + timedelta(seconds=offset),
    )


steps = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(0, 7)),
        st.tuples(st.just("retry"), st.integers(0, 7)),
        st.tuples(st.just("purge"), st.integers(0, 7)),
        st.tuples(st.just("purge_retried"), st.just(0)),
    ),
    max_size=25,
)


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path)
    database: str = request.getfixturevalue("postgres_database")
    return Settings(database_url=database, data_dir=tmp_path)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(script=steps)
def test_the_store_follows_its_model(store_settings: Settings, script: list[Any]) -> None:
    app = build_application(store_settings)
    store = DeadLetterStore(app)
    store.purge()  # the database is shared by the examples
    model: dict[UUID, dict[str, Any]] = {}
    for action, offset in script:
        one = letter(offset)
        key = one.dead_letter_id
        if action == "record":
            assert store.record([one]) == (0 if key in model else 1)
            model.setdefault(key, {"status": "pending", "retries": 0})
        elif action == "retry":
            kept = store.mark_retried(key, START)
            if key in model:
                model[key] = {"status": "retried", "retries": model[key]["retries"] + 1}
                assert kept is not None and kept.retried_at == START
            else:
                assert kept is None
        elif action == "purge":
            assert store.purge([key]) == ([key] if key in model else [])
            model.pop(key, None)
        else:
            retried = sorted(k for k, v in model.items() if v["status"] == "retried")
            assert sorted(store.purge(status="retried")) == retried
            for k in retried:
                del model[k]
    listed = store.oldest(limit=100)
    assert [k.letter.dead_letter_id for k in listed] == sorted(model, key=lambda k: k.int)
    assert {
        k.letter.dead_letter_id: {"status": k.status, "retries": k.retries} for k in listed
    } == model
    assert [k.letter.dead_letter_id for k in store.oldest(status="pending")] == sorted(
        (k for k, v in model.items() if v["status"] == "pending"), key=lambda k: k.int
    )
    assert store.get(uuid4()) is None
    app.close()
