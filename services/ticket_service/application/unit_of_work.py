"""A batch of changes saved in one store transaction.

Operations stage aggregates here; :meth:`TicketApplication.run` saves them all at once.
Several commands touching different tickets then cost one transaction (Kafka intake), and a
ticket touched twice in a batch is loaded once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.ticket_service.domain import errors
from services.ticket_service.domain.ids import ticket_id_for
from services.ticket_service.domain.organization import OrganizationDirectory
from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

if TYPE_CHECKING:
    from services.ticket_service.application.tickets import TicketApplication


class UnitOfWork:
    def __init__(
        self,
        app: TicketApplication,
        first_number: int,
        renewing: Mapping[str, Receipt] | None = None,
    ) -> None:
        """``renewing``: expired receipts, by key, that this batch renews rather than
        records anew (their ids are taken)."""
        self.app = app
        self.renewing: Mapping[str, Receipt] = renewing or {}
        self.staged: dict[UUID, Aggregate] = {}
        self.receipt_keys: list[str] = []
        self._receipts: dict[str, Receipt] = {}
        self._next_number = first_number
        self._directory: OrganizationDirectory | None = None
        self._directory_read = False

    def ticket(self, *, number: int | None = None, ticket_id: UUID | None = None) -> Ticket:
        if ticket_id is None:
            if number is None:
                raise errors.InvalidRequest("A ticket number or id is required.")
            ticket_id = ticket_id_for(number)
        staged = self.staged.get(ticket_id)
        if isinstance(staged, Ticket):
            return staged
        return self.app.get_ticket_by_id(ticket_id, number=number)

    def organization_of(self, requester: str) -> str | None:
        """The organization a new ticket of ``requester`` belongs to; the directory is read
        once per batch (so one batch resolves every ticket against the same directory)."""
        if not self._directory_read:
            self._directory = self.app.organizations.current()
            self._directory_read = True
        directory = self._directory
        return directory.organization_for(requester) if directory is not None else None

    def take_number(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    @property
    def next_number(self) -> int:
        return self._next_number

    def give_back_numbers(self, first: int) -> None:
        """Numbers from ``first`` on were taken by an operation that failed before staging
        a ticket with them: the next ticket takes ``first`` (numbers stay contiguous)."""
        if first > self._next_number:
            raise ValueError(f"number {first} was never taken (next is {self._next_number})")
        self._next_number = first

    def stage(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.staged[aggregate.id] = aggregate
            if isinstance(aggregate, Receipt):
                self.receipt_keys.append(aggregate.key)
                self._receipts[aggregate.key] = aggregate

    def staged_receipt(self, key: str) -> Receipt | None:
        """The receipt staged for ``key`` (looked up by key: a receipt's id derives from
        its key, and every command of a batch asks)."""
        return self._receipts.get(key)
