"""The ticket application: the event store, its queries, and the one transaction every
command is saved in.

Commands do not live here: every entry point submits contract commands to the message bus
(:mod:`.messagebus`, ``self.bus``), whose handlers (:mod:`.handlers`) stage changes in a
:class:`UnitOfWork`; :meth:`TicketApplication.transaction` saves what a batch staged at
once, receipts included, so a retry never has a second effect. The command methods below
are shortcuts for in-process callers that build the same contract commands.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording

from contracts import commands as cmd
from contracts.common import Channel, Role, TicketChanges, TicketFields
from services.ticket_service.application import requested
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.messagebus import FromRequest, MessageBus, Submission
from services.ticket_service.application.organization_index import OrganizationIndex
from services.ticket_service.application.unit_of_work import (
    Duplicate,
    NumberLock,
    NumberTaken,
    Operation,
    UnitOfWork,
)
from services.ticket_service.domain import errors
from services.ticket_service.domain.ids import POLICY_ID, receipt_id_for, ticket_id_for
from services.ticket_service.domain.organization import OrganizationDirectory
from services.ticket_service.domain.policy import AutoClosePolicy
from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

T = TypeVar("T")


MAX_NUMBER_RETRIES = 20
DEFAULT_IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


SNAPSHOT_INTERVAL = 100
"""A ticket's snapshot is taken after every this many events (``HELPDESK_SNAPSHOT_INTERVAL``)."""
DIRECTORY_SNAPSHOT_INTERVAL = 100
"""The organization directory's snapshot is taken after every this many changes."""


