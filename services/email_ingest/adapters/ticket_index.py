"""The local index email ingest routes by, in SQLite (a file under the data dir, or memory).

It holds: tickets (number → id, requester, CCs, status, version), Message-IDs → ticket
number, the Message-IDs this process handed on (for "processed once" and for replies that
arrive before their parent's ticket is known), and the event-topic positions it has applied,
saved in the same transaction as the rows they produced, so a restart resumes exactly and a
deleted file is rebuilt by reading the events topic from the start.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from contracts.common import Status
from services.email_ingest.application.commands import message_id_of
from services.email_ingest.domain.headers import MESSAGE_ID
from services.email_ingest.domain.tickets import TicketView

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    number INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    requester TEXT NOT NULL,
    cc TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    ticket_number INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS handed_on (
    message_id TEXT PRIMARY KEY,
    command_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    rejected TEXT
);
CREATE TABLE IF NOT EXISTS positions (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""


class SqliteTicketIndex:
    def __init__(self, path: Path | str = ":memory:") -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ---- lookups (TicketLookup) ----------------------------------------------------

    def ticket(self, number: int) -> TicketView | None:
        row = self.db.execute(
            "SELECT number, id, requester, cc, status FROM tickets WHERE number = ?", (number,)
        ).fetchone()
        return _view(row) if row else None

    def ticket_for_message(self, message_id: str) -> TicketView | None:
        row = self.db.execute(
            "SELECT t.number, t.id, t.requester, t.cc, t.status FROM messages m "
            "JOIN tickets t ON t.number = m.ticket_number WHERE m.message_id = ?",
            (message_id,),
        ).fetchone()
        return _view(row) if row else None

    def highest_number(self) -> int:
        row = self.db.execute("SELECT MAX(number) FROM tickets").fetchone()
        return int(row[0] or 0)

    def is_pending(self, message_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM handed_on h WHERE h.message_id = ? AND h.rejected IS NULL "
            "AND h.kind != 'dropped' AND NOT EXISTS "
            "(SELECT 1 FROM messages m WHERE m.message_id = h.message_id)",
            (message_id,),
        ).fetchone()
        return row is not None

    # ---- what we handed on -----------------------------------------------------------

    def record_handed_on(self, message_id: str, command_id: str, kind: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO handed_on (message_id, command_id, kind, at) "
            "VALUES (?, ?, ?, ?)",
            (message_id, command_id, kind, datetime.now(UTC).isoformat()),
        )

    def handed_on(self, message_id: str) -> str | None:
        row = self.db.execute(
            "SELECT kind FROM handed_on WHERE message_id = ?", (message_id,)
        ).fetchone()
        return row[0] if row else None

    def rejection(self, message_id: str) -> str | None:
        row = self.db.execute(
            "SELECT rejected FROM handed_on WHERE message_id = ?", (message_id,)
        ).fetchone()
        return row[0] if row else None

    # ---- learning from the event stream ----------------------------------------------

    def positions(self, topic: str) -> dict[int, int]:
        rows = self.db.execute(
            "SELECT partition, next_offset FROM positions WHERE topic = ?", (topic,)
        ).fetchall()
        return {p: o for p, o in rows}

    def apply_batch(
        self, topic: str, events: Iterable[dict[str, Any]], positions: dict[int, int]
    ) -> None:
        """Apply event envelopes (JSON dicts) and record the positions, in one transaction."""
        with _transaction(self.db):
            for event in events:
                self._apply(event)
            self.db.executemany(
                "INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
                [(topic, p, o) for p, o in positions.items()],
            )

    def apply(self, event: dict[str, Any]) -> None:
        with _transaction(self.db):
            self._apply(event)

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event_type")
        number = event.get("ticket_number")
        data = event.get("data") or {}
        version = int(event.get("version") or 0)
        if kind in ("TicketCreated", "FollowUpCreated"):
            self.db.execute(
                "INSERT OR IGNORE INTO tickets (number, id, requester, cc, status, version) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    data["number"],
                    str(event["ticket_id"]),
                    str(data["requester"]).lower(),
                    json.dumps([str(c).lower() for c in data.get("cc") or []]),
                    data["status"],
                    version,
                ),
            )
            source_key = data.get("source_key")
            if source_key and MESSAGE_ID.fullmatch(source_key):
                self._learn_message(source_key, data["number"])
        elif number is None:
            pass
        elif kind == "StatusChanged":
            self._update(number, version, status=data["to_status"])
        elif kind == "TicketClosed":
            self._update(number, version, status=Status.CLOSED.value)
        elif kind == "TicketUpdated":
            changes = data.get("changes") or {}
            fields: dict[str, Any] = {}
            if "requester" in changes:
                fields["requester"] = str(changes["requester"]).lower()
            if "cc" in changes:
                fields["cc"] = json.dumps([str(c).lower() for c in changes["cc"] or []])
            if "status" in changes:
                fields["status"] = changes["status"]
            self._update(number, version, **fields)
        elif kind == "CommentAdded":
            self._update(number, version)
        mid = message_id_of(event.get("correlation_id"))
        if mid is None:
            return
        if kind in ("TicketCreated", "FollowUpCreated", "CommentAdded") and number is not None:
            self._learn_message(mid, number)
        elif kind == "CommandRejected":
            self.db.execute(
                "UPDATE handed_on SET rejected = ? WHERE message_id = ?",
                (data.get("error") or "rejected", mid),
            )

    def _learn_message(self, message_id: str, number: int) -> None:
        # The first ticket a Message-ID made wins (a follow-up over a comment never happens
        # for one id: the ticket service makes one or the other).
        self.db.execute(
            "INSERT OR IGNORE INTO messages (message_id, ticket_number) VALUES (?, ?)",
            (message_id, number),
        )

    def _update(self, number: int, version: int, **fields: Any) -> None:
        assignments = "".join(f", {name} = ?" for name in fields)
        self.db.execute(
            f"UPDATE tickets SET version = ?{assignments} WHERE number = ? AND version < ?",
            (version, *fields.values(), number, version),
        )


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _view(row: tuple[Any, ...]) -> TicketView:
    number, id_, requester, cc, status = row
    return TicketView(
        number=number,
        id=UUID(id_),
        requester=requester,
        cc=tuple(json.loads(cc)),
        status=Status(status),
    )
