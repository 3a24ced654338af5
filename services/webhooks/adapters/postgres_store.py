"""The webhook store on PostgreSQL (compose; ``HELPDESK_DATABASE_URL`` naming PostgreSQL):
the same tables and statements as the SQLite store (``sqlite_store.py``), with ``%s``
parameters. Every write transaction first takes one advisory lock, so writers (the API,
the consumers and the dispatchers of every process) are serialized as SQLite serializes
them: claims and settles never interleave."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from services.webhooks.adapters.sqlite_store import SCHEMA, SqliteWebhookStore

LOCK_KEY = 0x48_57_48_4B  # "HWHK"

PG_SCHEMA = (
    SCHEMA.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    .replace(" REAL", " DOUBLE PRECISION")
    .replace(" BLOB", " BYTEA")
)


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class _Connection:
    """The slice of sqlite3's connection API the store uses, over psycopg."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(_pg(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with self.conn.cursor() as cursor:
                cursor.executemany(_pg(sql), rows)

    def close(self) -> None:
        self.conn.close()


class PostgresWebhookStore(SqliteWebhookStore):
    def __init__(self, url: str, *, horizon_seconds: float = 86400.0) -> None:
        self.horizon_seconds = horizon_seconds
        self._lock = threading.Lock()
        self.db = self._connect(url)

    def _connect(self, path: str) -> Any:
        db = _Connection(path)
        with db.conn.transaction():
            db.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
            for statement in PG_SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
        return db

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self._lock, self.db.conn.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
            yield self.db
