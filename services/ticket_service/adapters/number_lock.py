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
  own, with TCP keepalives so the server soon ends the session of a holder whose machine
  vanished; the server releases the lock when the holder's session ends (a process killed
  mid-save).
* **SQLite file**: an exclusive ``flock`` on ``<database>.numbers-lock``; the kernel
  releases it when the holder's process ends.
* **In-memory SQLite**: one process; no lock (None).

A lock not had within ``WAIT_SECONDS`` (a holder stopped but alive), or a broken
connection, gives ``False``: the transaction goes on without it, and so do the next ones
for ``BACKOFF_SECONDS`` (no writer waits on a stuck holder twice in a row).

Only a transaction that creates a ticket takes it (the unit of work asks for it when it
hands out its first number), from then until its save has committed. Saves are serialised
by the store anyway (PostgreSQL's table lock, SQLite's one writer).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import time
from typing import Any

from services.ticket_service.adapters.saved_signal import postgres_connect_kwargs
from services.ticket_service.application.unit_of_work import NumberLock

log = logging.getLogger(__name__)

WAIT_SECONDS = 2.0
"""How long a transaction waits for the lock before it goes on without it."""
BACKOFF_SECONDS = 30.0
"""After a lock not had, transactions go without it for this long."""
LOCK_SUFFIX = ".numbers-lock"
KEY = int.from_bytes(hashlib.sha256(b"helpdesk-ticket-numbers").digest()[:8], "big", signed=True)
SESSION_SETTINGS = (
    f"SET lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'",
    # the server probes the holder's connection and ends its session (its lock with it)
    # within about 11 s of the holder's machine going silent
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
)


class _Backoff:
    """Remembers a failure: ``acquire`` answers False without trying until it has passed."""

    def __init__(self) -> None:
        self._skip_until = 0.0

    def _skipping(self) -> bool:
        return time.monotonic() < self._skip_until

    def _failed(self, error: object) -> bool:
        log.warning(
            "ticket numbers: writer lock not had (%s); saving without it for %.0f s",
            error,
            BACKOFF_SECONDS,
        )
        self._skip_until = time.monotonic() + BACKOFF_SECONDS
        return False


class PostgresNumberLock(_Backoff):
    def __init__(self, connect_kwargs: dict[str, Any]) -> None:
        super().__init__()
        self._kwargs = connect_kwargs
        self._connection: Any = None

    def acquire(self) -> bool:
        import psycopg

        if self._skipping():
            return False
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(
                    autocommit=True, connect_timeout=5, **self._kwargs
                )
                for setting in SESSION_SETTINGS:
                    self._connection.execute(setting)
            self._connection.execute("SELECT pg_advisory_lock(%s)", (KEY,))
        except psycopg.Error as error:
            self._drop()
            return self._failed(error)
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


class FileNumberLock(_Backoff):
    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._skipping():
            return False
        deadline = time.monotonic() + WAIT_SECONDS
        pause = 0.0005
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        return self._failed(f"held for more than {WAIT_SECONDS:g} s")
                    time.sleep(pause)
                    pause = min(pause * 2, 0.01)
        except OSError as error:
            return self._failed(error)

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
