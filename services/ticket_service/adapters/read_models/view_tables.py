"""The view tables, in the same database as the events (SQLite or PostgreSQL), reached
through the event store's own connection pool so that every write is one transaction on
the same database.

SQL is written with ``?`` placeholders and translated for psycopg.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS helpdesk_view_tracking (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS helpdesk_view_tickets (
        number BIGINT PRIMARY KEY,
        is_closed INTEGER NOT NULL,
        closed_position BIGINT,
        org TEXT NOT NULL,
        follow_up_of BIGINT,
        doc TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_tickets_open "
    "ON helpdesk_view_tickets (is_closed, number)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_tickets_closed "
    "ON helpdesk_view_tickets (is_closed, closed_position)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_tickets_org ON helpdesk_view_tickets (org, number)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_tickets_follow_up_of "
    "ON helpdesk_view_tickets (follow_up_of, number)",
    """CREATE TABLE IF NOT EXISTS helpdesk_view_participants (
        email TEXT NOT NULL,
        number BIGINT NOT NULL,
        PRIMARY KEY (email, number))""",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_participants_number "
    "ON helpdesk_view_participants (number)",
)


class Cursor:
    """A DB-API cursor of either driver, with ``?`` placeholders and dict-like rows."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self._raw = raw
        self._postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self._raw.execute(sql.replace("?", "%s") if self._postgres else sql, tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(sql.replace("?", "%s") if self._postgres else sql, rows)

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)

    def fetchall(self) -> list[Any]:
        return list(self._raw.fetchall())

    def fetchone(self) -> Any:
        return self._raw.fetchone()


class ViewTables:
    def __init__(self, app: Application[Any]) -> None:
        recorder: Any = app.recorder
        self._datastore = recorder.datastore
        self.postgres = type(self._datastore).__module__.startswith("eventsourcing.postgres")
        with self.transaction() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        with self._datastore.transaction(commit=commit) as raw:
            yield Cursor(getattr(raw, "sqlite_cursor", raw), self.postgres)
