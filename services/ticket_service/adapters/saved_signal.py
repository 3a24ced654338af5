"""The cross-process "something was saved" signal that wakes the outbox relay.

Every process that saves (the HTTP server, the worker's intake, the CLI) sends the signal
after its transaction committed; the relay, in whatever process it runs, listens and looks
at the store at once instead of at its next fallback poll. The signal carries nothing: the
store stays the only source of truth, and a lost signal costs at most one fallback poll.

* **PostgreSQL**: ``NOTIFY helpdesk_saved`` on one of the store's own pooled connections
  (autocommit, so after the save's commit); the relay holds one more connection with the
  same settings that ``LISTEN``\\ s, and reconnects with backoff when it drops.
* **SQLite**: Unix datagram sockets in a directory next to the database file
  (``helpdesk.sqlite3.wake/``): each listening relay binds one socket there, and a saver
  sends one byte to every socket it finds (non-blocking; a full buffer already holds a
  wake-up; the socket of a relay that died is removed by the first saver that meets it).
  Chosen over Redis pub/sub because it needs nothing running and works wherever processes
  share the database file. Paths longer than a Unix socket address allows (107 bytes)
  leave the relay on its fallback poll, with a warning.
* **In-memory SQLite**: one process only; the in-process listener is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.ticket_service.adapters.kafka.backoff import backoff_delay

log = logging.getLogger(__name__)

CHANNEL = "helpdesk_saved"
"""The PostgreSQL notification channel."""
WAKE_DIR_SUFFIX = ".wake"
MAX_SOCKET_PATH = 107
"""Longest ``AF_UNIX`` path on Linux (``sun_path`` is 108 bytes with the final NUL)."""
PG_KEYS = {
    "POSTGRES_DBNAME": "dbname",
    "POSTGRES_HOST": "host",
    "POSTGRES_PORT": "port",
    "POSTGRES_USER": "user",
    "POSTGRES_PASSWORD": "password",
}


def wake_dir(env: dict[str, str]) -> Path | None:
    """The socket directory of a SQLite file store, None for other stores."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.sqlite":
        return None
    path = env["SQLITE_DBNAME"]
    if path.startswith("file:") or path == ":memory:":
        return None
    return Path(path + WAKE_DIR_SUFFIX)


def postgres_connect_kwargs(env: dict[str, str]) -> dict[str, Any] | None:
    """psycopg connection arguments of a PostgreSQL store, None for other stores."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return None
    return {arg: env[key] for key, arg in PG_KEYS.items() if key in env}


# ---- sending (any process that saves) ------------------------------------------------


class SqliteSavedSignal:
    """Sends one datagram to every relay socket in the directory. Never raises."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)

    def __call__(self) -> None:
        try:
            names = os.listdir(self.directory)
        except OSError:
            return  # no relay has listened yet
        for name in names:
            path = os.path.join(self.directory, name)
            try:
                self._sock.sendto(b"s", path)
            except BlockingIOError:
                pass  # its buffer is full of wake-ups already
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):  # a relay that died left its socket
                    os.unlink(path)
            except OSError as error:
                log.debug("saved signal to %s failed: %s", path, error)


class PostgresSavedSignal:
    """``NOTIFY`` on one of the store's pooled (autocommit) connections. Never raises."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def __call__(self) -> None:
        try:
            with self.datastore.get_connection() as connection:
                connection.execute(f"NOTIFY {CHANNEL}")
        except Exception as error:  # the save has committed; a lost signal costs a poll
            log.debug("saved signal (NOTIFY) failed: %s", error)


def saved_signal(env: dict[str, str], recorder: Any) -> Callable[[], None] | None:
    """The sender for this store (``recorder``: the application's), None if there is none."""
    directory = wake_dir(env)
    if directory is not None:
        return SqliteSavedSignal(directory)
    if postgres_connect_kwargs(env) is not None:
        return PostgresSavedSignal(recorder.datastore)
    return None


# ---- listening (the relay) -------------------------------------------------------------


async def listen_for_saves(env: dict[str, str], wake: Callable[[], None]) -> None:
    """Call ``wake`` whenever another process signals a save, until cancelled. Returns at
    once for a store without a cross-process signal, or when the signal cannot be set up
    (logged: the relay is left to its fallback poll)."""
    try:
        directory = wake_dir(env)
        if directory is not None:
            await _listen_sqlite(directory, wake)
            return
        kwargs = postgres_connect_kwargs(env)
        if kwargs is not None:
            await _listen_postgres(kwargs, wake)
    except OSError as error:
        log.warning("relay: no cross-process wake-up (%s); fallback poll only", error)


def _bind(directory: Path) -> tuple[socket.socket, Path] | None:
    path = directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        log.warning(
            "relay: %s is too long for a Unix socket; woken by other processes' saves "
            "only at the fallback poll",
            path,
        )
        return None
    directory.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(str(path))
    return sock, path


async def _listen_sqlite(directory: Path, wake: Callable[[], None]) -> None:
    bound = _bind(directory)
    if bound is None:
        return
    sock, path = bound
    loop = asyncio.get_running_loop()

    def readable() -> None:
        with contextlib.suppress(BlockingIOError):
            while sock.recv(4096):
                pass
        wake()

    loop.add_reader(sock.fileno(), readable)
    wake()  # saves made before we listened
    try:
        await asyncio.Event().wait()
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(path)


async def _listen_postgres(kwargs: dict[str, Any], wake: Callable[[], None]) -> None:
    import psycopg

    attempt = 0
    while True:
        try:
            connection = await psycopg.AsyncConnection.connect(
                autocommit=True, connect_timeout=5, **kwargs
            )
            async with connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                attempt = 0
                wake()  # saves made while we were not listening
                async for _ in connection.notifies():
                    wake()
        except psycopg.Error as error:
            attempt += 1
            delay = backoff_delay(attempt)
            log.warning("relay: LISTEN %s failed (%s); retry in %.1fs", CHANNEL, error, delay)
            await asyncio.sleep(delay)
