"""The suppression list (issue #17): addresses that sent auto-submitted, bulk or list mail.

Email ingest sees such mail (and drops it, ``domain/loops.py``); outbound mail must never
answer those addresses. The two services share this one small SQLite file,
``HELPDESK_MAIL_SUPPRESSION_PATH`` (default ``<data dir>/mail-suppression.sqlite3``): the
ingest adds an address with the reason it was dropped for, the notifier reads the list
before it plans each event's mails. Nothing goes on the wire for it (a dropped mail makes no
command and no event), and an entry stays until an operator deletes it.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.settings import Settings

FILE_NAME = "mail-suppression.sqlite3"

SUPPRESSING_REASONS = ("auto_submitted:", "precedence:", "x-auto", "x-loop", "mailing_list")
"""Prefixes of the ingest's drop reasons that put the sender on the list (not our own
address, nor a bounce's ``mailer-daemon``: nobody would mail them anyway)."""


def suppresses(reason: str) -> bool:
    return reason.startswith(SUPPRESSING_REASONS)


class SuppressionList:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS suppressed ("
            " address TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL)"
        )

    def add(self, address: str, reason: str) -> None:
        with self._lock:
            self.db.execute(
                "INSERT OR IGNORE INTO suppressed (address, reason, at) VALUES (?, ?, ?)",
                (address.strip().lower(), reason, datetime.now(UTC).isoformat()),
            )

    def remove(self, address: str) -> None:
        with self._lock:
            self.db.execute("DELETE FROM suppressed WHERE address = ?", (address.strip().lower(),))

    def among(self, addresses: list[str] | tuple[str, ...]) -> set[str]:
        """Which of ``addresses`` are suppressed (lower case)."""
        wanted = [a.strip().lower() for a in addresses]
        if not wanted:
            return set()
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self.db.execute(
                f"SELECT address FROM suppressed WHERE address IN ({marks})",
                wanted,
            ).fetchall()
        return {str(r[0]) for r in rows}

    def entries(self) -> list[tuple[str, str, str]]:
        with self._lock:
            rows = self.db.execute(
                "SELECT address, reason, at FROM suppressed ORDER BY at"
            ).fetchall()
        return [(str(a), str(r), str(t)) for a, r, t in rows]

    def close(self) -> None:
        self.db.close()


def suppression_for(settings: Settings) -> SuppressionList:
    return SuppressionList(settings.mail_suppression_path or Path(settings.data_dir) / FILE_NAME)
