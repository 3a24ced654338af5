"""The webhook service's store in SQLite (``<data_dir>/webhooks.sqlite3``), shared by the
ticket service's management API and every dispatcher process (WAL; write transactions are
``BEGIN IMMEDIATE``). ``postgres_store.py`` runs the same statements on PostgreSQL.

Tables: ``webhooks`` (subscriptions and their signing secrets — the only place a secret is
kept), ``audit`` (who changed which subscription how; never a secret), ``tickets`` (the
per-ticket projection the payloads are built from), ``processed`` (consumed event ids),
``deliveries`` (one row per (event, webhook): body fixed at planning, status
``pending`` → ``delivered`` | ``failed``, the lease of the dispatcher sending it) and
``attempts`` (one row per HTTP attempt).

An endpoint failing with no success for ``HELPDESK_WEBHOOK_DISABLE_AFTER`` is disabled: its
pending deliveries end ``failed`` (redeliver them after re-enabling it).

A dispatcher claims deliveries by leasing them (``lease_owner``, ``lease_until``); a lease
that expires (its process died) makes the delivery claimable again. Only the oldest pending
delivery of a (webhook, ticket) is claimable, so each endpoint sees a ticket's events in
version order.
"""

from __future__ import annotations

import json
import logging
import secrets as random_secrets
import sqlite3
import threading
import time
import uuid
from base64 import b64encode
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services.webhooks.application.planning import Planner, ping_delivery
from services.webhooks.application.ports import (
    Claimed,
    DeliveryRow,
    NewDelivery,
    Settled,
    Webhook,
)
from services.webhooks.domain.retry import disable_due

log = logging.getLogger("helpdesk.webhooks.store")

