"""Replays the store's history in several processes at once.

Tickets are independent of each other, so the audit splits them: each worker process reads
the notification log filtered to its partition of tickets (the database does the filtering),
feeds its own :class:`Audit`, and leaves the rows of finished tickets in a spill file.
The parent absorbs the files and the clocks of tickets still active, and stops those at the
global audit instant — the report is byte-identical to a one-process audit.

SQLite and PostgreSQL stores are split (the filter is a SQL clause on the aggregate id);
any other store is audited in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from pathlib import Path
from types import TracebackType
from typing import Any

from services.settings import Settings
from services.ticket_service.sla.audit import Audit, AuditResult, PartialAudit, RowFilter
from services.ticket_service.sla.policy import SlaPolicy

MIN_EVENTS_PER_JOB = 100_000
"""Below this many events per worker, starting processes costs more than it saves."""
MAX_JOBS = 16


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def jobs_for(events: int, requested: int | None) -> int:
    """Worker processes for a history of ``events``: ``requested`` (None: one per usable
    CPU), fewer when the history is short."""
    wanted = requested if requested is not None else usable_cpus()
    return max(1, min(wanted, MAX_JOBS, events // MIN_EVENTS_PER_JOB))


_progress: Any = None
"""Per-worker counts of events read, shared with the parent (set in each worker)."""


def _init_worker(progress: Any) -> None:
    global _progress
    _progress = progress


def _audit_partition(
    settings: Settings,
    policy: SlaPolicy,
    as_of: int | None,
    rows: RowFilter,
    part: int,
    jobs: int,
    spill: str,
) -> PartialAudit:
    from services.ticket_service.bootstrap import build_application
    from services.ticket_service.sla.sources.store import store_facts

    counts = _progress

    def advance(n: int) -> None:
        counts[part] += n

    app = build_application(settings, create_tables=False)
    try:
        audit = Audit(policy, as_of=as_of, rows=rows, repeats=False, spill=spill)
        audit.feed(store_facts(app, progress=advance, partition=(part, jobs)))
        return audit.handoff()
    finally:
        app.close()


class ParallelStoreAudit:
    """``with ParallelStoreAudit(...) as run: run.wait(advance); result = run.finish()``.

    The workers are forked on entering, before the caller starts any thread of its own
    (a progress bar), so no lock held by another thread is copied into them."""

    def __init__(
        self,
        settings: Settings,
        policy: SlaPolicy,
        *,
        as_of: int | None,
        rows: RowFilter,
        jobs: int,
    ) -> None:
        self.settings, self.policy, self.as_of, self.rows = settings, policy, as_of, rows
        self.jobs = jobs
        self._context = multiprocessing.get_context("fork")
        self._progress = self._context.Array("q", jobs, lock=False)
        self._tmp = tempfile.TemporaryDirectory(prefix="helpdesk-sla-")
        self._spills = [str(Path(self._tmp.name) / f"part-{k}.sqlite3") for k in range(jobs)]
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[PartialAudit]] = []

    def __enter__(self) -> ParallelStoreAudit:
        self._pool = ProcessPoolExecutor(
            self.jobs,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(self._progress,),
        )
        self._futures = [
            self._pool.submit(
                _audit_partition,
                self.settings,
                self.policy,
                self.as_of,
                self.rows,
                k,
                self.jobs,
                self._spills[k],
            )
            for k in range(self.jobs)
        ]
        return self

    def wait(self, advance: Callable[[int], None], interval: float = 0.2) -> None:
        """Until every worker is done, reporting events read; a worker's error is raised
        at once."""
        reported = 0
        pending: set[Future[PartialAudit]] = set(self._futures)
        while pending:
            done, pending = wait(pending, timeout=interval, return_when=FIRST_EXCEPTION)
            read = sum(self._progress)
            advance(read - reported)
            reported = read
            for future in done:
                future.result()

    def finish(self) -> AuditResult:
        audit = Audit(self.policy, as_of=self.as_of, rows=self.rows, repeats=False)
        for future, spill in zip(self._futures, self._spills, strict=True):
            audit.absorb(future.result(), spill)
        return audit.finish()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._tmp.cleanup()
