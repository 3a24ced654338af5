"""The ticket application service: the one way the outside world changes tickets.

Every entry point (HTTP, Kafka intake, email, CLI) calls these methods. Each public command
runs in a :class:`UnitOfWork` and is saved in one transaction together with its
:class:`Receipt` when it carries an idempotency key, so a retry never has a second effect.
A key that comes with a request ``fingerprint`` (an HTTP ``Idempotency-Key``) stands for that
one request: the same key with another fingerprint is refused
(:class:`~errors.IdempotencyKeyReused`), and after ``idempotency_key_ttl`` the key is new
again.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording

from contracts.common import Role, TicketFields
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.organization_index import OrganizationIndex
from services.ticket_service.application.unit_of_work import UnitOfWork
from services.ticket_service.domain import errors
from services.ticket_service.domain.ids import POLICY_ID, receipt_id_for, ticket_id_for
from services.ticket_service.domain.organization import OrganizationDirectory
from services.ticket_service.domain.policy import AutoClosePolicy
from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

T = TypeVar("T")
Operation = Callable[[UnitOfWork], T]


MAX_NUMBER_RETRIES = 20
MAX_KEY_ATTEMPTS = 3
"""A keyed command that meets an expired receipt renews it and runs again; a concurrent
renewal of the same key makes a third attempt find the fresh receipt."""
DEFAULT_IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


class NumberTaken(errors.ConcurrencyConflict):
    """Another writer on the same store took the number this batch wanted."""


class Duplicate(Exception):
    """The receipt already exists: the operation happened before."""

    def __init__(self, receipt: Receipt) -> None:
        super().__init__(receipt.key)
        self.receipt = receipt


@dataclass(frozen=True)
class Outcome:
    """What became of one operation of a batch."""

    ok: bool
    ticket_id: UUID | None = None
    ticket_number: int | None = None
    duplicate: bool = False
    error: errors.DomainError | None = None
    failure: Exception | None = None
    """Set when applying the command raised something other than a rule's refusal or a
    store outage on every attempt (a bug): nothing was stored; the intake dead-letters it."""


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
        self._saved_listeners: list[Callable[[], None]] = []
        self.organizations = OrganizationIndex(self)

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
        policy = self._policy()
        return policy.after if policy else self.default_auto_close_after

    def _policy(self) -> AutoClosePolicy | None:
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

    # ---- commands ------------------------------------------------------------------------

    def create_ticket(
        self,
        fields: TicketFields,
        ctx: RequestContext,
        *,
        channel: str,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> Ticket:
        """``fingerprint``: of the request ``idempotency_key`` came with (see the module)."""
        op = self.create_ticket_op(
            fields, ctx, channel=channel, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
        return self._run_returning_ticket(op, idempotency_key, fingerprint, ctx)

    def create_ticket_op(
        self,
        fields: TicketFields,
        ctx: RequestContext,
        *,
        channel: str,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> Operation[Ticket]:
        """The operation of :meth:`create_ticket`, to run in a caller's batch."""

        def op(uow: UnitOfWork) -> Ticket:
            ticket = self.open_ticket(uow, fields.model_dump(mode="json"), ctx, channel=channel)
            if idempotency_key:
                uow.stage(_accepted(uow, idempotency_key, ticket, ctx, fingerprint))
            return ticket

        return op

    def open_ticket(
        self,
        uow: UnitOfWork,
        fields: dict[str, Any],
        ctx: RequestContext,
        *,
        channel: str,
        original: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Ticket:
        """Stage a new ticket (every way of creating one but follow-ups comes here): the
        next number, and the requester's organization of now."""
        ticket = Ticket.open(
            number=uow.take_number(),
            fields=fields,
            channel=channel,
            actor=ctx.actor_dict,
            at=ctx.at,
            auto_close_after=self.auto_close_after,
            meta=ctx.meta,
            organization_id=uow.organization_of(fields["requester"]),
            original=original,
            attachments=attachments,
        )
        uow.stage(ticket)
        return ticket

    def update_ticket(
        self,
        number: int,
        changes: dict[str, Any],
        ctx: RequestContext,
        *,
        expected_version: int | None = None,
    ) -> Ticket:
        return self.run(
            self.update_ticket_op(number, changes, ctx, expected_version=expected_version)
        )

    def update_ticket_op(
        self,
        number: int,
        changes: dict[str, Any],
        ctx: RequestContext,
        *,
        expected_version: int | None = None,
    ) -> Operation[Ticket]:
        """The operation of :meth:`update_ticket`, to run in a caller's batch."""

        def op(uow: UnitOfWork) -> Ticket:
            ticket = uow.ticket(number=number)
            _check_version(ticket, expected_version)
            ticket.update(
                changes,
                actor=ctx.actor_dict,
                at=ctx.at,
                auto_close_after=self.auto_close_after,
                organization_of=uow.organization_of,
                meta=ctx.meta,
            )
            uow.stage(ticket)
            return ticket

        return op

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
        def op(uow: UnitOfWork) -> Ticket:
            ticket = uow.ticket(number=number)
            ticket.add_comment(
                body=body,
                public=public,
                actor=ctx.actor_dict,
                channel=channel,
                at=ctx.at,
                auto_close_after=self.auto_close_after,
                meta=ctx.meta,
                attachments=attachments,
            )
            uow.stage(ticket)
            return ticket

        return self.run(op)

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
        key = idempotency_key or follow_up_key(source_number, source_key)

        def op(uow: UnitOfWork) -> Ticket:
            source = uow.ticket(number=source_number)
            return self.stage_follow_up(
                uow, source, ctx, body, channel, source_key, key, fingerprint=fingerprint
            )

        return self._run_returning_ticket(op, key, fingerprint, ctx)

    def auto_close(self, ticket_id: UUID, solve_id: int, ctx: RequestContext) -> Ticket:
        def op(uow: UnitOfWork) -> Ticket:
            ticket = uow.ticket(ticket_id=ticket_id)
            ticket.auto_close(solve_id=solve_id, at=ctx.at, meta=ctx.meta)
            uow.stage(ticket)
            return ticket

        return self.run(op)

    def change_auto_close_policy(self, after_days: int, ctx: RequestContext) -> AutoClosePolicy:
        return self.run(lambda uow: self.change_auto_close_policy_in(uow, after_days, ctx))

    def change_auto_close_policy_in(
        self, uow: UnitOfWork, after_days: int, ctx: RequestContext
    ) -> AutoClosePolicy:
        policy = self._policy()
        if policy is None:
            policy = AutoClosePolicy.first_change(
                after_days=after_days, actor=ctx.actor_dict, at=ctx.at, meta=ctx.meta
            )
        else:
            policy.change(after_days=after_days, actor=ctx.actor_dict, at=ctx.at, meta=ctx.meta)
        uow.stage(policy)
        return policy

    # ---- running operations ------------------------------------------------------------

    def run(self, op: Operation[T], *, renewing: Mapping[str, Receipt] | None = None) -> T:
        """Run one operation and save what it staged in one transaction."""
        return self.run_batch([op], renewing=renewing)[0]

    def run_batch(
        self, ops: Sequence[Operation[T]], *, renewing: Mapping[str, Receipt] | None = None
    ) -> list[T]:
        """Run operations and save all they staged in one transaction. Raises the first
        domain error; a conflict raises :class:`ConcurrencyConflict` or :class:`Duplicate`.
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
            uow = UnitOfWork(self, self._next_number, renewing)
            results = [op(uow) for op in ops]
            try:
                if uow.staged:
                    self.save(*uow.staged.values())
            except IntegrityError:
                self._explain_conflict(uow)
                raise
            self._next_number = uow.next_number
            return results

    def _run_returning_ticket(
        self,
        op: Operation[Ticket],
        key: str | None = None,
        fingerprint: str | None = None,
        ctx: RequestContext | None = None,
    ) -> Ticket:
        """Run ``op``; a replay of its key answers with the ticket the key made. With a
        ``fingerprint``, a replay of another request is refused and an expired key is
        renewed (see the module)."""
        renewing: dict[str, Receipt] = {}
        for _ in range(MAX_KEY_ATTEMPTS):
            try:
                return self.run(op, renewing=renewing)
            except Duplicate as duplicate:
                receipt = duplicate.receipt
            if key is not None and fingerprint is not None and receipt.key == key:
                now = ctx.at if ctx is not None else utcnow()
                if receipt.expired(now, self.idempotency_key_ttl):
                    renewing = {key: receipt}
                    continue
                if not receipt.answers(fingerprint):
                    raise errors.IdempotencyKeyReused(
                        "This Idempotency-Key was used for a different request "
                        f"(ticket #{receipt.ticket_number}); a new request needs a new key.",
                        hint="Retry with the same body, or send this request with a new key.",
                    )
            assert receipt.ticket_id is not None
            return self.get_ticket_by_id(receipt.ticket_id)
        raise errors.ConcurrencyConflict("The idempotency key kept changing; retry.")

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
            raise NumberTaken("A ticket number was taken by another writer.")
        raise ConcurrencyConflict("The ticket was changed by someone else; reload and retry.")

    def stage_follow_up(
        self,
        uow: UnitOfWork,
        source: Ticket,
        ctx: RequestContext,
        body: str,
        channel: str,
        source_key: str | None,
        key: str | None,
        *,
        fingerprint: str | None = None,
        original: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Ticket:
        if key and (receipt := uow.staged_receipt(key)) is not None:
            raise Duplicate(receipt)
        follow_up = Ticket.follow_up(
            source,
            number=uow.take_number(),
            body=body,
            channel=channel,
            actor=ctx.actor_dict,
            at=ctx.at,
            auto_close_after=self.auto_close_after,
            meta=ctx.meta,
            source_key=source_key,
            organization_id=uow.organization_of(source.requester),
            original=original,
            attachments=attachments,
        )
        uow.stage(follow_up)
        if key:
            uow.stage(_accepted(uow, key, follow_up, ctx, fingerprint))
        return follow_up

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


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and ticket.version != expected_version:
        raise errors.ConcurrencyConflict(
            f"Ticket #{ticket.number} is at version {ticket.version}, "
            f"not {expected_version}; reload and retry."
        )


def _accepted(
    uow: UnitOfWork, key: str, ticket: Ticket, ctx: RequestContext, fingerprint: str | None
) -> Receipt:
    """The receipt of ``key`` for ``ticket``: the expired one the batch renews (a copy, as
    a batch may run again), else a new one."""
    expired = uow.renewing.get(key)
    if expired is None:
        return accepted_receipt(key, ticket, ctx, fingerprint=fingerprint)
    renewed = copy.deepcopy(expired)
    renewed.renew(
        ticket_id=ticket.id, ticket_number=ticket.number, fingerprint=fingerprint, at=ctx.at
    )
    return renewed


def accepted_receipt(
    key: str,
    ticket: Ticket,
    ctx: RequestContext,
    command_type: str | None = None,
    *,
    fingerprint: str | None = None,
) -> Receipt:
    return Receipt.record(
        key=key,
        outcome="accepted",
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        at=ctx.at,
        meta=ctx.meta,
        command_type=command_type,
        error=None,
        reason=None,
        fingerprint=fingerprint,
    )


def follow_up_key(source_number: int, key: str | None) -> str | None:
    return f"follow-up:{source_number}:{key}" if key else None
