"""The message bus: every entry point submits contract commands here.

A :class:`Submission` is a command (``contracts.commands``), the context it runs in and how
it is keyed:

* :class:`FromTopic` — a command from ``helpdesk.ticket-commands`` (upstream systems, the
  closer, email ingest): deduplicated by its ``command_id``; the actor it claims is checked
  against the deployment's rules; a refusal is stored as a rejected receipt, which the relay
  publishes as ``CommandRejected``.
* :class:`FromRequest` — an API request (or an in-process call): the actor comes from a
  verified token; an ``Idempotency-Key`` (already scoped to the caller) with the request's
  fingerprint makes a retry answer with the first result, another request under the same key
  is refused (:class:`~errors.IdempotencyKeyReused`), and after ``idempotency_key_ttl`` the
  key is new again; a refusal is the caller's answer and stores nothing.

:meth:`MessageBus.handle_batch` is the one batch runner: it stores several commands per
transaction and gives each the outcome it would have had alone, in order. Commands on one
ticket (or one key) never share a transaction; a command that fails unexpectedly is taken
out of its group and run alone in its place; when a group's save fails (a replayed key, a
concurrent writer), each of its commands runs alone. Alone, a replay answers with the first
outcome, a conflicting save is retried, and an unexpected error is retried ``max_attempts``
times before its outcome carries the ``failure`` (the intake dead-letters it). Only a store
outage is raised.
"""

from __future__ import annotations

import copy
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError

from contracts import commands as cmd
from contracts.common import Role
from services.ticket_service.application.collector import collector_paused
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.handlers import HANDLERS, Effect
from services.ticket_service.application.unit_of_work import Duplicate, Operation, UnitOfWork
from services.ticket_service.domain import errors
from services.ticket_service.domain.claimed_actors import check_claimed_actor
from services.ticket_service.domain.ids import POLICY_ID, ticket_id_for
from services.ticket_service.domain.policy import AutoClosePolicy
from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 3
"""Attempts at a topic command that fails unexpectedly (``HELPDESK_INTAKE_MAX_ATTEMPTS``)."""
MAX_CONFLICT_RETRIES = 5
"""Saves of one command that may meet a concurrent writer before it gives up."""
MAX_KEY_ATTEMPTS = 3
"""A keyed request that meets an expired receipt renews it and runs again; a concurrent
renewal of the same key makes a third attempt find the fresh receipt."""
MAX_GROUP = 500
MAX_TAKEN_OUT = 4
"""After this many commands taken out of one group, the rest of it run alone too (bounds
the re-runs a batch of failing commands costs)."""

STORE_OUTAGE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
"""The store is unreachable or refuses for now (connection lost or refused, pool exhausted,
database locked): the same commands succeed later, so the caller retries them.
eventsourcing translates sqlite3's and psycopg's errors into these (``ConnectionUnavailableError``
is an ``OperationalError``) and its PostgreSQL recorder retries exactly this pair; every
other error (integrity, data, programming errors included) is the command's own."""


class Store(Protocol):
    """What the bus needs of the ticket application."""

    idempotency_key_ttl: timedelta
    command_roles: frozenset[Role] | None

    def transaction(
        self, ops: Sequence[Operation[T]], *, renewing: Mapping[str, Receipt] | None = None
    ) -> list[T]: ...

    def get_ticket_by_id(self, ticket_id: UUID, *, number: int | None = None) -> Ticket: ...

    def receipt(self, key: str) -> Receipt | None: ...


@dataclass(frozen=True)
class FromTopic:
    """Keyed by the command id; refusals stored (see the module)."""

    max_attempts: int = MAX_ATTEMPTS


