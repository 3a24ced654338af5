"""The store audit split over worker processes prints exactly what one process prints."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from services.cli import app as cli
from services.settings import Settings
from services.ticket_service.sla import parallel
from services.ticket_service.sla.audit import AuditResult, RowFilter
from services.ticket_service.sla.calendar import to_micros
from services.ticket_service.sla.parallel import ParallelStoreAudit, jobs_for
from services.ticket_service.sla.policy import SlaPolicy
from services.ticket_service.sla.render import render
from services.ticket_service.sla.sources.store import log_rows, store_facts
from tests.unit.sla.history import MONDAY, History, Op, new_app, report_text
from tests.unit.sla.test_properties import build, ops_strategy


def text_of(result: AuditResult, fmt: str) -> str:
    out = io.StringIO()
    try:
        render(out, result, SlaPolicy(), fmt)
    finally:
        result.close()
    return out.getvalue()


def parallel_report(data_dir: Path, jobs: int, fmt: str, **options: object) -> str:
    with ParallelStoreAudit(
        Settings(data_dir=data_dir, database_url=""),
        SlaPolicy(),
        as_of=options.get("as_of"),  # type: ignore[arg-type]
        rows=options.get("rows", RowFilter()),  # type: ignore[arg-type]
        jobs=jobs,
    ) as run:
        advanced: list[int] = []
        run.wait(advanced.append, interval=0.01)
        result = run.finish()
    assert sum(advanced) == run_total(data_dir)
    return text_of(result, fmt)


def run_total(data_dir: Path) -> int:
    app = new_app(data_dir)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=ops_strategy, jobs=st.integers(2, 5), cut=st.integers(0, 10**6))
def test_partitioned_audit_prints_the_same_bytes(ops: list[Op], jobs: int, cut: int) -> None:
    app, applied, data_dir = build(ops)
    as_of = to_micros(applied[cut % len(applied)][0]) if cut % 2 else None
    for fmt in ("csv", "jsonl"):
        expected = report_text(store_facts(app), as_of=as_of, fmt=fmt, repeats=False)
        assert parallel_report(data_dir, jobs, fmt, as_of=as_of) == expected


def test_partitions_cover_every_row_once(tmp_path: Path) -> None:
    """Including aggregate ids whose last character is not a lowercase hex digit: the last
    partition takes them."""
    h = History(new_app(tmp_path))
    for i in range(30):
        h.create(MONDAY + timedelta(minutes=i))
    odd = "not-a-uuid-Z"
    h.app.recorder.insert_events([StoredEvent(odd, 1, "elsewhere:Thing", b"{}")])
    everything = list(log_rows(h.app))
    for n in (1, 2, 3, 7, 16):
        parts = [list(log_rows(h.app, partition=(k, n))) for k in range(n)]
        assert sorted(row for part in parts for row in part) == everything
        assert any(row[1] == odd for row in parts[-1])
    if_two = [list(log_rows(h.app, partition=(k, 2))) for k in range(2)]
    assert all(if_two), "both halves get tickets"
    with pytest.raises(ValueError):
        list(log_rows(h.app, partition=(2, 2)))


def test_jobs_follow_the_history_length() -> None:
    per_job = parallel.MIN_EVENTS_PER_JOB
    assert jobs_for(per_job * 10, 4) == 4
    assert jobs_for(per_job * 3, 8) == 3
    assert jobs_for(per_job - 1, 8) == 1
    assert jobs_for(per_job * 100, None) == max(1, min(parallel.usable_cpus(), 16))
    assert jobs_for(per_job * 100, 64) == parallel.MAX_JOBS


def test_cli_jobs_give_the_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h = History(new_app(tmp_path))
    for i in range(12):
        t = h.create(MONDAY + timedelta(hours=i), priority="urgent" if i % 3 else "low")
        h.reply(t, MONDAY + timedelta(hours=i, minutes=30))
        if i % 2:
            h.status(t, "solved", MONDAY + timedelta(hours=i + 1))
    h.app.close()
    monkeypatch.setattr(parallel, "MIN_EVENTS_PER_JOB", 1)
    used: list[int] = []
    real_enter = ParallelStoreAudit.__enter__

    def spy(self: ParallelStoreAudit) -> ParallelStoreAudit:
        used.append(self.jobs)
        return real_enter(self)

    monkeypatch.setattr(ParallelStoreAudit, "__enter__", spy)
    env = {"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_DATABASE_URL": ""}

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["sla", "audit", "--format", "csv", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    one = run("--jobs", "1")
    assert used == []
    assert run("--jobs", "3") == one
    assert run("--jobs", "3", "--priority", "urgent", "--as-of", "2026-01-05T14:00:00") == run(
        "--jobs", "1", "--priority", "urgent", "--as-of", "2026-01-05T14:00:00"
    )
    assert used == [3, 3]