class TicketApplication(Application[UUID]):
    name = "Helpdesk"
    snapshotting_intervals = {
        Ticket: SNAPSHOT_INTERVAL,
        OrganizationDirectory: DIRECTORY_SNAPSHOT_INTERVAL,
    }
    log_section_size = 10_000

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        default_auto_close_after: timedelta = timedelta(days=7),
        idempotency_key_ttl: timedelta = DEFAULT_IDEMPOTENCY_KEY_TTL,
        command_roles: frozenset[Role] | None = None,
        snapshot_interval: int = SNAPSHOT_INTERVAL,
    ) -> None:
        """``snapshot_interval``: events between a ticket's snapshots; 0 takes none (the
        snapshots already stored are still used)."""
        super().__init__(env)
        if snapshot_interval < 0:
            raise ValueError(f"snapshot_interval must be 0 or more, got {snapshot_interval}")
        self.snapshot_interval = snapshot_interval
        self.default_auto_close_after = default_auto_close_after
        self.idempotency_key_ttl = idempotency_key_ttl
        self.command_roles = command_roles
        """Roles a Kafka command may claim (None: every role)."""
        self._write_lock = threading.Lock()
        self._next_number: int | None = None
        self.number_lock: NumberLock | None = None
        """Other processes' writers to exclude while a transaction picks ticket numbers and
        saves (set by bootstrap for stores several processes share)."""
        self._numbers_locked = False
        self.numbers_taken_by_others = 0
        """Transactions run again because another writer saved the number they picked."""
        self._saved_listeners: list[Callable[[], None]] = []
        self.organizations = OrganizationIndex(self)
        self.bus = MessageBus(self)

    # ---- notifications to in-process listeners (the relay wakes on save) --------------

    def add_saved_listener(self, listener: Callable[[], None]) -> None:
        self._saved_listeners.append(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        for listener in self._saved_listeners:
            listener()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """``Application.save`` for aggregates only: it skips the runtime ``Protocol``
        checks of ``ProcessingEvent.collect_events``, a fifth of the cost of a command."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in objs:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """A snapshot at each multiple of its type's interval an aggregate reached: a
        ticket's is ``snapshot_interval``, the organization directory's
        ``DIRECTORY_SNAPSHOT_INTERVAL``."""
        for saved in processing_event.events:
            aggregate = processing_event.aggregates.get(saved.originator_id)
            if isinstance(aggregate, Ticket):
                interval = self.snapshot_interval
            elif isinstance(aggregate, OrganizationDirectory):
                interval = DIRECTORY_SNAPSHOT_INTERVAL
            else:
                continue
            if interval and saved.originator_version % interval == 0:
                self.take_snapshot(saved.originator_id, version=saved.originator_version)

    # ---- queries -----------------------------------------------------------------------

    def get_ticket(self, number: int) -> Ticket:
        return self.get_ticket_by_id(ticket_id_for(number), number=number)

    def get_ticket_by_id(self, ticket_id: UUID, *, number: int | None = None) -> Ticket:
        try:
            ticket: Aggregate = self.repository.get(ticket_id)
        except AggregateNotFoundError:
            raise errors.TicketNotFound(
                f"No ticket #{number}." if number else f"No ticket {ticket_id}."
            ) from None
        if not isinstance(ticket, Ticket):
            raise errors.TicketNotFound(f"No ticket {ticket_id}.")
        return ticket

    def auto_close_after(self) -> timedelta:
        """The period in force now: the admins' last change, else the deployment default."""
        policy = self.policy()
        return policy.after if policy else self.default_auto_close_after

    def policy(self) -> AutoClosePolicy | None:
        try:
            policy: Aggregate = self.repository.get(POLICY_ID)
        except AggregateNotFoundError:
            return None
        assert isinstance(policy, AutoClosePolicy)
        return policy

    def receipt(self, key: str) -> Receipt | None:
        try:
            receipt: Aggregate = self.repository.get(receipt_id_for(key))
        except AggregateNotFoundError:
            return None
        assert isinstance(receipt, Receipt)
        return receipt

    # ---- commands: shortcuts for in-process callers (tests, benchmarks, the CLI) -------
    # Each builds the contract command and submits it to the bus, as the HTTP routes do.

    def create_ticket(
        self,
        fields: TicketFields,
        ctx: RequestContext,
        *,
        channel: str,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> Ticket:
        command = requested.create_ticket(ctx, fields, Channel(channel))
        return self._submit(command, ctx, idempotency_key, fingerprint)

    def update_ticket(
        self,
        number: int,
        changes: dict[str, Any],
        ctx: RequestContext,
        *,
        expected_version: int | None = None,
    ) -> Ticket:
        checked = TicketChanges.model_validate(changes)  # the caller's dict: check it here
        return self._submit(requested.update_ticket(ctx, number, checked, expected_version), ctx)

    def add_comment(
        self,
        number: int,
        ctx: RequestContext,
        *,
        body: str,
        public: bool,
        channel: str,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Ticket:
        command = requested.add_comment(
            ctx, number, body, public=public, channel=Channel(channel), attachments=attachments
        )
        return self._submit(command, ctx)

    def create_follow_up(
        self,
        source_number: int,
        ctx: RequestContext,
        *,
        body: str,
        channel: str,
        source_key: str | None = None,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> Ticket:
        """A follow-up of a closed ticket; the source ticket gets no event. ``source_key``
        (an email Message-ID) makes it happen once per source ticket; ``idempotency_key``
        (the caller's own, already scoped to the caller, with the request's
        ``fingerprint``: see the module) makes it happen once per key."""
        command = requested.create_follow_up(ctx, source_number, body, Channel(channel), source_key)
        return self._submit(command, ctx, idempotency_key, fingerprint)

    def change_auto_close_policy(self, after_days: int, ctx: RequestContext) -> AutoClosePolicy:
        cmd.ChangeAutoClosePolicyData(after_days=after_days)  # the caller's value: check it
        command = requested.change_auto_close_policy(ctx, after_days)
        outcome = self.bus.handle(Submission(command, ctx))
        if outcome.error is not None:
            raise outcome.error
        if outcome.failure is not None:
            raise outcome.failure
        assert outcome.policy is not None
        return outcome.policy

    def _submit(
        self,
        command: cmd.CommandEnvelope,
        ctx: RequestContext,
        key: str | None = None,
        fingerprint: str | None = None,
    ) -> Ticket:
        return self.bus.handle(Submission(command, ctx, FromRequest(key, fingerprint))).unwrap()

    # ---- running operations ------------------------------------------------------------

    def transaction(
        self, ops: Sequence[Operation[T]], *, renewing: Mapping[str, Receipt] | None = None
    ) -> list[T]:
        """Run operations and save all they staged in one transaction: the store's part of
        the message bus (:mod:`.messagebus`). Raises the first error an operation raises; a
        conflict at the save raises :class:`ConcurrencyConflict` or :class:`Duplicate`.
        Operations are re-run from scratch when another writer took their ticket number.
        ``renewing``: expired receipts the operations renew (:class:`UnitOfWork`)."""
        for _ in range(MAX_NUMBER_RETRIES):
            try:
                return self._run_batch_once(ops, renewing)
            except NumberTaken:
                continue
        raise errors.ConcurrencyConflict("Could not allocate a ticket number; retry.")

    def _run_batch_once(
        self, ops: Sequence[Operation[T]], renewing: Mapping[str, Receipt] | None = None
    ) -> list[T]:
        with self._write_lock:
            if self._next_number is None:
                self._next_number = self._first_free_number(1)
            fresh = self._fresh_numbers if self.number_lock is not None else None
            uow = UnitOfWork(self, self._next_number, renewing, fresh)
            try:
                results = [op(uow) for op in ops]
                try:
                    if uow.staged:
                        self.save(*uow.staged.values())
                except IntegrityError:
                    self._explain_conflict(uow)
                    raise
                self._next_number = uow.next_number
                return results
            finally:
                if self._numbers_locked:
                    self._numbers_locked = False
                    assert self.number_lock is not None
                    self.number_lock.release()

    def _fresh_numbers(self) -> int:
        """A transaction takes its first ticket number: hold the number lock until its save
        has committed, and start from the first free number as of now (another process may
        have saved tickets since this one's last save). Without the lock, the last guess."""
        assert self.number_lock is not None and self._next_number is not None
        if self.number_lock.acquire():
            self._numbers_locked = True
            self._next_number = self._first_free_number(self._next_number)
        return self._next_number

    def _explain_conflict(self, uow: UnitOfWork) -> None:
        """Turn an integrity error into what happened: a replay of a recorded receipt,
        a ticket number taken by another process, or a concurrent change."""
        for key in uow.receipt_keys:
            receipt = self.receipt(key)
            expired = uow.renewing.get(key)
            # a receipt this batch renews is no replay unless someone renewed it first
            if receipt is not None and (expired is None or receipt.version > expired.version):
                raise Duplicate(receipt)
        assert self._next_number is not None
        wanted = range(self._next_number, uow.next_number)
        if any(self._exists(ticket_id_for(number)) for number in wanted):
            self._next_number = self._first_free_number(self._next_number)
            self.numbers_taken_by_others += 1
            raise NumberTaken("A ticket number was taken by another writer.")
        raise ConcurrencyConflict("The ticket was changed by someone else; reload and retry.")

    # ---- ticket numbers --------------------------------------------------------------------

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _first_free_number(self, start: int) -> int:
        """The first number at or after ``start`` with no ticket (numbers are contiguous, so
        galloping then bisecting finds it in O(log n) look-ups)."""
        if not self._exists(ticket_id_for(start)):
            return start
        taken, step = start, 1
        while self._exists(ticket_id_for(taken + step)):
            taken += step
            step *= 2
        free = taken + step
        while free - taken > 1:
            middle = (taken + free) // 2
            if self._exists(ticket_id_for(middle)):
                taken = middle
            else:
                free = middle
        return free

    # ---- history ----------------------------------------------------------------------

    def ticket_events(self, number: int) -> Iterable[Any]:
        """The ticket's stored domain events, oldest first."""
        self.get_ticket(number)
        return self.events.get(ticket_id_for(number))


ConcurrencyConflict = errors.ConcurrencyConflict
