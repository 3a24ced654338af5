"""Without a relay (the local stack): each notification becomes a ``.eml`` file in a
Maildir (stdlib ``mailbox.Maildir``, ``new/``), ``<data dir>/outbox`` by default.

``helpdesk mail outbox list|show`` reads it. The envelope recipient is kept in an
``X-Outbox-Recipient`` header (the ``To`` line may name several people).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
from dataclasses import dataclass
from pathlib import Path

RECIPIENT_HEADER = "X-Outbox-Recipient"


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    recipient: str
    subject: str
    message_id: str
    date: str


class MaildirOutbox:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.maildir = mailbox.Maildir(self.directory, create=True)

    async def send(self, sender: str, recipient: str, raw: bytes) -> str:
        key = await asyncio.to_thread(self._add, recipient, raw)
        return f"250 written to {self.directory / 'new' / key}"

    def _add(self, recipient: str, raw: bytes) -> str:
        data = f"{RECIPIENT_HEADER}: {recipient}\r\n".encode() + raw
        return str(self.maildir.add(mailbox.MaildirMessage(data)))

    async def close(self) -> None:
        return None

    # ---- reading (helpdesk mail outbox list|show) ------------------------------------

    def entries(self) -> list[OutboxEntry]:
        found: list[OutboxEntry] = []
        for key in self.maildir.iterkeys():
            message = self.maildir.get_message(key)
            found.append(
                OutboxEntry(
                    key=key,
                    recipient=str(message.get(RECIPIENT_HEADER, "")),
                    subject=str(message.get("Subject", "")),
                    message_id=str(message.get("Message-ID", "")),
                    date=str(message.get("Date", "")),
                )
            )
        return sorted(found, key=lambda e: e.key)  # keys begin with the time written

    def raw(self, key: str) -> bytes:
        """The message as written, found by its key or its Message-ID."""
        if key in self.maildir:
            return self.maildir.get_bytes(key)
        for entry in self.entries():
            if entry.message_id == key or entry.message_id.strip("<>") == key.strip("<>"):
                return self.maildir.get_bytes(entry.key)
        raise KeyError(key)

    def message(self, key: str) -> email.message.EmailMessage:
        parsed = email.message_from_bytes(self.raw(key), policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed
