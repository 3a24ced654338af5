"""Dead letters kept in the ticket store (SQLite or PostgreSQL), beside the events: the
Kafka topic ``helpdesk.dead-letter`` is a copy that an embedded broker loses on restart; the
table is what ``helpdesk dead-letters`` and ``/api/v1/dead-letters`` read.

A dead letter is recorded before it is published and before its batch's offsets are
committed; recording the same one again (a redelivered batch) changes nothing. ``retry``
(``adapters/kafka/dead_letter_retry.py``) republishes the original command and marks it
``retried``; ``purge`` deletes (the caller logs who purged what).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from eventsourcing.application import Application

from contracts.dead_letters import DeadLetter
from services.ticket_service.adapters.read_models.view_tables import Cursor

DeadLetterStatus = Literal["pending", "retried"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS helpdesk_dead_letters (
        dead_letter_id TEXT PRIMARY KEY,
        dead_lettered_at TEXT NOT NULL,
        source_topic TEXT NOT NULL,
        reason TEXT NOT NULL,
        status TEXT NOT NULL,
        retries INTEGER NOT NULL,
        retried_at TEXT,
        letter TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS helpdesk_dead_letters_at "
    "ON helpdesk_dead_letters (dead_lettered_at, dead_letter_id)",
)
COLUMNS = "dead_letter_id, status, retries, retried_at, letter"


@dataclass(frozen=True)
class StoredDeadLetter:
    letter: DeadLetter
    status: DeadLetterStatus
    retries: int
    retried_at: datetime | None


class DeadLetterStore:
    def __init__(self, app: Application[Any]) -> None:
        self._app = app  # the application closes its connection pool when collected
        recorder: Any = app.recorder
        self._datastore = recorder.datastore
        self._postgres = type(self._datastore).__module__.startswith("eventsourcing.postgres")
        with self._transaction() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        with self._datastore.transaction(commit=True) as raw:
            yield Cursor(getattr(raw, "sqlite_cursor", raw), self._postgres)

    def record(self, letters: Iterable[DeadLetter]) -> int:
        """Keep these dead letters (one transaction); already kept ones are left as they
        are. Returns how many were new."""
        rows = [
            (
                str(letter.dead_letter_id),
                letter.dead_lettered_at.astimezone(UTC).isoformat(),
                letter.source_topic,
                letter.reason,
                letter.model_dump_json(),
            )
            for letter in letters
        ]
        added = 0
        with self._transaction() as cur:
            for row in rows:
                cur.execute(
                    "INSERT INTO helpdesk_dead_letters (dead_letter_id, dead_lettered_at, "
                    "source_topic, reason, status, retries, retried_at, letter) "
                    "VALUES (?, ?, ?, ?, 'pending', 0, NULL, ?) "
                    "ON CONFLICT (dead_letter_id) DO NOTHING",
                    row,
                )
                added += max(0, cur.rowcount)
        return added

    def oldest(
        self, *, status: DeadLetterStatus | None = None, limit: int = 100
    ) -> list[StoredDeadLetter]:
        """Oldest first."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        with self._transaction() as cur:
            rows = cur.execute(
                f"SELECT {COLUMNS} FROM helpdesk_dead_letters {where} "
                "ORDER BY dead_lettered_at, dead_letter_id LIMIT ?",
                [*params, limit],
            ).fetchall()
        return [_stored(row) for row in rows]

    def get(self, dead_letter_id: UUID) -> StoredDeadLetter | None:
        with self._transaction() as cur:
            row = cur.execute(
                f"SELECT {COLUMNS} FROM helpdesk_dead_letters WHERE dead_letter_id = ?",
                [str(dead_letter_id)],
            ).fetchone()
        return _stored(row) if row is not None else None

    def mark_retried(self, dead_letter_id: UUID, at: datetime) -> StoredDeadLetter | None:
        with self._transaction() as cur:
            cur.execute(
                "UPDATE helpdesk_dead_letters SET status = 'retried', retries = retries + 1, "
                "retried_at = ? WHERE dead_letter_id = ?",
                [at.astimezone(UTC).isoformat(), str(dead_letter_id)],
            )
        return self.get(dead_letter_id)

    def purge(
        self, ids: Sequence[UUID] = (), *, status: DeadLetterStatus | None = None
    ) -> list[UUID]:
        """Delete the dead letters with these ids (or, with no ids, every one with this
        ``status``; every one when ``status`` is None too). Returns the ids deleted."""
        with self._transaction() as cur:
            if ids:
                found = [
                    UUID(row["dead_letter_id"])
                    for row in (
                        cur.execute(
                            "SELECT dead_letter_id FROM helpdesk_dead_letters "
                            "WHERE dead_letter_id = ?",
                            [str(i)],
                        ).fetchone()
                        for i in ids
                    )
                    if row is not None
                ]
                cur.executemany(
                    "DELETE FROM helpdesk_dead_letters WHERE dead_letter_id = ?",
                    [(str(i),) for i in found],
                )
                return found
            where, params = ("WHERE status = ?", [status]) if status else ("", [])
            found = [
                UUID(row["dead_letter_id"])
                for row in cur.execute(
                    f"SELECT dead_letter_id FROM helpdesk_dead_letters {where}",
                    params,
                ).fetchall()
            ]
            cur.execute(f"DELETE FROM helpdesk_dead_letters {where}", params)
            return found


def _stored(row: Any) -> StoredDeadLetter:
    retried_at = row["retried_at"]
    return StoredDeadLetter(
        letter=DeadLetter.model_validate_json(row["letter"]),
        status=row["status"],
        retries=int(row["retries"]),
        retried_at=datetime.fromisoformat(retried_at) if retried_at else None,
    )