@dataclass(frozen=True)
class FromRequest:
    """Keyed by an optional idempotency key and fingerprint (see the module)."""

    key: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    command: cmd.CommandEnvelope
    ctx: RequestContext
    keying: FromTopic | FromRequest = field(default_factory=FromRequest)

    @classmethod
    def from_topic(
        cls, command: cmd.CommandEnvelope, *, max_attempts: int = MAX_ATTEMPTS
    ) -> Submission:
        command_id = str(command.command_id)
        ctx = RequestContext(
            actor=command.actor,
            correlation_id=command.correlation_id or command_id,
            causation_id=command_id,
            at=utcnow(),
        )
        return cls(command, ctx, FromTopic(max_attempts))

    @property
    def key(self) -> str | None:
        """The key of the receipt its effect is stored with (unless the effect has its own)."""
        if isinstance(self.keying, FromTopic):
            return f"command:{self.command.command_id}"
        return self.keying.key

    @property
    def target(self) -> UUID | None:
        """The ticket the command names, if any."""
        command = self.command
        if command.ticket_id is not None:
            return command.ticket_id
        if command.ticket_number is not None:
            return ticket_id_for(command.ticket_number)
        return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one command."""

    ok: bool
    ticket: Ticket | None = None
    """The ticket the command made or changed (of a replayed request: the one its key made)."""
    ticket_id: UUID | None = None
    ticket_number: int | None = None
    policy: AutoClosePolicy | None = None
    duplicate: bool = False
    error: errors.DomainError | None = None
    """The rules' refusal (stored as a rejected receipt for a topic command)."""
    failure: Exception | None = None
    """Set when applying the command raised something other than a rule's refusal or a
    store outage on every attempt (a bug): nothing was stored; the intake dead-letters it."""

    def unwrap(self) -> Ticket:
        """The ticket, or the refusal or failure raised (what an in-process caller wants)."""
        if self.error is not None:
            raise self.error
        if self.failure is not None:
            raise self.failure
        assert self.ticket is not None, "the command changed no ticket"
        return self.ticket


