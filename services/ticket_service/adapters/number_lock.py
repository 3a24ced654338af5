"""The store-wide writer lock: one transaction at a time, across processes, picks the next
ticket numbers and saves.

A ticket's id is derived from its number, so a transaction picks its numbers before it
saves. Without a lock, every process that creates tickets (the HTTP server, the worker's
intake) guessed the next free number and, when another process had saved it first, found
out at the save, looked the number up again and ran its whole batch once more. Under
steady creates from the API, a backlog of commands in the intake met that on most of its
transactions and spent seconds per batch re-running them (the soak's "intake stall": a
150-command backlog took 26 s beside three writing processes, 0.7 s alone). Holding this
lock from picking the numbers until the save has committed makes the guess right the
first time; the store's own conflict check stays as the fallback when the lock cannot be
had.

* **PostgreSQL**: a session advisory lock (``pg_advisory_lock``) on a connection of its
  own; the server releases it when the holder's session ends (a process killed mid-save).
  A lock not granted within ``LOCK_TIMEOUT`` or a broken connection gives ``False``: the
  transaction goes on without it.
* **SQLite file**: an exclusive ``flock`` on ``<database>.numbers-lock``; the kernel
  releases it when the holder's process ends.
* **In-memory SQLite**: one process; no lock (None).

Saves are serialised by the store anyway (PostgreSQL's table lock, SQLite's one writer);
this adds the few milliseconds in which a transaction's commands run before its save.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from typing import Any

from services.ticket_service.adapters.saved_signal import postgres_connect_kwargs
from services.ticket_service.application.unit_of_work import NumberLock

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "10s"
"""How long a transaction waits for the lock before it goes on without it (PostgreSQL)."""
LOCK_SUFFIX = ".numbers-lock"
KEY = int.from_bytes(hashlib.sha256(b"helpdesk-ticket-numbers").digest()[:8], "big", signed=True)


class PostgresNumberLock:
    def __init__(self, connect_kwargs: dict[str, Any]) -> None:
        self._kwargs = connect_kwargs
        self._connection: Any = None

    def acquire(self) -> bool:
        import psycopg

        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(
                    autocommit=True, connect_timeout=5, **self._kwargs
                )
                self._connection.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            self._connection.execute("SELECT pg_advisory_lock(%s)", (KEY,))
        except psycopg.Error as error:
            log.warning("ticket numbers: writer lock unavailable (%s); saving without it", error)
            self._drop()
            return False
        return True

    def release(self) -> None:
        import psycopg

        try:
            self._connection.execute("SELECT pg_advisory_unlock(%s)", (KEY,))
        except psycopg.Error:
            self._drop()  # the lock ends with the session

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


class FileNumberLock:
    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError as error:
            log.warning("ticket numbers: writer lock unavailable (%s); saving without it", error)
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def number_lock(env: dict[str, str]) -> NumberLock | None:
    """The lock for this store, None for a store only one process can open."""
    kwargs = postgres_connect_kwargs(env)
    if kwargs is not None:
        return PostgresNumberLock(kwargs)
    path = env.get("SQLITE_DBNAME", "")
    if (
        env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite"
        and path
        and (path != ":memory:" and not path.startswith("file:"))
    ):
        return FileNumberLock(path + LOCK_SUFFIX)
    return None
