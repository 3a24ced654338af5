"""The content-addressed store of inbound mail (issue #20): every reply email ingest turns
into a comment is kept whole, and so is every attachment, under the SHA-256 of its bytes.
Events carry a reference (``sha256``, ``size``, Message-ID), never the bytes; the ticket
service serves the bytes to agents, integrations and (attachments) the ticket's requester.

Locally the store is a directory, ``<data dir>/mail-store/<aa>/<sha256>`` (written to a
temporary name, fsynced, renamed into place, the directory fsynced), shared by email ingest
and the ticket service on one machine. Elsewhere point ``HELPDESK_MAIL_STORE_DIR`` of both at
one shared volume (as docker-compose.yml does), or put an object store behind the same
methods; a PostgreSQL table is not implemented yet.

Retention: ``HELPDESK_EMAIL_RETENTION_DAYS`` (0, the default, keeps everything);
:meth:`FileMailStore.purge` deletes what was stored longer ago; email ingest runs it when it
starts (not on a schedule yet). A purged original answers 404 like one never stored.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from services.settings import Settings


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MailStore(Protocol):
    def put(self, data: bytes) -> str:
        """Keep ``data`` durably; returns its SHA-256 (hex). Storing the same bytes twice
        is one entry."""
        ...

    def get(self, sha256: str) -> bytes | None: ...


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
        tmp = path.with_name(f".{digest}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
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
