"""What the system holds at the end: the store's public events, the topic's records, the
relay's position, outbound mail's sent log, what the SMTP receiver got and the webhook
deliveries still pending."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.event_stream.history import read_history
from services.settings import Settings
from services.ticket_service.adapters.kafka.position import RelayPosition
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application
from services.webhooks.adapters.sqlite_store import SqliteWebhookStore
from soak.ledger import MARKER

PAGE = 5000


@dataclass(frozen=True)
class StoredEvent:
    notification_id: int
    envelope: dict[str, Any]


class StoreReader:
    """Reads the store the services write (never creates tables)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._app: TicketApplication | None = None

    @property
    def app(self) -> TicketApplication:
        if self._app is None:
            self._app = build_application(self.settings, create_tables=False)
        return self._app

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def relay_position(self, relay_name: str) -> int:
        return RelayPosition(self.app, relay_name).get()

    def events(self) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        after = 0
        while notifications := self.app.recorder.select_notifications(start=after + 1, limit=PAGE):
            for notification in notifications:
                envelope = to_envelope(self.app.mapper.to_domain_event(notification))
                if envelope is not None:
                    found.append(StoredEvent(notification.id, envelope.model_dump(mode="json")))
            after = notifications[-1].id
        return found

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


def topic_events(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record on the events topic, in partition order (per-ticket order)."""

    async def read() -> list[dict[str, Any]]:
        return [json.loads(r.value) async for r in read_history(bootstrap, topic) if r.value]

    return asyncio.run(read())


@dataclass(frozen=True)
class SentMail:
    event_id: str
    recipient: str
    message_id: str
    kind: str
    status: str


def sent_log(path: str) -> list[SentMail]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT event_id, recipient, message_id, kind, status FROM sent_log"
        ).fetchall()
    return [SentMail(*map(str, row)) for row in rows]


def pending_mail(path: str) -> int:
    try:
        with sqlite3.connect(path) as conn:
            row = conn.execute("SELECT count(*) FROM sent_log WHERE status = 'pending'").fetchone()
    except sqlite3.Error:
        return -1
    return int(row[0])


def held_mail(data_dir: Path) -> dict[str, str]:
    """Marker → why, for each message email ingest keeps in quarantine or suspended."""
    held: dict[str, str] = {}
    for kind in ("quarantine", "suspended"):
        for eml in (data_dir / kind).glob("*.eml"):
            reason = kind
            with contextlib.suppress(OSError, ValueError):
                reason += ": " + str(json.loads(eml.with_suffix(".json").read_text())["reason"])
            for marker in MARKER.findall(eml.read_bytes().decode(errors="replace")):
                held[marker] = reason
    return held


def pending_webhooks(store: SqliteWebhookStore) -> int:
    """Webhook deliveries not yet delivered or failed (-1 while the store cannot be read)."""
    try:
        return store.counts().get("pending", 0)
    except Exception:
        return -1
