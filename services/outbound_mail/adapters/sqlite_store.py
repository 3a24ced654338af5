"""The notifier's store in SQLite (a file under the data dir): the per-ticket projection,
the processed event ids and the sent log.

``sent_log`` has one row per (event id, recipient) — the unique key that makes a
redelivered event plan nothing twice — with the Message-ID, the rendered message and its
status (``pending`` → ``sent`` | ``failed`` with a reason; or ``rate_limited``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.outbound_mail.application.ports import Intent, Planned, Status
from services.outbound_mail.domain.notifications import TicketState

FILE_NAME = "outbound-mail.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS processed (
    event_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS sent_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    ticket_number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    raw BLOB NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (event_id, recipient)
);
CREATE INDEX IF NOT EXISTS sent_log_pending ON sent_log (status, seq);
CREATE INDEX IF NOT EXISTS sent_log_recipient ON sent_log (recipient, created_at);
"""

COLUMNS = "event_id, recipient, message_id, ticket_number, kind, raw, created_at, seq"


def _state_json(state: TicketState) -> str:
    """Field by field (``dataclasses.asdict`` copies recursively and costs several times
    more, once per event)."""
    return json.dumps(
        {
            "number": state.number,
            "subject": state.subject,
            "requester": state.requester,
            "cc": list(state.cc),
            "message_ids": list(state.message_ids),
        }
    )


def _intent(row: Sequence[Any]) -> Intent:
    return Intent(
        event_id=row[0],
        recipient=row[1],
        message_id=row[2],
        ticket_number=int(row[3]),
        kind=row[4],
        raw=bytes(row[5]),
        created_at=float(row[6]),
        seq=int(row[7]),
    )


class SqliteNotificationStore:
    def __init__(self, path: Path | str = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ---- the projection and the processed events -------------------------------------

    def state(self, ticket_id: str) -> TicketState | None:
        with self._lock:
            row = self.db.execute(
                "SELECT state FROM tickets WHERE ticket_id = ?", (ticket_id,)
            ).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return TicketState(
            number=int(data["number"]),
            subject=str(data["subject"]),
            requester=str(data["requester"]),
            cc=tuple(data["cc"]),
            message_ids=tuple(data["message_ids"]),
        )

    def processed(self, event_id: str) -> bool:
        with self._lock:
            row = self.db.execute(
                "SELECT 1 FROM processed WHERE event_id = ?", (event_id,)
            ).fetchone()
        return row is not None

    def record(self, planned: Sequence[Planned]) -> None:
        now = time.time()
        states = {p.ticket_id: p.state for p in planned if p.state is not None}
        rows = [
            (i, status, None)
            for p in planned
            for status, intents in (
                (Status.PENDING, p.intents),
                (Status.RATE_LIMITED, p.rate_limited),
            )
            for i in intents
        ] + [(i, Status.FAILED, reason) for p in planned for i, reason in p.unrenderable]
        logged = [
            (
                i.event_id,
                i.recipient,
                i.message_id,
                i.ticket_number,
                i.kind,
                status.value,
                reason,
                i.raw,
                i.created_at,
                now,
            )
            for i, status, reason in rows
        ]
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany(
                    "INSERT INTO tickets (ticket_id, state) VALUES (?, ?) "
                    "ON CONFLICT (ticket_id) DO UPDATE SET state = excluded.state",
                    [(t, _state_json(state)) for t, state in states.items()],
                )
                self.db.executemany(
                    "INSERT OR IGNORE INTO processed (event_id) VALUES (?)",
                    [(p.event_id,) for p in planned],
                )
                self.db.executemany(
                    "INSERT OR IGNORE INTO sent_log (event_id, recipient, message_id, "
                    "ticket_number, kind, status, reason, raw, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    logged,
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    # ---- the sent log ----------------------------------------------------------------

    def pending_after(self, seq: int, limit: int) -> list[Intent]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT {COLUMNS} FROM sent_log WHERE status = ? AND seq > ? ORDER BY seq LIMIT ?",
                (Status.PENDING.value, seq, limit),
            ).fetchall()
        return [_intent(r) for r in rows]

    def _mark(self, intent: Intent, status: Status, reason: str | None) -> None:
        with self._lock:
            self.db.execute(
                "UPDATE sent_log SET status = ?, reason = ?, updated_at = ? "
                "WHERE event_id = ? AND recipient = ?",
                (status.value, reason, time.time(), intent.event_id, intent.recipient),
            )

    def mark_sent(self, intent: Intent, reply: str) -> None:
        self._mark(intent, Status.SENT, reply[:500] or None)

    def mark_failed(self, intent: Intent, reason: str) -> None:
        self._mark(intent, Status.FAILED, reason[:1000])

    def recent_sends(self, since: float) -> list[tuple[str, float]]:
        with self._lock:
            rows = self.db.execute(
                "SELECT recipient, created_at FROM sent_log WHERE created_at >= ? "
                "AND status != ? ORDER BY created_at",
                (since, Status.RATE_LIMITED.value),
            ).fetchall()
        return [(str(r), float(t)) for r, t in rows]

    # ---- for operators and tests -----------------------------------------------------

    def entries(self, status: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        query = (
            "SELECT seq, event_id, recipient, message_id, ticket_number, kind, status, reason, "
            "created_at, updated_at FROM sent_log"
        )
        args: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            args = (status,)
        query += " ORDER BY seq LIMIT ?"
        with self._lock:
            rows = self.db.execute(query, (*args, limit)).fetchall()
        keys = (
            "seq",
            "event_id",
            "recipient",
            "message_id",
            "ticket_number",
            "kind",
            "status",
            "reason",
            "created_at",
            "updated_at",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            row = self.db.execute(
                "SELECT COUNT(*) FROM sent_log WHERE status = ?", (Status.PENDING.value,)
            ).fetchone()
        return int(row[0])

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute("SELECT status, COUNT(*) FROM sent_log GROUP BY status")
            return {str(s): int(n) for s, n in rows.fetchall()}
