"""The audit reads a PostgreSQL store (through the recorder, not the SQLite row reader)
and prints the same report as for the same history on SQLite."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from services.settings import Settings
from services.ticket_service.bootstrap import build_application
from services.ticket_service.sla.sources.store import reference_facts, store_facts
from tests.unit.sla.history import OPS, History, apply_ops, new_app, report_text
from tests.unit.sla.test_properties import same_ids


def test_postgres_store_audit_equals_sqlite(postgres_database: str, tmp_path: Path) -> None:
    rng = random.Random(11)
    ops = [(rng.choice(OPS), rng.randint(0, 1000), rng.randint(1, 3000)) for _ in range(120)]
    on_pg = History(
        build_application(
            Settings(database_url=postgres_database, auto_close_after=timedelta(days=7))
        )
    )
    on_sqlite = History(new_app(tmp_path))
    assert apply_ops(on_pg, ops) == apply_ops(on_sqlite, ops)

    assert same_ids(store_facts(on_pg.app)) == same_ids(reference_facts(on_pg.app))
    for fmt in ("csv", "jsonl"):
        assert report_text(store_facts(on_pg.app), fmt=fmt, repeats=False) == report_text(
            store_facts(on_sqlite.app), fmt=fmt, repeats=False
        )
