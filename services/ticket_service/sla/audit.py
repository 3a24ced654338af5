"""Streams a whole history through per-ticket clocks with memory bounded by the number of
tickets still active, not by the length of the history.

A ticket's row is final once it closes (Closed is final), so it leaves memory for a private
temporary SQLite file, which later gives the rows in ticket-number order and the exact
percentiles. Only tickets still active at the end are held in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.ticket_service.application.collector import collector_paused
from services.ticket_service.sla.clock import TicketClock, TicketRow
from services.ticket_service.sla.facts import Fact, Kind
from services.ticket_service.sla.policy import SlaPolicy

_FLUSH = 5_000
_CREATED = Kind.CREATED
_COLUMNS = TicketRow._fields
PERCENTILES = (50, 90, 95)


@dataclass(frozen=True)
class RowFilter:
    """Which tickets the report shows: created in [created_from, created_to) (microseconds),
    with one of ``priorities`` (all when empty)."""

    created_from: int | None = None
    created_to: int | None = None
    priorities: frozenset[str] = frozenset()

    def accepts(self, row: TicketRow) -> bool:
        if self.created_from is not None and row.created_at < self.created_from:
            return False
        if self.created_to is not None and row.created_at >= self.created_to:
            return False
        return not self.priorities or row.priority in self.priorities


@dataclass(frozen=True)
class MetricTotals:
    breached: int
    running: int
    stopped: int
    """Tickets whose clock stopped with a figure (the percentiles are over these)."""
    percentiles: tuple[int | None, ...]


@dataclass(frozen=True)
class Totals:
    tickets: int
    first_reply: MetricTotals
    resolution: MetricTotals
    agent_work: MetricTotals


class Audit:
    """Feed facts in any order across tickets (per-ticket order as recorded); then
    :meth:`finish` at the audit instant."""

    def __init__(
        self,
        policy: SlaPolicy,
        *,
        as_of: int | None = None,
        rows: RowFilter | None = None,
        repeats: bool = True,
        spill: str = "",
    ) -> None:
        """``repeats``: the source may deliver an event again after its ticket closed
        (Kafka: at least once). The store's log never does, which saves a look-up per
        ticket. ``spill``: where finished rows go (default: a private temporary file);
        a partial audit names a file its parent will absorb."""
        self.policy = policy
        self.repeats = repeats
        self.as_of = as_of
        self.filter = rows or RowFilter()
        self.last_at: int | None = None
        self.facts = 0
        self._active: dict[UUID | str, TicketClock] = {}
        self._done_pending: set[bytes] = set()
        self._rows_pending: list[tuple[object, ...]] = []
        self._done_rows: list[tuple[bytes]] = []
        # "" = a private temporary database on disk, removed when closed.
        self._db = sqlite3.connect(spill, check_same_thread=False)
        self._db.execute("CREATE TABLE done (id BLOB PRIMARY KEY) WITHOUT ROWID")
        self._db.execute(f"CREATE TABLE rows ({', '.join(_COLUMNS)}, PRIMARY KEY (number))")

    # ---- feeding ------------------------------------------------------------------------

    def feed(self, facts: Iterable[Fact | None]) -> None:
        """Add every fact. The cyclic garbage collector is paused meanwhile: clocks and
        facts form no cycles, and its full passes over the active tickets would otherwise
        cost more than the audit itself. (The loop keeps its state in locals: it runs once
        per event of the history.)"""
        active, policy, as_of, repeats = self._active, self.policy, self.as_of, self.repeats
        get = active.get
        count, last = 0, self.last_at
        try:
            with collector_paused():
                for fact in facts:
                    if fact is None:
                        continue
                    at = fact[3]
                    if as_of is not None and at > as_of:
                        continue
                    count += 1
                    if last is None or at > last:
                        last = at
                    ticket_id = fact[0]
                    clock = get(ticket_id)
                    if clock is None:
                        if fact[2] != _CREATED or (repeats and self._is_done(ticket_id)):
                            continue  # a repeat of a finished ticket, or created after T
                        clock = TicketClock(fact, policy)
                        if clock.closed_at is None:
                            active[ticket_id] = clock
                            continue
                    else:
                        clock.apply(fact, policy)
                        if clock.closed_at is None:
                            continue
                    del active[ticket_id]
                    self._retire(clock, clock.closed_at)
        finally:
            self.facts += count
            self.last_at = last

    def add(self, fact: Fact) -> None:
        self.feed((fact,))

    def _is_done(self, ticket_id: UUID | str) -> bool:
        key = (ticket_id if isinstance(ticket_id, UUID) else UUID(ticket_id)).bytes
        if key in self._done_pending:
            return True
        return self._db.execute("SELECT 1 FROM done WHERE id = ?", (key,)).fetchone() is not None

    def _retire(self, clock: TicketClock, at: int) -> None:
        if self.repeats:
            key = clock.ticket_id.bytes
            self._done_pending.add(key)
            self._done_rows.append((key,))
        row = clock.row(at, self.policy)
        if self.filter.accepts(row):
            self._rows_pending.append(_values(row))
            if len(self._rows_pending) >= _FLUSH:
                self._flush()
        if len(self._done_rows) >= _FLUSH:
            self._flush()

    def _flush(self) -> None:
        marks = ", ".join("?" for _ in _COLUMNS)
        self._db.executemany("INSERT OR IGNORE INTO done VALUES (?)", self._done_rows)
        self._db.executemany(f"INSERT OR REPLACE INTO rows VALUES ({marks})", self._rows_pending)
        self._done_rows.clear()
        self._rows_pending.clear()
        self._done_pending.clear()

    # ---- partial audits (one per partition of the tickets) -----------------------------

    def handoff(self) -> PartialAudit:
        """End a partial audit: its finished rows stay in its spill file, the clocks of
        tickets still active go to the parent, which stops them at the global instant."""
        self._flush()
        self._db.commit()
        self._db.close()
        active = list(self._active.values())
        self._active.clear()
        return PartialAudit(active=active, last_at=self.last_at, facts=self.facts)

    def absorb(self, part: PartialAudit, spill: str) -> None:
        """Take over a partial audit of other tickets (none of this audit's own)."""
        self._flush()
        self._db.execute("ATTACH DATABASE ? AS part", (spill,))
        try:
            self._db.execute("INSERT INTO rows SELECT * FROM part.rows")
            self._db.commit()
        finally:
            self._db.execute("DETACH DATABASE part")
        for clock in part.active:
            self._active[clock.ticket_id] = clock
        self.facts += part.facts
        if part.last_at is not None and (self.last_at is None or part.last_at > self.last_at):
            self.last_at = part.last_at

    # ---- results ------------------------------------------------------------------------

    def finish(self) -> AuditResult:
        """Stop the remaining clocks at the audit instant: ``as_of``, or else the time of
        the last fact (never "now": the same history always gives the same report)."""
        as_of = self.as_of if self.as_of is not None else (self.last_at or 0)
        for clock in self._active.values():
            row = clock.row(as_of, self.policy)
            if self.filter.accepts(row):
                self._rows_pending.append(_values(row))
        self._active.clear()
        self._flush()
        self._db.commit()
        return AuditResult(self._db, as_of=as_of, facts=self.facts)


@dataclass(frozen=True)
class PartialAudit:
    """What a partial audit hands its parent besides its spill file."""

    active: list[TicketClock]
    last_at: int | None
    facts: int


class AuditResult:
    def __init__(self, db: sqlite3.Connection, *, as_of: int, facts: int) -> None:
        self._db = db
        self.as_of = as_of
        self.facts = facts

    def rows(self) -> Iterator[TicketRow]:
        """Rows in ticket-number order, streamed from the spill file."""
        cursor = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM rows ORDER BY number")
        for values in cursor:
            yield _row(values)

    def totals(self) -> Totals:
        reply_stopped = "first_reply IS NOT NULL AND NOT first_reply_running"
        resolved = "NOT resolution_running"
        counts = self._db.execute(
            "SELECT count(*), "
            "coalesce(sum(first_reply_breached), 0), coalesce(sum(first_reply_running), 0), "
            f"coalesce(sum({reply_stopped}), 0), "
            "coalesce(sum(resolution_breached), 0), coalesce(sum(resolution_running), 0), "
            f"coalesce(sum({resolved}), 0) FROM rows"
        ).fetchone()
        tickets, fr_breached, fr_running, fr_stopped, res_breached, res_running, res_stopped = (
            int(v) for v in counts
        )
        return Totals(
            tickets=tickets,
            first_reply=MetricTotals(
                fr_breached,
                fr_running,
                fr_stopped,
                self._percentiles("first_reply", reply_stopped, fr_stopped),
            ),
            resolution=MetricTotals(
                res_breached,
                res_running,
                res_stopped,
                self._percentiles("resolution", resolved, res_stopped),
            ),
            agent_work=MetricTotals(
                0, 0, res_stopped, self._percentiles("agent_work", resolved, res_stopped)
            ),
        )

    def _percentiles(self, column: str, where: str, n: int) -> tuple[int | None, ...]:
        """Nearest-rank percentiles: the value at rank ceil(p * n / 100)."""
        if not n:
            return tuple(None for _ in PERCENTILES)
        statement = f"SELECT {column} FROM rows WHERE {where} ORDER BY {column} LIMIT 1 OFFSET ?"
        return tuple(
            int(self._db.execute(statement, (max(1, -(-p * n // 100)) - 1,)).fetchone()[0])
            for p in PERCENTILES
        )

    def close(self) -> None:
        self._db.close()


def _values(row: TicketRow) -> tuple[object, ...]:
    return (row[0], row[1].bytes, *row[2:])


_FLAGS = frozenset(
    _COLUMNS.index(name)
    for name in (
        "first_reply_running",
        "first_reply_breached",
        "resolution_running",
        "resolution_breached",
    )
)


def _row(values: tuple[Any, ...]) -> TicketRow:
    out: list[Any] = [bool(v) if i in _FLAGS else v for i, v in enumerate(values)]
    out[1] = UUID(bytes=out[1])
    return TicketRow(*out)
