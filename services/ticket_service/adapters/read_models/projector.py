"""The ticket views as a projection of the notification log.

:meth:`TicketViews.catch_up` reads the notifications after the recorded position, folds
them into the affected ticket documents (:mod:`.ticket_docs`) and writes the documents, the
derived index rows and the new position in ONE transaction. The position update is
conditional (``WHERE position = <read position>``), so two processes projecting at once
never apply a notification twice: the loser rolls back and reads again.

Readers call ``catch_up`` before answering (cheap when nothing is new: one indexed query),
so a ticket created by a request is listed by the next one. Views are never rebuilt per
request; :meth:`rebuild` (``helpdesk replay projections``) rebuilds them from scratch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from services.ticket_service.adapters.read_models import view_filters
from services.ticket_service.adapters.read_models.view_filters import Filters, Sort
from services.ticket_service.adapters.read_models.view_tables import Cursor, ViewTables
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.ticket_docs import (
    Doc,
    apply,
    organization_of,
    participants_of,
    public_doc,
)
from services.ticket_service.application.tickets import TicketApplication

TRACKING_NAME = "ticket_views"
BATCH = 1000
MAX_PAGE = 200


@dataclass
class Page:
    docs: list[Doc]
    next_cursor: str | None


@dataclass
class RebuildReport:
    """What a rebuild from scratch changed compared with the incremental views."""

    position: int
    tickets: int
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed)


class TicketViews:
    def __init__(self, app: TicketApplication) -> None:
        self.app = app
        self.tables = ViewTables(app)
        self._lock = threading.Lock()
        with self.tables.transaction() as cur:
            for statement in view_filters.SCHEMA:
                cur.execute(statement)
            self._backfill_filters(cur)
            if self._position(cur) is None:
                cur.execute(
                    "INSERT INTO helpdesk_view_tracking (name, position) VALUES (?, 0) "
                    "ON CONFLICT (name) DO NOTHING",
                    (TRACKING_NAME,),
                )

    @staticmethod
    def _backfill_filters(cur: Cursor) -> None:
        """Views made before the filter index existed get its rows from their documents
        (once: afterwards every write keeps both). The tracking row is locked first, as
        projecting does, so two processes starting together fill it once."""
        if cur.execute("SELECT number FROM helpdesk_view_fields LIMIT 1").fetchone():
            return
        if not cur.execute("SELECT number FROM helpdesk_view_tickets LIMIT 1").fetchone():
            return
        cur.execute(
            "UPDATE helpdesk_view_tracking SET position = position WHERE name = ?",
            (TRACKING_NAME,),
        )
        if cur.execute("SELECT number FROM helpdesk_view_fields LIMIT 1").fetchone():
            return  # the other process filled it while we waited
        rows = cur.execute("SELECT doc FROM helpdesk_view_tickets").fetchall()
        view_filters.write(cur, [json.loads(r["doc"]) for r in rows])

    # ---- projecting -------------------------------------------------------------------

    def position(self) -> int:
        with self.tables.transaction(commit=False) as cur:
            return self._position(cur) or 0

    def catch_up(self) -> int:
        """Project every notification not yet projected; returns the position reached."""
        with self._lock:
            while True:
                start = self.position()
                notifications = self.app.recorder.select_notifications(
                    start, BATCH, inclusive_of_start=False
                )
                if not notifications:
                    return start
                self._project(start, notifications)

    def _project(self, start: int, notifications: Iterable[Any]) -> None:
        envelopes = []
        end = start
        for n in notifications:
            end = n.id
            envelope = to_envelope(self.app.mapper.to_domain_event(n))
            if envelope is not None and envelope.ticket_number is not None:
                envelopes.append((envelope, n.id))
        with self.tables.transaction() as cur:
            cur.execute(
                "UPDATE helpdesk_view_tracking SET position = ? WHERE name = ? AND position = ?",
                (end, TRACKING_NAME, start),
            )
            if cur.rowcount != 1:
                return  # another process projected these first; our transaction is void
            numbers = sorted({e.ticket_number for e, _ in envelopes if e.ticket_number})
            docs = self._load(cur, numbers)
            touched = {
                number
                for envelope, position in envelopes
                if (number := apply(docs, envelope, position)) is not None
            }
            self._write(cur, [docs[n] for n in sorted(touched)])

    def rebuild(self, *, dry_run: bool = False) -> RebuildReport:
        """Fold the whole log from scratch, compare with the current views, and (unless
        ``dry_run``) replace them; the report lists the ticket numbers that differed.

        The incremental views are first brought up to date (what any reader of them does),
        and the fold stops at the same position: a view that is merely behind is not a
        difference."""
        head = self.catch_up()
        with self._lock:
            docs: dict[int, Doc] = {}
            position = 0
            while position < head:
                notifications = self.app.recorder.select_notifications(
                    position, BATCH, stop=head, inclusive_of_start=False
                )
                if not notifications:
                    break
                for n in notifications:
                    position = n.id
                    envelope = to_envelope(self.app.mapper.to_domain_event(n))
                    if envelope is not None:
                        apply(docs, envelope, n.id)
            with self.tables.transaction(commit=not dry_run) as cur:
                current = {
                    int(row["number"]): json.loads(row["doc"])
                    for row in cur.execute(
                        "SELECT number, doc FROM helpdesk_view_tickets"
                    ).fetchall()
                }
                report = RebuildReport(
                    position=position,
                    tickets=len(docs),
                    added=sorted(set(docs) - set(current)),
                    removed=sorted(set(current) - set(docs)),
                    changed=sorted(n for n in set(docs) & set(current) if docs[n] != current[n]),
                )
                cur.execute("DELETE FROM helpdesk_view_participants")
                cur.execute("DELETE FROM helpdesk_view_tickets")
                view_filters.clear(cur)
                self._write(cur, list(docs.values()))
                cur.execute(
                    "UPDATE helpdesk_view_tracking SET position = ? WHERE name = ?",
                    (position, TRACKING_NAME),
                )
            return report

    @staticmethod
    def _position(cur: Cursor) -> int | None:
        row = cur.execute(
            "SELECT position FROM helpdesk_view_tracking WHERE name = ?", (TRACKING_NAME,)
        ).fetchone()
        return None if row is None else int(row["position"])

    @staticmethod
    def _load(cur: Cursor, numbers: list[int]) -> dict[int, Doc]:
        docs: dict[int, Doc] = {}
        for i in range(0, len(numbers), 500):
            chunk = numbers[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in cur.execute(
                f"SELECT number, doc FROM helpdesk_view_tickets WHERE number IN ({marks})",
                chunk,
            ).fetchall():
                docs[int(row["number"])] = json.loads(row["doc"])
        return docs

    @staticmethod
    def _write(cur: Cursor, docs: list[Doc]) -> None:
        cur.executemany(
            "INSERT INTO helpdesk_view_tickets "
            "(number, is_closed, closed_position, org, follow_up_of, doc) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET "
            "is_closed = excluded.is_closed, closed_position = excluded.closed_position, "
            "org = excluded.org, follow_up_of = excluded.follow_up_of, doc = excluded.doc",
            [
                (
                    d["number"],
                    1 if d["status"] == "closed" else 0,
                    d["closed_position"],
                    organization_of(d),
                    (d["follow_up_of"] or {}).get("number"),
                    json.dumps(d, sort_keys=True),
                )
                for d in docs
            ],
        )
        numbers = [(d["number"],) for d in docs]
        cur.executemany("DELETE FROM helpdesk_view_participants WHERE number = ?", numbers)
        cur.executemany(
            "INSERT INTO helpdesk_view_participants (email, number) VALUES (?, ?)",
            [(email, d["number"]) for d in docs for email in sorted(participants_of(d))],
        )
        view_filters.write(cur, docs)

    # ---- reading (callers catch up first) ---------------------------------------------

    def all_open(self, cursor: int | None, limit: int) -> Page:
        """Every ticket that is not closed, newest first; the cursor is a ticket number."""
        return self.view(closed=False, cursor=None if cursor is None else str(cursor), limit=limit)

    def closed(self, cursor: int | None, limit: int) -> Page:
        """Closed tickets, most recently closed first; the cursor is a log position."""
        return self.view(closed=True, cursor=None if cursor is None else str(cursor), limit=limit)

    def view(
        self,
        *,
        closed: bool,
        filters: Filters | None = None,
        sort: Sort = Sort.NEWEST,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """One page of All (``closed=False``: active tickets, in ``sort`` order) or Closed
        (most recently closed first, whatever ``sort``), filtered; the cursor is the
        ``next_cursor`` of the page before (:class:`view_filters.InvalidCursor` if not)."""
        limit = max(1, min(limit, MAX_PAGE))
        sql, args = view_filters.query(closed, filters or Filters(), sort, cursor, limit)
        with self.tables.transaction(commit=False) as cur:
            rows = cur.execute(sql, args).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = view_filters.cursor_of(rows[-1], closed, sort) if more and rows else None
        return Page([public_doc(json.loads(r["doc"])) for r in rows], next_cursor)

    def requests(self, email: str, org: str | None, cursor: int | None, limit: int) -> Page:
        """The caller's and CC'd tickets (and, with ``org``, an organization id, the tickets
        created in that organization)."""
        email = email.lower()
        if not org:
            return self._page(
                "SELECT t.doc FROM helpdesk_view_participants p JOIN helpdesk_view_tickets t "
                "ON t.number = p.number WHERE p.email = ? AND p.number < ? "
                "ORDER BY p.number DESC LIMIT ?",
                cursor,
                limit,
                key="number",
                params=(email,),
            )
        return self._page(
            "SELECT t.doc FROM helpdesk_view_tickets t WHERE t.number IN ("
            " SELECT number FROM helpdesk_view_participants WHERE email = ? AND number < ?"
            " UNION SELECT number FROM helpdesk_view_tickets WHERE org = ? AND number < ?"
            ") ORDER BY t.number DESC LIMIT ?",
            cursor,
            limit,
            key="number",
            params=(email,),
            org=org.lower(),
        )

    def follow_ups_of(self, number: int) -> list[int]:
        with self.tables.transaction(commit=False) as cur:
            rows = cur.execute(
                "SELECT number FROM helpdesk_view_tickets WHERE follow_up_of = ? ORDER BY number",
                (number,),
            ).fetchall()
        return [int(r["number"]) for r in rows]

    def _page(
        self,
        sql: str,
        cursor: int | None,
        limit: int,
        *,
        key: str,
        params: tuple[Any, ...] = (),
        org: str | None = None,
    ) -> Page:
        limit = max(1, min(limit, MAX_PAGE))
        below = cursor if cursor is not None else 2**62
        args: list[Any] = [*params, below]
        if org is not None:
            args += [org, below]
        args.append(limit + 1)
        with self.tables.transaction(commit=False) as cur:
            rows = cur.execute(sql, args).fetchall()
        docs = [json.loads(r["doc"]) for r in rows]
        more = len(docs) > limit
        docs = docs[:limit]
        next_cursor = str(docs[-1][key]) if more and docs else None
        return Page([public_doc(d) for d in docs], next_cursor)
