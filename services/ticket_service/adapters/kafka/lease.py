"""One publishing relay per store and relay name: the relay lease.

Several relays may run on one store (compose runs two); only the holder of the lease
publishes, the others wait and take it over when the holder dies. The lease lives where the
store does and dies with its holder, so no time-based expiry is needed:

* **PostgreSQL**: a session advisory lock (``pg_try_advisory_lock``) on a connection of its
  own, with the store's connection settings; the server releases it when the holder's
  connection ends (process killed, network gone).
* **SQLite**: an exclusive ``flock`` on a lock file next to the database file; the kernel
  releases it when the holder's process ends.
* **In-memory SQLite**: one process, one relay: always held.

A standby tries again every ``retry_interval`` seconds, so it takes over within about that
long (plus, on PostgreSQL, the time the server needs to notice a dead connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from typing import Any

from services.ticket_service.adapters.saved_signal import postgres_connect_kwargs

log = logging.getLogger(__name__)

LEASE_CHECK_TIMEOUT = 5.0
"""Seconds the lease session has to answer before each page is published."""

LOCK_SUFFIX = ".relay-lease"


def _lock_key(relay_name: str) -> int:
    """A stable signed 64-bit advisory lock key for the relay name."""
    digest = hashlib.sha256(f"helpdesk-relay:{relay_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RelayLease:
    """``await lease.acquire()`` returns once this relay holds the lease; ``release()``
    gives it up. ``lost()`` is True once a held lease can no longer be vouched for (the
    PostgreSQL connection broke): the relay must stop publishing."""

    def __init__(self, env: dict[str, str], relay_name: str, retry_interval: float = 1.0) -> None:
        self.relay_name = relay_name
        self.retry_interval = retry_interval
        self._pg = postgres_connect_kwargs(env)
        path = env.get("SQLITE_DBNAME", "")
        self._lock_path = (
            f"{path}{LOCK_SUFFIX}-{relay_name}"
            if self._pg is None and path and not path.startswith("file:")
            else None
        )
        self._fd: int | None = None
        self._connection: Any = None

    async def acquire(self) -> None:
        waiting_said = False
        while not await self._try():
            if not waiting_said:
                log.info("relay %s: another relay holds the lease; standing by", self.relay_name)
                waiting_said = True
            await asyncio.sleep(self.retry_interval)
        log.info("relay %s: holds the lease; publishing", self.relay_name)

    async def lost(self) -> bool:
        """Whether a PostgreSQL lease's session is gone. psycopg marks a connection closed
        only after a use of it fails, so it is used: a session that answers still holds
        its advisory lock; one the server ended (terminated, timed out, failed over) does
        not, and a standby may hold the lease by now."""
        connection = self._connection
        if connection is None:
            return False
        if connection.closed:
            return True
        try:
            async with asyncio.timeout(LEASE_CHECK_TIMEOUT):
                await connection.execute("SELECT 1")
        except Exception:
            return True
        return False

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the flock
            self._fd = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()  # the session's advisory lock goes with it
            self._connection = None

    async def _try(self) -> bool:
        if self._pg is not None:
            return await self._try_postgres(self._pg)
        if self._lock_path is not None:
            return await asyncio.to_thread(self._try_flock, self._lock_path)
        return True

    def _try_flock(self, path: str) -> bool:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def _try_postgres(self, kwargs: dict[str, Any]) -> bool:
        import psycopg

        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(
                    autocommit=True, connect_timeout=5, **kwargs
                )
            cursor = await self._connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (_lock_key(self.relay_name),)
            )
            row = await cursor.fetchone()
            return bool(row and row[0])
        except psycopg.Error as error:
            log.warning("relay %s: lease check failed (%s)", self.relay_name, error)
            await self.release()
            return False