FILE_NAME = "webhooks.sqlite3"
RESPONSE_KEPT = 64 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    description TEXT,
    active INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until REAL,
    disabled_reason TEXT,
    last_success_at REAL,
    failing_since REAL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    number INTEGER PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS processed (
    event_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    type TEXT NOT NULL,
    body BLOB NOT NULL,
    event_at REAL NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    lease_owner TEXT,
    lease_until REAL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_ready ON deliveries (status, next_attempt_at, seq);
CREATE INDEX IF NOT EXISTS deliveries_order
    ON deliveries (webhook_id, ordering_key, status, seq);
CREATE INDEX IF NOT EXISTS deliveries_hook ON deliveries (webhook_id, seq);
CREATE TABLE IF NOT EXISTS attempts (
    delivery_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    at REAL NOT NULL,
    status_code INTEGER,
    duration REAL NOT NULL,
    error TEXT,
    next_attempt_at REAL,
    response BLOB,
    PRIMARY KEY (delivery_id, n)
);
"""

WEBHOOK_COLUMNS = (
    "id, url, event_types, description, active, created_at, updated_at, disabled_reason, "
    "last_success_at"
)


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (Standard Webhooks)."""
    return "whsec_" + b64encode(random_secrets.token_bytes(32)).decode()


def _webhook(row: Sequence[Any]) -> Webhook:
    return Webhook(
        id=row[0],
        url=row[1],
        event_types=tuple(json.loads(row[2])),
        description=row[3],
        active=bool(row[4]),
        created_at=float(row[5]),
        updated_at=float(row[6]),
        disabled_reason=row[7],
        last_success_at=row[8],
    )


class SqliteWebhookStore:
    def __init__(self, path: Path | str = ":memory:", *, horizon_seconds: float = 86400.0):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.horizon_seconds = horizon_seconds
        self._lock = threading.Lock()
        self.db: Any = self._connect(str(path))

    def _connect(self, path: str) -> Any:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.executescript(SCHEMA)
        return db

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _read(self, query: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self.db.execute(query, tuple(args)).fetchall()

    def _audit(self, db: Any, webhook_id: str, actor: str, action: str,
               details: dict[str, Any], at: float) -> None:  # fmt: skip
        db.execute(
            "INSERT INTO audit (webhook_id, at, actor, action, details) VALUES (?, ?, ?, ?, ?)",
            (webhook_id, at, actor, action, json.dumps(details, sort_keys=True)),
        )

    # ---- subscriptions (the management API) ------------------------------------------

    def create_webhook(
        self, url: str, event_types: Sequence[str], description: str | None, actor: str
    ) -> tuple[Webhook, str]:
        now = time.time()
        identifier = str(uuid.uuid4())
        secret = new_secret()
        with self._write() as db:
            db.execute(
                "INSERT INTO webhooks (id, url, event_types, description, active, created_at, "
                "updated_at, secret) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
                (identifier, url, json.dumps(list(event_types)), description, now, now, secret),
            )
            self._audit(
                db,
                identifier,
                actor,
                "created",
                {"url": url, "event_types": list(event_types), "description": description},
                now,
            )
        webhook = self.webhook(identifier)
        assert webhook is not None
        return webhook, secret

    def webhook(self, webhook_id: str) -> Webhook | None:
        rows = self._read(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,))
        return _webhook(rows[0]) if rows else None

    def webhooks(self) -> list[Webhook]:
        rows = self._read(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id")
        return [_webhook(r) for r in rows]

    def update_webhook(
        self, webhook_id: str, changes: dict[str, Any], actor: str
    ) -> Webhook | None:
        now = time.time()
        columns: dict[str, Any] = {}
        if "url" in changes:
            columns["url"] = changes["url"]
        if "event_types" in changes:
            columns["event_types"] = json.dumps(list(changes["event_types"]))
        if "description" in changes:
            columns["description"] = changes["description"]
        if "active" in changes:
            columns["active"] = 1 if changes["active"] else 0
            if changes["active"]:
                # Re-enabled: the disable clock starts again.
                columns["disabled_reason"] = None
                columns["failing_since"] = None
        with self._write() as db:
            found = db.execute("SELECT 1 FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
            if found is None:
                return None
            if columns:
                assignments = ", ".join(f"{c} = ?" for c in columns)
                db.execute(
                    f"UPDATE webhooks SET {assignments}, updated_at = ? WHERE id = ?",
                    (*columns.values(), now, webhook_id),
                )
                self._audit(db, webhook_id, actor, "changed", dict(changes), now)
        return self.webhook(webhook_id)

    def delete_webhook(self, webhook_id: str, actor: str) -> bool:
        now = time.time()
        with self._write() as db:
            gone = db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)).rowcount
            if not gone:
                return False
            db.execute(
                "DELETE FROM attempts WHERE delivery_id IN "
                "(SELECT id FROM deliveries WHERE webhook_id = ?)",
                (webhook_id,),
            )
            db.execute("DELETE FROM deliveries WHERE webhook_id = ?", (webhook_id,))
            self._audit(db, webhook_id, actor, "deleted", {}, now)
        return True

    def rotate_secret(self, webhook_id: str, actor: str, overlap_seconds: float) -> str | None:
        now = time.time()
        secret = new_secret()
        with self._write() as db:
            changed = db.execute(
                "UPDATE webhooks SET previous_secret = secret, previous_until = ?, secret = ?, "
                "updated_at = ? WHERE id = ?",
                (now + overlap_seconds, secret, now, webhook_id),
            ).rowcount
            if not changed:
                return None
            self._audit(
                db, webhook_id, actor, "secret_rotated", {"overlap_seconds": overlap_seconds}, now
            )
        return secret

    def end_overlap(self, webhook_id: str) -> None:
        """End a rotation's overlap now (operators; tests)."""
        with self._write() as db:
            db.execute(
                "UPDATE webhooks SET previous_secret = NULL, previous_until = NULL WHERE id = ?",
                (webhook_id,),
            )

    def audit(self, webhook_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        query = "SELECT seq, webhook_id, at, actor, action, details FROM audit"
        args: tuple[Any, ...] = ()
        if webhook_id is not None:
            query += " WHERE webhook_id = ?"
            args = (webhook_id,)
        rows = self._read(query + " ORDER BY seq LIMIT ?", (*args, limit))
        return [
            {
                "seq": r[0],
                "webhook_id": r[1],
                "at": r[2],
                "actor": r[3],
                "action": r[4],
                "details": json.loads(r[5]),
            }
            for r in rows
        ]

    # ---- planning (the events consumer) ----------------------------------------------

    def _insert_deliveries(self, db: Any, planned: Sequence[NewDelivery], now: float) -> None:
        db.executemany(
            "INSERT INTO deliveries (id, webhook_id, ordering_key, type, body, event_at, "
            "created_at, expires_at, status, attempts, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
            [
                (
                    d.id,
                    d.webhook_id,
                    d.ordering_key,
                    d.type,
                    d.body,
                    d.event_at,
                    now,
                    now + self.horizon_seconds,
                    now,
                )
                for d in planned
            ],
        )

    def consume(self, events: Sequence[dict[str, Any]]) -> int:
        now = time.time()
        with self._write() as db:
            webhooks = [_webhook(r) for r in db.execute(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks")]

            def load(number: int) -> dict[str, Any] | None:
                row = db.execute("SELECT doc FROM tickets WHERE number = ?", (number,)).fetchone()
                return None if row is None else dict(json.loads(row[0]))

            planner = Planner(load, webhooks)
            planned: list[NewDelivery] = []
            fresh: list[tuple[str]] = []
            for event in events:
                event_id = str(event.get("event_id"))
                seen = db.execute(
                    "SELECT 1 FROM processed WHERE event_id = ?", (event_id,)
                ).fetchone()
                if seen is not None:
                    continue
                fresh.append((event_id,))
                planned.extend(planner.plan(event))
            db.executemany(
                "INSERT INTO processed (event_id) VALUES (?) ON CONFLICT DO NOTHING", fresh
            )
            db.executemany(
                "INSERT INTO tickets (number, doc) VALUES (?, ?) "
                "ON CONFLICT (number) DO UPDATE SET doc = excluded.doc",
                [(n, json.dumps(planner.docs[n])) for n in planner.touched],
            )
            self._insert_deliveries(db, planned, now)
        return len(planned)

    def ping(self, webhook_id: str) -> str | None:
        from datetime import UTC, datetime

        now = time.time()
        delivery = ping_delivery(webhook_id, datetime.fromtimestamp(now, UTC))
        with self._write() as db:
            if db.execute("SELECT 1 FROM webhooks WHERE id = ?", (webhook_id,)).fetchone() is None:
                return None
            self._insert_deliveries(db, [delivery], now)
        return delivery.id

    def redeliver(self, webhook_id: str, delivery_id: str, actor: str) -> bool:
        now = time.time()
        with self._write() as db:
            changed = db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, expires_at = ?, "
                "lease_owner = NULL, lease_until = NULL WHERE id = ? AND webhook_id = ?",
                (now, now + self.horizon_seconds, delivery_id, webhook_id),
            ).rowcount
            if changed:
                self._audit(db, webhook_id, actor, "redelivered", {"delivery": delivery_id}, now)
        return bool(changed)

    # ---- the dispatchers -------------------------------------------------------------

    def settle_and_claim(
        self,
        settled: Sequence[Settled],
        owner: str,
        now: float,
        limit: int,
        exclude: Sequence[str],
        lease_seconds: float,
        disable_after: float,
        per_endpoint: int | None = None,
        room: dict[str, int] | None = None,
    ) -> list[Claimed]:
        room = dict(room or {})
        with self._write() as db:
            if settled:
                self._settle(db, settled, owner, now, disable_after)
            if limit <= 0:
                return []
            skip = list(exclude)
            marks = ", ".join("?" for _ in skip)
            excluded = f" AND d.webhook_id NOT IN ({marks})" if skip else ""
            # Light candidates in claim order (no bodies): the scan stops at the limit.
            fetch = min(limit, 4 * per_endpoint) if per_endpoint else limit
            rows = db.execute(
                "SELECT d.id, d.webhook_id, w.url, w.secret, w.previous_secret, w.previous_until,"
                " d.attempts, d.expires_at, d.event_at "
                "FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                "WHERE d.status = 'pending' AND d.next_attempt_at <= ? "
                "AND (d.lease_until IS NULL OR d.lease_until < ?) AND w.active = 1"
                f"{excluded} AND NOT EXISTS (SELECT 1 FROM deliveries e "
                "WHERE e.webhook_id = d.webhook_id AND e.ordering_key = d.ordering_key "
                "AND e.status = 'pending' AND e.seq < d.seq) "
                "ORDER BY d.next_attempt_at, d.seq LIMIT ?",
                (now, now, *skip, fetch),
            ).fetchall()
            picked = []
            for r in rows:
                if per_endpoint is not None:
                    left = room.get(r[1], per_endpoint)
                    if left <= 0:
                        continue
                    room[r[1]] = left - 1
                picked.append(r)
                if len(picked) >= limit:
                    break
            bodies: dict[str, bytes] = {}
            if picked:
                marks = ", ".join("?" for _ in picked)
                bodies = {
                    str(i): bytes(b)
                    for i, b in db.execute(
                        f"SELECT id, body FROM deliveries WHERE id IN ({marks})",
                        [r[0] for r in picked],
                    )
                }
            claimed = [
                Claimed(
                    id=r[0],
                    webhook_id=r[1],
                    url=r[2],
                    secrets=(r[3],) if not r[4] or (r[5] or 0) < now else (r[3], r[4]),
                    body=bodies[r[0]],
                    attempts=int(r[6]),
                    expires_at=float(r[7]),
                    event_at=float(r[8]),
                )
                for r in picked
            ]
            db.executemany(
                "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?",
                [(owner, now + lease_seconds, c.id) for c in claimed],
            )
        return claimed

    def _settle(
        self,
        db: Any,
        settled: Sequence[Settled],
        owner: str,
        now: float,
        disable_after: float,
    ) -> None:
        db.executemany(
            "INSERT INTO attempts (delivery_id, n, at, status_code, duration, error, "
            "next_attempt_at, response) VALUES (?, "
            "(SELECT COALESCE(MAX(n), 0) + 1 FROM attempts WHERE delivery_id = ?), "
            "?, ?, ?, ?, ?, ?)",
            [
                (
                    s.delivery_id,
                    s.delivery_id,
                    s.attempt_at,
                    s.answer.status,
                    s.answer.duration,
                    s.answer.error,
                    s.next_attempt_at,
                    s.answer.body[:RESPONSE_KEPT],
                )
                for s in settled
            ],
        )
        db.executemany(
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, "
            "lease_owner = NULL, lease_until = NULL, delivered_at = ? "
            "WHERE id = ? AND lease_owner = ?",
            [
                (
                    s.status,
                    s.next_attempt_at,
                    s.attempt_at if s.status == "delivered" else None,
                    s.delivery_id,
                    owner,
                )
                for s in settled
            ],
        )
        succeeded = {s.webhook_id: s.attempt_at for s in settled if s.status == "delivered"}
        db.executemany(
            "UPDATE webhooks SET last_success_at = CASE WHEN COALESCE(last_success_at, 0) > ? "
            "THEN last_success_at ELSE ? END, failing_since = NULL WHERE id = ?",
            [(at, at, w) for w, at in succeeded.items()],
        )
        failing = {s.webhook_id for s in settled if s.status != "delivered"} - set(succeeded)
        for webhook_id in failing:
            first = min(s.attempt_at for s in settled if s.webhook_id == webhook_id)
            db.execute(
                "UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ?",
                (first, webhook_id),
            )
            row = db.execute(
                "SELECT active, failing_since FROM webhooks WHERE id = ?", (webhook_id,)
            ).fetchone()
            if row is None or not row[0] or not disable_due(float(row[1]), now, disable_after):
                continue
            reason = f"no successful delivery for {disable_after:.0f} s"
            db.execute(
                "UPDATE webhooks SET active = 0, disabled_reason = ?, updated_at = ? WHERE id = ?",
                (reason, now, webhook_id),
            )
            dropped = db.execute(
                "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE webhook_id = ? AND status = 'pending'",
                (webhook_id,),
            ).rowcount
            log.warning("webhook %s disabled: %s", webhook_id, reason)
            self._audit(
                db,
                webhook_id,
                "system",
                "disabled",
                {"reason": reason, "failed_deliveries": dropped},
                now,
            )

    # ---- reading the log -------------------------------------------------------------

    def deliveries(
        self,
        webhook_id: str,
        *,
        status: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> tuple[list[DeliveryRow], int | None]:
        """Newest first; the second value is the cursor of the next page."""
        query = (
            "SELECT seq, id, webhook_id, type, status, created_at, next_attempt_at, body "
            "FROM deliveries WHERE webhook_id = ?"
        )
        args: list[Any] = [webhook_id]
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        if before is not None:
            query += " AND seq < ?"
            args.append(before)
        rows = self._read(query + " ORDER BY seq DESC LIMIT ?", (*args, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        found = [
            DeliveryRow(
                id=r[1],
                webhook_id=r[2],
                type=r[3],
                status=r[4],
                created_at=r[5],
                next_attempt_at=r[6] if r[4] == "pending" else None,
                payload=bytes(r[7]),
            )
            for r in rows
        ]
        by_id = {d.id: d for d in found}
        if by_id:
            marks = ", ".join("?" for _ in by_id)
            for a in self._read(
                "SELECT delivery_id, n, at, status_code, duration, error, next_attempt_at, "
                f"response FROM attempts WHERE delivery_id IN ({marks}) ORDER BY n",
                list(by_id),
            ):
                by_id[a[0]].attempts.append(
                    {
                        "n": a[1],
                        "at": a[2],
                        "status": a[3],
                        "duration": a[4],
                        "error": a[5],
                        "next_attempt_at": a[6],
                        "response": bytes(a[7] or b"").decode(errors="replace"),
                    }
                )
        return found, (int(rows[-1][0]) if more and rows else None)

    def delivery(self, delivery_id: str) -> DeliveryRow | None:
        rows = self._read("SELECT webhook_id FROM deliveries WHERE id = ?", (delivery_id,))
        if not rows:
            return None
        for row in self.deliveries(rows[0][0], limit=1_000_000)[0]:
            if row.id == delivery_id:
                return row
        return None

    def backlog(self) -> dict[str, int]:
        rows = self._read(
            "SELECT webhook_id, COUNT(*) FROM deliveries WHERE status = 'pending' "
            "GROUP BY webhook_id"
        )
        return {str(w): int(n) for w, n in rows}

    def counts(self) -> dict[str, int]:
        rows = self._read("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        return {str(s): int(n) for s, n in rows}
