"""A batch of changes saved in one store transaction.

Handlers stage aggregates here; the store (:meth:`TicketApplication.transaction`) saves
them all at once. Several commands touching different tickets then cost one transaction,
and a ticket touched twice in a batch is loaded once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.ticket_service.domain import errors
from services.ticket_service.domain.ids import ticket_id_for
from services.ticket_service.domain.organization import OrganizationDirectory
from services.ticket_service.domain.policy import AutoClosePolicy
from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

T = TypeVar("T")


class Duplicate(Exception):
    """The receipt already exists: the operation happened before."""

    def __init__(self, receipt: Receipt) -> None:
        super().__init__(receipt.key)
        self.receipt = receipt


class NumberTaken(errors.ConcurrencyConflict):
    """Another writer on the same store took the number this batch wanted."""


class NumberLock(Protocol):
    """Held from a transaction's first ticket number until its save has committed, by one
    writer at a time across processes (``adapters/number_lock.py``). ``acquire`` may
    return False (the lock cannot be had): the save's conflict check still holds."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class DirectoryReader(Protocol):
    def current(self) -> OrganizationDirectory | None: ...


class TicketReader(Protocol):
    """What a unit of work reads from the store (the ticket application)."""

    @property
    def organizations(self) -> DirectoryReader: ...

    def get_ticket_by_id(self, ticket_id: UUID, *, number: int | None = None) -> Ticket: ...

    def auto_close_after(self) -> timedelta: ...

    def policy(self) -> AutoClosePolicy | None: ...


class UnitOfWork:
    """What one transaction stages (see the module)."""

    def __init__(
        self,
        app: TicketReader,
        first_number: int,
        renewing: Mapping[str, Receipt] | None = None,
        fresh_numbers: Callable[[], int] | None = None,
    ) -> None:
        """``renewing``: expired receipts, by key, that this batch renews rather than
        records anew (their ids are taken). ``fresh_numbers``: called when the first number
        is taken; takes the store-wide number lock and returns the first free number as of
        now (``first_number`` is this process's last guess)."""
        self.app = app
        self.auto_close_after = app.auto_close_after
        """The auto-close period in force (a callable: read only when a ticket is solved)."""
        self.renewing: Mapping[str, Receipt] = renewing or {}
        self.staged: dict[UUID, Aggregate] = {}
        self.receipt_keys: list[str] = []
        self._receipts: dict[str, Receipt] = {}
        self._next_number = self._first_number = first_number
        self._fresh_numbers = fresh_numbers
        self._directory: OrganizationDirectory | None = None
        self._directory_read = False
        self.step = 0
        """The batch's operation running now (set by whoever runs several)."""
        self._staged_by: dict[UUID, int] = {}
        self.shared = False
        """Whether an operation staged an aggregate an earlier one of the batch staged (so
        the earlier one's result would show the later change)."""

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

    def policy(self) -> AutoClosePolicy | None:
        staged = next((a for a in self.staged.values() if isinstance(a, AutoClosePolicy)), None)
        return staged or self.app.policy()

    def take_number(self) -> int:
        if self._fresh_numbers is not None:  # the first number of this transaction
            fresh, self._fresh_numbers = self._fresh_numbers, None
            self._first_number = self._next_number = max(self._next_number, fresh())
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
        self._next_number = max(first, self._first_number)  # ``first`` read before a refresh

    def stage(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            staged_by = self._staged_by.setdefault(aggregate.id, self.step)
            if staged_by != self.step:
                self.shared = True
            self.staged[aggregate.id] = aggregate
            if isinstance(aggregate, Receipt):
                self.receipt_keys.append(aggregate.key)
                self._receipts[aggregate.key] = aggregate

    def staged_receipt(self, key: str) -> Receipt | None:
        """The receipt staged for ``key`` (looked up by key: a receipt's id derives from
        its key, and every command of a batch asks)."""
        return self._receipts.get(key)

    def duplicate(self, key: str) -> Duplicate:
        """The replay of ``key``, whose receipt this batch already staged."""
        receipt = self._receipts[key]
        return Duplicate(receipt)


Operation = Callable[[UnitOfWork], T]
"""A step of a transaction: stages changes in the unit of work, returns its result."""
