"""What email ingest knows of a ticket (from the ticket event stream)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from contracts.common import Status


@dataclass(frozen=True)
class TicketView:
    number: int
    id: UUID
    requester: str
    cc: tuple[str, ...]
    status: Status

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    def is_participant(self, address: str) -> bool:
        """The requester or a CC'd user (case-insensitive), as the ticket service decides."""
        address = address.lower()
        return address == self.requester.lower() or address in (c.lower() for c in self.cc)
