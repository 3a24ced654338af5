"""What the load generators sent, and what they were told.

Every command carries a unique ``marker`` (in a subject, a comment body or a tag) so its
effect can be counted in the store afterwards. ``acked`` is True for an HTTP 2xx, a Kafka
acknowledgement or an SMTP 250; False when no answer came (a fault cut it short): such a
command may or may not have taken effect, but never twice.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["create", "comment", "update", "solve", "reply"]
Channel = Literal["http", "kafka", "smtp"]


MARKER = re.compile(r"sk[0-9a-f]{16}")
"""A command's marker (see :func:`new_marker`) wherever it is written."""


def new_marker() -> str:
    return f"sk{uuid.uuid4().hex[:16]}"


@dataclass
class Command:
    kind: Kind
    channel: Channel
    marker: str
    ticket_number: int | None = None
    """The target (None for a create)."""
    acked: bool = False
    sent_at: float = field(default_factory=time.time)
    acked_at: float | None = None
    refused: int | None = None
    offset: tuple[int, int] | None = None
    """Kafka: the (partition, offset) the broker acknowledged."""
    """The answer's status when the command was refused (a 4xx): no effect expected."""


@dataclass
class Ledger:
    commands: list[Command] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    """Marker of an acknowledged create → its ticket number (when the answer said)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, command: Command) -> Command:
        with self._lock:
            self.commands.append(command)
        return command

    def ack(self, command: Command, ticket_number: int | None = None) -> None:
        with self._lock:
            command.acked = True
            command.acked_at = time.time()
            if ticket_number is not None and command.kind == "create":
                self.created[command.marker] = ticket_number
                command.ticket_number = ticket_number

    def known_tickets(self) -> list[int]:
        with self._lock:
            return list(self.created.values())

    def snapshot(self) -> list[Command]:
        with self._lock:
            return list(self.commands)

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(f"{c.channel}:{c.kind}" for c in self.commands)
