"""Quarantine as files: ``<dir>/<id>.eml`` (the message, byte for byte) and
``<dir>/<id>.json`` (reason, detail, envelope, attempts). The id is the SHA-256 of the bytes,
so the same message quarantined twice is one entry. Writes are fsynced and renamed into
place, so an entry is either whole or absent."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from services.durable_files import fsync_directory, write_atomically
from services.email_ingest.application.ports import QuarantinedMail
from services.email_ingest.domain.headers import decode_header_value


class QuarantineNotFound(KeyError):
    pass


class FileQuarantine:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def put(
        self,
        raw: bytes,
        reason: str,
        detail: str = "",
        *,
        mail_from: str | None = None,
        recipients: tuple[str, ...] = (),
    ) -> str:
        qid = hashlib.sha256(raw).hexdigest()[:32]
        eml, sidecar = self._paths(qid)
        attempts = 0
        if sidecar.exists():
            attempts = int(json.loads(sidecar.read_text()).get("attempts", 0))
        if not eml.exists():
            write_atomically(eml, raw)
        meta = {
            "id": qid,
            "reason": reason,
            "detail": detail[:2000],
            "received_at": datetime.now(UTC).isoformat(),
            "size": len(raw),
            "mail_from": mail_from,
            "recipients": list(recipients),
            "attempts": attempts + 1,
            **summary(raw),
        }
        write_atomically(sidecar, json.dumps(meta, indent=2).encode())
        fsync_directory(self.directory)
        return qid

    def list(self) -> list[QuarantinedMail]:
        found = []
        for sidecar in sorted(self.directory.glob("*.json")):
            try:
                meta = json.loads(sidecar.read_text())
            except (OSError, ValueError):
                continue
            found.append(
                QuarantinedMail(
                    id=meta["id"],
                    reason=meta["reason"],
                    detail=meta.get("detail", ""),
                    received_at=datetime.fromisoformat(meta["received_at"]),
                    size=meta.get("size", 0),
                    subject=meta.get("subject", ""),
                    sender=meta.get("sender", ""),
                    attempts=meta.get("attempts", 1),
                )
            )
        return sorted(found, key=lambda q: q.received_at)

    def get(self, id: str) -> tuple[bytes, str | None, tuple[str, ...]]:
        eml, sidecar = self._paths(id)
        if not eml.exists():
            raise QuarantineNotFound(id)
        meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        return eml.read_bytes(), meta.get("mail_from"), tuple(meta.get("recipients", ()))

    def remove(self, id: str) -> None:
        for path in self._paths(id):
            path.unlink(missing_ok=True)

    def _paths(self, id: str) -> tuple[Path, Path]:
        if not id.isalnum():
            raise QuarantineNotFound(id)
        return self.directory / f"{id}.eml", self.directory / f"{id}.json"


def summary(raw: bytes) -> dict[str, str]:
    """Subject and sender for ``quarantine list``, read leniently from the first 64 KiB."""
    try:
        headers = BytesHeaderParser().parsebytes(raw[:65536])
        return {
            "subject": decode_header_value(headers.get("Subject"))[:200],
            "sender": decode_header_value(headers.get("From"))[:200],
        }
    except Exception:
        return {"subject": "", "sender": ""}
