"""What email ingest knows of a ticket (from the ticket event stream)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from contracts.common import Status
from services.ticket_service.domain.participants import is_participant


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
        return is_participant(address, self.requester, self.cc)
