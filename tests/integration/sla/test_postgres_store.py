"""The audit reads a PostgreSQL store (its own narrow query, also split over worker
processes) and prints the same report as for the same history on SQLite."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from services.settings import Settings
from services.ticket_service.bootstrap import build_application
from services.ticket_service.sla.audit import RowFilter
from services.ticket_service.sla.parallel import ParallelStoreAudit
from services.ticket_service.sla.policy import SlaPolicy
from services.ticket_service.sla.sources.store import log_rows, reference_facts, store_facts
from tests.unit.sla.history import OPS, History, apply_ops, new_app, report_text
from tests.unit.sla.test_parallel import text_of
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

    everything = list(log_rows(on_pg.app))
    parts = [list(log_rows(on_pg.app, partition=(k, 3))) for k in range(3)]
    assert all(parts) and sorted(r for part in parts for r in part) == sorted(everything)
    on_pg.app.close()
    with ParallelStoreAudit(
        Settings(database_url=postgres_database), SlaPolicy(), as_of=None, rows=RowFilter(), jobs=3
    ) as run:
        run.wait(lambda n: None, interval=0.01)
        split = text_of(run.finish(), "csv")
    assert split == report_text(store_facts(on_sqlite.app), fmt="csv", repeats=False)