class _TakenOut(Exception):
    """Command ``index`` of the group must run alone."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class MessageBus:
    def __init__(self, store: Store, *, max_group: int = MAX_GROUP) -> None:
        self.store = store
        self.max_group = max_group

    def handle(self, submission: Submission) -> Outcome:
        return self.handle_batch([submission])[0]

    def handle_batch(
        self,
        submissions: Sequence[Submission],
        *,
        on_commit: Callable[[int], None] | None = None,
        outage_as_outcome: bool = False,
    ) -> list[Outcome]:
        """One outcome per submission, in order. ``on_commit`` is told the number of
        commands of each transaction. A store outage is raised (the Kafka intake rewinds the
        batch: what was stored is deduplicated when it comes again); with
        ``outage_as_outcome`` (concurrent HTTP requests), the commands stored before it keep
        their outcomes and each of the others fails with it."""
        outcomes: list[Outcome | None] = [None] * len(submissions)
        try:
            self._run(submissions, outcomes, on_commit)
        except STORE_OUTAGE as outage:
            if not outage_as_outcome:
                raise
            for i, outcome in enumerate(outcomes):
                if outcome is None:
                    outcomes[i] = Outcome(ok=False, failure=outage)
        assert all(o is not None for o in outcomes)
        return outcomes  # type: ignore[return-value]

    def _run(
        self,
        submissions: Sequence[Submission],
        outcomes: list[Outcome | None],
        on_commit: Callable[[int], None] | None,
    ) -> None:
        """Fill ``outcomes`` in (see the module)."""
        todo = deque(range(len(submissions)))
        alone: set[int] = set()
        """Commands taken out of a group: each runs alone, in its place."""
        with collector_paused():
            while todo:
                group = self._next_group(todo, submissions, alone)
                if len(group) > 1 and len(alone) < MAX_TAKEN_OUT:
                    try:
                        results = self.store.transaction(
                            [self._guarded(i, submissions[g]) for i, g in enumerate(group)]
                        )
                    except _TakenOut as taken:  # again, in order: the commands before
                        alone.add(group[taken.index])  # it, then it alone, then the rest
                        todo.extendleft(reversed(group))
                        continue
                    except STORE_OUTAGE:
                        raise
                    except Duplicate:
                        if self._replayed(group, submissions, outcomes):
                            todo.extendleft(reversed([g for g in group if outcomes[g] is None]))
                            continue
                    except Exception as error:
                        if not isinstance(error, errors.ConcurrencyConflict):
                            log.warning("bus: a group of %d failed; one at a time", len(group))
                    else:
                        for g, outcome in zip(group, results, strict=True):
                            outcomes[g] = outcome
                        if on_commit is not None:
                            on_commit(len(group))
                        continue
                for g in group:
                    outcomes[g] = self._alone(submissions[g], on_commit)

    def _replayed(
        self, group: list[int], submissions: Sequence[Submission], outcomes: list[Outcome | None]
    ) -> bool:
        """Answer the group's topic commands that were applied before (a redelivered
        batch, the closer firing again after a rebuild) from their receipts; whether any
        was. One read each, paid only once a group met a replay: running each command of
        the group alone instead cost a failed save apiece."""
        replayed = False
        for g in group:
            submission = submissions[g]
            if isinstance(submission.keying, FromTopic) and submission.key is not None:
                receipt = self.store.receipt(submission.key)
                if receipt is not None:
                    outcomes[g] = self._replay(submission, receipt)
                    replayed = True
        return replayed

    def _next_group(
        self, todo: deque[int], submissions: Sequence[Submission], alone: set[int]
    ) -> list[int]:
        """The longest prefix of ``todo`` whose commands touch no ticket or key twice; a
        command taken out of a group is a group of its own."""
        if todo[0] in alone:
            return [todo.popleft()]
        group: list[int] = []
        seen: set[object] = set()
        while todo and len(group) < self.max_group:
            if todo[0] in alone:
                break
            submission = submissions[todo[0]]
            marks = _marks(submission)
            if group and not seen.isdisjoint(marks):
                break
            seen.update(marks)
            group.append(todo.popleft())
        return group

    def _guarded(self, index: int, submission: Submission) -> Operation[Outcome]:
        """The command's operation, taken out of its group (:class:`_TakenOut`) if it
        raises or changes an aggregate an earlier command of the group staged."""
        op = self._operation(submission)

        def run(uow: UnitOfWork) -> Outcome:
            uow.step = index
            try:
                outcome = op(uow)
            except STORE_OUTAGE:
                raise
            except Exception:
                raise _TakenOut(index) from None
            if uow.shared:  # handlers stage whatever they change
                raise _TakenOut(index)
            return outcome

        return run

    def _operation(self, submission: Submission) -> Operation[Outcome]:
        command, ctx, keying = submission.command, submission.ctx, submission.keying
        handler = HANDLERS[type(command)]

        def op(uow: UnitOfWork) -> Outcome:
            first_free = uow.next_number
            try:
                if isinstance(keying, FromTopic):
                    check_claimed_actor(
                        command.actor.role,
                        closes_by_timer=isinstance(command, cmd.CloseTicket)
                        and command.data.closed_by == "automation",
                        allowed=self.store.command_roles,
                    )
                effect = handler(command, ctx, uow)
            except errors.DomainError as error:
                uow.give_back_numbers(first_free)  # e.g. a refused follow-up took one
                if isinstance(keying, FromTopic):
                    uow.stage(_rejected(submission, error))
                return Outcome(ok=False, ticket_id=submission.target, error=error)
            if effect.ticket is not None:
                for key in _receipt_keys(submission, effect):
                    if uow.staged_receipt(key) is not None:
                        raise uow.duplicate(key)
                    uow.stage(_accepted(uow, key, effect, submission))
            return _outcome(effect)

        return op

    def _alone(
        self, submission: Submission, on_commit: Callable[[int], None] | None = None
    ) -> Outcome:
        """The command in a transaction of its own (see the module), whatever its outcome."""
        outcome = self._run_alone(submission)
        if on_commit is not None:
            on_commit(1)
        return outcome

    def _run_alone(self, submission: Submission) -> Outcome:
        renewing: dict[str, Receipt] = {}
        conflicts = failures = renewals = 0
        max_attempts = (
            submission.keying.max_attempts if isinstance(submission.keying, FromTopic) else 1
        )
        while True:
            try:
                [outcome] = self.store.transaction([self._operation(submission)], renewing=renewing)
            except Duplicate as duplicate:
                receipt = duplicate.receipt
                if self._expired(submission, receipt) and renewals < MAX_KEY_ATTEMPTS:
                    renewals += 1
                    renewing = {receipt.key: receipt}
                    continue
                return self._replay(submission, receipt)
            except errors.ConcurrencyConflict as conflict:
                conflicts += 1
                if conflicts >= MAX_CONFLICT_RETRIES:  # not contention any more
                    log.warning(
                        "bus: %s %s conflicted %d times: %s",
                        submission.command.command_type,
                        submission.command.command_id,
                        conflicts,
                        conflict,
                    )
                    if isinstance(submission.keying, FromTopic):
                        return Outcome(ok=False, ticket_id=submission.target, failure=conflict)
                    return Outcome(ok=False, ticket_id=submission.target, error=conflict)
                continue
            except STORE_OUTAGE:
                raise
            except Exception as failure:
                failures += 1
                log.warning(
                    "bus: %s %s failed (attempt %d of %d)",
                    submission.command.command_type,
                    submission.command.command_id,
                    failures,
                    max_attempts,
                    exc_info=True,
                )
                if failures >= max_attempts:
                    return Outcome(ok=False, ticket_id=submission.target, failure=failure)
                continue
            return outcome

    def _expired(self, submission: Submission, receipt: Receipt) -> bool:
        keying = submission.keying
        return (
            isinstance(keying, FromRequest)
            and keying.fingerprint is not None
            and receipt.key == keying.key
            and receipt.expired(submission.ctx.at, self.store.idempotency_key_ttl)
        )

    def _replay(self, submission: Submission, receipt: Receipt) -> Outcome:
        """The answer to a command whose key has a receipt already."""
        keying = submission.keying
        if isinstance(keying, FromTopic):
            return Outcome(
                ok=receipt.accepted,
                ticket_id=receipt.ticket_id,
                ticket_number=receipt.ticket_number,
                duplicate=True,
            )
        if (
            keying.fingerprint is not None
            and receipt.key == keying.key
            and not receipt.answers(keying.fingerprint)
        ):
            return Outcome(
                ok=False,
                error=errors.IdempotencyKeyReused(
                    "This Idempotency-Key was used for a different request "
                    f"(ticket #{receipt.ticket_number}); a new request needs a new key.",
                    hint="Retry with the same body, or send this request with a new key.",
                ),
            )
        assert receipt.ticket_id is not None
        ticket = self.store.get_ticket_by_id(receipt.ticket_id)
        return Outcome(
            ok=True,
            ticket=ticket,
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            duplicate=True,
        )


def _marks(submission: Submission) -> set[object]:
    """What two commands of one transaction must not share: the ticket they target, their
    receipt key, their source key."""
    marks: set[object] = set()
    if (target := submission.target) is not None:
        marks.add(target)
    if isinstance(submission.command, cmd.ChangeAutoClosePolicy):
        marks.add(POLICY_ID)
    if (key := submission.key) is not None:
        marks.add(key)
    data = submission.command.data  # type: ignore[attr-defined]
    if isinstance(data, cmd.AddCommentData | cmd.CreateFollowUpData) and data.source_key:
        marks.add(("source", data.source_key))
    elif isinstance(data, cmd.FollowUpRequestedData):
        marks.add(("source", data.message_id))
    return marks


def _receipt_keys(submission: Submission, effect: Effect) -> tuple[str, ...]:
    """The receipts an accepted command is stored with. A request: its idempotency key if
    it has one, else the effect's own key (a follow-up's source key), else none. A topic
    command: its command id, as every topic command (a redelivery must find it, whatever
    the command did the first time), and the effect's own key when it has one (a second
    command naming the same source key finds the first follow-up)."""
    keying = submission.keying
    if isinstance(keying, FromRequest):
        key = keying.key or effect.key
        return (key,) if key else ()
    command_key = f"command:{submission.command.command_id}"
    return (command_key, effect.key) if effect.key else (command_key,)


def _outcome(effect: Effect) -> Outcome:
    ticket = effect.ticket
    if ticket is None:
        return Outcome(ok=True, policy=effect.policy)
    return Outcome(ok=True, ticket=ticket, ticket_id=ticket.id, ticket_number=ticket.number)


def _accepted(uow: UnitOfWork, key: str, effect: Effect, submission: Submission) -> Receipt:
    """The receipt of ``key`` for the effect's ticket: the expired one the batch renews (a
    copy, as a batch may run again), else a new one."""
    ticket = effect.ticket
    assert ticket is not None
    ctx, keying = submission.ctx, submission.keying
    fingerprint = keying.fingerprint if isinstance(keying, FromRequest) else None
    expired = uow.renewing.get(key)
    if expired is not None:
        renewed = copy.deepcopy(expired)
        renewed.renew(
            ticket_id=ticket.id, ticket_number=ticket.number, fingerprint=fingerprint, at=ctx.at
        )
        return renewed
    return Receipt.record(
        key=key,
        outcome="accepted",
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        at=ctx.at,
        meta=ctx.meta,
        command_type=(submission.command.command_type if isinstance(keying, FromTopic) else None),
        error=None,
        reason=None,
        fingerprint=fingerprint,
    )


def _rejected(submission: Submission, error: errors.DomainError) -> Receipt:
    command, ctx = submission.command, submission.ctx
    return Receipt.record(
        key=f"command:{command.command_id}",
        outcome="rejected",
        ticket_id=submission.target if command.ticket_id or command.ticket_number else None,
        ticket_number=command.ticket_number,
        at=ctx.at,
        meta=ctx.meta,
        command_type=command.command_type,
        error=error.code,
        reason=error.message,
    )


class HasBus(Protocol):
    bus: MessageBus


def handle_commands(
    app: HasBus, commands: Sequence[cmd.CommandEnvelope], *, max_attempts: int = MAX_ATTEMPTS
) -> list[Outcome]:
    """Commands from the commands topic (the Kafka intake; tests), several per transaction;
    one outcome per command, in order. Raises only a store outage."""
    return app.bus.handle_batch(
        [Submission.from_topic(command, max_attempts=max_attempts) for command in commands]
    )


def handle_command(
    app: HasBus, command: cmd.CommandEnvelope, *, max_attempts: int = MAX_ATTEMPTS
) -> Outcome:
    return handle_commands(app, [command], max_attempts=max_attempts)[0]
