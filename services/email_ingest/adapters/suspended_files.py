"""The suspended queue as files, like the quarantine: ``<dir>/<id>.eml`` (the message, byte
for byte) and ``<dir>/<id>.json`` (reason, detail, envelope, the ticket it would act on).
The id is the SHA-256 of the bytes. Writes are fsynced and renamed into place; releases and
rejections are appended (fsynced) to ``<dir>/audit.jsonl`` before the entry is deleted."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from services.durable_files import (
    append_durably,
    fsync_directory,
    write_atomically,
)
from services.email_ingest.adapters.quarantine_files import summary
from services.email_ingest.application.ports import (
    AuditRecord,
    SuspendedMail,
    SuspendedNotFound,
)

AUDIT_FILE = "audit.jsonl"


class FileSuspendedQueue:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def put(
        self,
        raw: bytes,
        reason: str,
        detail: str,
        *,
        message_id: str | None,
        ticket_number: int | None,
        mail_from: str | None,
        recipients: tuple[str, ...],
    ) -> str:
        sid = hashlib.sha256(raw).hexdigest()[:32]
        eml, sidecar = self._paths(sid)
        if not eml.exists():
            write_atomically(eml, raw)
        meta = {
            "id": sid,
            "reason": reason,
            "detail": detail[:2000],
            "received_at": datetime.now(UTC).isoformat(),
            "size": len(raw),
            "message_id": message_id,
            "ticket_number": ticket_number,
            "mail_from": mail_from,
            "recipients": list(recipients),
            **summary(raw),
        }
        if sidecar.exists():  # suspended again (a redelivery): keep the first arrival
            meta["received_at"] = self.get(sid).received_at.isoformat()
        write_atomically(sidecar, json.dumps(meta, indent=2).encode())
        fsync_directory(self.directory)
        return sid

    def list(self) -> list[SuspendedMail]:
        found = []
        for sidecar in self.directory.glob("*.json"):
            try:
                found.append(_entry(json.loads(sidecar.read_text())))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(found, key=lambda s: s.received_at)

    def size(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json"))

    def get(self, id: str) -> SuspendedMail:
        eml, sidecar = self._paths(id)
        if not sidecar.exists() or not eml.exists():
            raise SuspendedNotFound(id)
        return _entry(json.loads(sidecar.read_text()))

    def raw(self, id: str) -> bytes:
        eml, _ = self._paths(id)
        if not eml.exists():
            raise SuspendedNotFound(id)
        return eml.read_bytes()

    def remove(self, id: str, *, action: str, by: str, outcome: str) -> AuditRecord:
        entry = self.get(id)
        record = AuditRecord(
            at=datetime.now(UTC),
            id=id,
            action=action,
            by=by,
            message_id=entry.message_id,
            outcome=outcome,
        )
        line = {
            "at": record.at.isoformat(),
            "id": id,
            "action": action,
            "by": by,
            "message_id": entry.message_id,
            "outcome": outcome,
            "reason": entry.reason,
            "sender": entry.sender,
            "subject": entry.subject,
        }
        append_durably(self.directory / AUDIT_FILE, json.dumps(line).encode())
        eml, sidecar = self._paths(id)
        sidecar.unlink(missing_ok=True)  # the sidecar first: no listed entry without bytes
        eml.unlink(missing_ok=True)
        fsync_directory(self.directory)
        return record

    def audit(self, id: str | None = None) -> tuple[AuditRecord, ...]:
        path = self.directory / AUDIT_FILE
        if not path.exists():
            return ()
        records: list[AuditRecord] = []
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                record = AuditRecord(
                    at=datetime.fromisoformat(row["at"]),
                    id=row["id"],
                    action=row["action"],
                    by=row["by"],
                    message_id=row.get("message_id"),
                    outcome=row.get("outcome", ""),
                )
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash
            if id is None or record.id == id:
                records.append(record)
        return tuple(records)

    def _paths(self, id: str) -> tuple[Path, Path]:
        if not id.isalnum() or not id.isascii():
            raise SuspendedNotFound(id)
        return self.directory / f"{id}.eml", self.directory / f"{id}.json"


def _entry(meta: dict[str, object]) -> SuspendedMail:
    recipients = meta.get("recipients") or []
    ticket = meta.get("ticket_number")
    return SuspendedMail(
        id=str(meta["id"]),
        reason=str(meta["reason"]),
        detail=str(meta.get("detail", "")),
        received_at=datetime.fromisoformat(str(meta["received_at"])),
        size=int(str(meta.get("size", 0))),
        subject=str(meta.get("subject", "")),
        sender=str(meta.get("sender", "")),
        message_id=str(meta["message_id"]) if meta.get("message_id") else None,
        ticket_number=int(str(ticket)) if ticket is not None else None,
        mail_from=str(meta["mail_from"]) if meta.get("mail_from") else None,
        recipients=tuple(str(r) for r in recipients) if isinstance(recipients, list) else (),
    )
