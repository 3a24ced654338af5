"""The content-addressed store of inbound mail (issue #20): every mail email ingest hands
on (a new ticket, a reply, a follow-up) is kept whole, and so is every attachment, under
the SHA-256 of its bytes. Events carry a reference (``sha256``, ``size``, Message-ID), never
the bytes; the ticket service serves the bytes to agents, integrations and (attachments)
the ticket's requester.

Two implementations of one interface (``put``/``get``/``purge``), chosen by
:func:`mail_store_for` from the settings both services share:

* ``HELPDESK_MAIL_STORE_DIR`` set, or no PostgreSQL ``HELPDESK_DATABASE_URL`` (the local
  default): :class:`FileMailStore`, a directory ``<aa>/<sha256>`` (written to a temporary
  name, fsynced, renamed into place, the directory fsynced), by default
  ``<data dir>/mail-store``; email ingest and the ticket service must see one directory
  (one machine, or one shared volume).
* otherwise, with a PostgreSQL ``HELPDESK_DATABASE_URL``: :class:`PostgresMailStore`, the
  table ``mail_blobs(sha256 text primary key, bytes bytea, stored_at timestamptz)`` in that
  database (created when first used; ``insert … on conflict do nothing``). Both services
  then need the same URL.

An object store would be a third class with the same methods.

Retention: ``HELPDESK_EMAIL_RETENTION_DAYS`` (0, the default, keeps everything);
``purge`` deletes what was stored longer ago; email ingest runs it when it starts (not on a
schedule yet). A purged original answers 404 like one never stored.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from services.durable_files import fsync_directory, write_atomically

if TYPE_CHECKING:
    import psycopg

    from services.settings import Settings

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+psycopg"})


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MailStore(Protocol):
    def put(self, data: bytes) -> str:
        """Keep ``data`` durably; returns its SHA-256 (hex). Storing the same bytes twice
        is one entry."""
        ...

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256`` (verified), or None."""
        ...

    def purge(self, older_than_days: int, *, now: float | None = None) -> int:
        """Delete entries stored more than ``older_than_days`` ago (0: none); how many."""
        ...

    def close(self) -> None:
        """Release what the store holds open (nothing for files)."""
        ...


def mail_store_for(settings: Settings) -> MailStore:
    """The one place that chooses the store (see the module): an explicit directory, else
    PostgreSQL when ``HELPDESK_DATABASE_URL`` names it, else ``<data dir>/mail-store``."""
    url = settings.database_url
    if settings.mail_store_dir is None and url and urlsplit(url).scheme in POSTGRES_SCHEMES:
        return PostgresMailStore(url)
    return FileMailStore.for_settings(settings)


class FileMailStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FileMailStore:
        return cls(data_dir / "mail-store")

    @classmethod
    def for_settings(cls, settings: Settings) -> FileMailStore:
        """``HELPDESK_MAIL_STORE_DIR``, else ``<data dir>/mail-store``."""
        if settings.mail_store_dir is not None:
            return cls(settings.mail_store_dir)
        return cls.in_data_dir(settings.data_dir)

    def _path(self, sha256: str) -> Path | None:
        if not _SHA256.match(sha256):
            return None
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        path = self._path(digest)
        assert path is not None
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        fsync_directory(path.parent)
        return digest

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return data if sha256_of(data) == sha256 else None

    def purge(self, older_than_days: int, *, now: float | None = None) -> int:
        """Delete entries stored more than ``older_than_days`` ago; returns how many."""
        if older_than_days <= 0 or not self.root.exists():
            return 0
        limit = (time.time() if now is None else now) - older_than_days * 86_400
        removed = 0
        for path in self.root.glob("??/*"):
            if _SHA256.match(path.name) and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def close(self) -> None:
        pass


class PostgresMailStore:
    """The mail store as a PostgreSQL table. One connection, opened on first use and again
    after it broke; calls are serialised on it (the store is called from worker threads)."""

    TABLE = "mail_blobs"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.dsn = urlunsplit(parts._replace(scheme="postgresql"))
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        if self._conn is None or self._conn.closed or self._conn.broken:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS mail_blobs ("
                    " sha256 text PRIMARY KEY,"
                    " bytes bytea NOT NULL,"
                    " stored_at timestamptz NOT NULL DEFAULT now())"
                )
            except psycopg.errors.UniqueViolation:
                pass  # another process created it at the same moment
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        with self._lock:
            self._connection().execute(
                "INSERT INTO mail_blobs (sha256, bytes) VALUES (%s, %s) "
                "ON CONFLICT (sha256) DO NOTHING",
                (digest, data),
            )
        return digest

    def get(self, sha256: str) -> bytes | None:
        if not _SHA256.match(sha256):
            return None
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT bytes FROM mail_blobs WHERE sha256 = %s", (sha256,))
                .fetchone()
            )
        if row is None:
            return None
        value = row[0]
        assert isinstance(value, bytes | bytearray | memoryview)
        data = bytes(value)
        return data if sha256_of(data) == sha256 else None

    def purge(self, older_than_days: int, *, now: float | None = None) -> int:
        if older_than_days <= 0:
            return 0
        limit = (time.time() if now is None else now) - older_than_days * 86_400
        with self._lock:
            cursor = self._connection().execute(
                "DELETE FROM mail_blobs WHERE stored_at < to_timestamp(%s)", (limit,)
            )
            return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
