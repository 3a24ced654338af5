"""Commands from Kafka (``contracts.commands``) → application operations.

Each command is deduplicated by its ``command_id`` through a receipt saved with its effect.
A command the rules refuse is not an error of the consumer: it is recorded as a rejected
receipt, which the relay publishes as ``CommandRejected`` keyed by the target ticket.
A batch is saved in one transaction; if that fails (a replayed command, a concurrent writer,
an unexpected error) the batch is retried one command at a time. A store outage is raised
(the caller retries the whole batch later); any other error of one command is retried
``max_attempts`` times (a save that keeps conflicting, ``MAX_CONFLICT_RETRIES`` times), then
that command's outcome carries the ``failure`` and the others are applied: one broken
command never blocks the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError

from contracts import commands as cmd
from contracts.common import Actor, Channel, MailReference, Role
from services.ticket_service.application.collector import collector_paused
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.tickets import (
    ConcurrencyConflict,
    Duplicate,
    Operation,
    Outcome,
    TicketApplication,
    accepted_receipt,
    follow_up_key,
)
from services.ticket_service.application.unit_of_work import UnitOfWork
from services.ticket_service.domain import errors
from services.ticket_service.domain.claimed_actors import check_claimed_actor
from services.ticket_service.domain.ids import ticket_id_for
from services.ticket_service.domain.receipt import Receipt
from services.ticket_service.domain.ticket import Ticket

log = logging.getLogger(__name__)

MAX_CONFLICT_RETRIES = 5
MAX_ATTEMPTS = 3
"""Attempts at a command that fails unexpectedly (``HELPDESK_INTAKE_MAX_ATTEMPTS``)."""

STORE_OUTAGE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
"""The store is unreachable or refuses for now (connection lost or refused, pool exhausted,
database locked): the same commands succeed later, so the caller retries the whole batch.
eventsourcing translates sqlite3's and psycopg's errors into these (``ConnectionUnavailableError``
is an ``OperationalError``) and its PostgreSQL recorder retries exactly this pair; every
other error (integrity, data, programming errors included) is the command's own."""


def handle_commands(
    app: TicketApplication, commands: Sequence[cmd.Command], *, max_attempts: int = MAX_ATTEMPTS
) -> list[Outcome]:
    """Apply commands, several per store transaction; one outcome per command, in order.
    Raises only a store outage (see :data:`STORE_OUTAGE`)."""
    if not commands:
        return []
    try:
        with collector_paused():
            return app.run_batch([operation(app, c) for c in commands])
    except STORE_OUTAGE:
        raise
    except (Duplicate, ConcurrencyConflict):
        pass
    except Exception:
        log.warning("commands: batch of %d failed; one at a time", len(commands), exc_info=True)
    return [handle_command(app, c, max_attempts=max_attempts) for c in commands]


def handle_command(
    app: TicketApplication, command: cmd.Command, *, max_attempts: int = MAX_ATTEMPTS
) -> Outcome:
    failures: list[Exception] = []
    conflicts = 0
    while True:
        try:
            return app.run(operation(app, command))
        except Duplicate as duplicate:
            receipt = duplicate.receipt
            return Outcome(
                ok=receipt.accepted,
                ticket_id=receipt.ticket_id,
                ticket_number=receipt.ticket_number,
                duplicate=True,
            )
        except ConcurrencyConflict as conflict:
            conflicts += 1
            if conflicts >= MAX_CONFLICT_RETRIES:  # not contention any more: park it
                log.warning(
                    "commands: %s %s conflicted %d times: %s",
                    command.command_type,
                    command.command_id,
                    conflicts,
                    conflict,
                )
                return Outcome(ok=False, ticket_id=_target_id(command), failure=conflict)
        except STORE_OUTAGE:
            raise
        except Exception as failure:
            failures.append(failure)
            log.warning(
                "commands: %s %s failed (attempt %d of %d)",
                command.command_type,
                command.command_id,
                len(failures),
                max_attempts,
                exc_info=True,
            )
            if len(failures) >= max_attempts:
                return Outcome(ok=False, ticket_id=_target_id(command), failure=failure)


def operation(app: TicketApplication, command: cmd.Command) -> Operation[Outcome]:
    command_id = str(command.command_id)
    key = f"command:{command_id}"
    ctx = RequestContext(
        actor=command.actor,
        correlation_id=command.correlation_id or command_id,
        causation_id=command_id,
        at=utcnow(),
    )

    def op(uow: UnitOfWork) -> Outcome:
        if uow.staged_receipt(key) is not None:
            return Outcome(ok=True, duplicate=True)
        first_free = uow.next_number
        try:
            ticket = _apply(app, uow, command, ctx)
        except errors.DomainError as error:
            uow.give_back_numbers(first_free)  # e.g. a refused follow-up took one
            uow.stage(_rejected(key, command, error, ctx))
            return Outcome(ok=False, ticket_id=_target_id(command), error=error)
        if ticket is None:
            return Outcome(ok=True)
        uow.stage(accepted_receipt(key, ticket, ctx, command.command_type))
        return Outcome(ok=True, ticket_id=ticket.id, ticket_number=ticket.number)

    return op


def _apply(
    app: TicketApplication, uow: UnitOfWork, command: cmd.Command, ctx: RequestContext
) -> Ticket | None:
    after = app.auto_close_after
    actor = ctx.actor_dict
    check_claimed_actor(
        command.actor.role,
        closes_by_timer=isinstance(command, cmd.CloseTicket)
        and command.data.closed_by == "automation",
        allowed=app.command_roles,
    )
    match command:
        case cmd.CreateTicket(data=data):
            fields = data.model_dump(mode="json", exclude={"channel", "original", "attachments"})
            return app.open_ticket(
                uow,
                fields,
                ctx,
                channel=data.channel.value,
                original=_reference(data.original),
                attachments=data.attachments,
            )
        case cmd.UpdateTicket(data=data):
            ticket = _target(uow, command)
            if data.expected_version is not None and ticket.version != data.expected_version:
                raise errors.ConcurrencyConflict(
                    f"Ticket #{ticket.number} is at version {ticket.version}, "
                    f"not {data.expected_version}."
                )
            ticket.update(
                data.changes.as_changes(),
                actor=actor,
                at=ctx.at,
                auto_close_after=after,
                organization_of=uow.organization_of,
                meta=ctx.meta,
            )
        case cmd.AddComment(data=data):
            ticket = _target(uow, command)
            if ticket.is_closed and data.follow_up_if_closed:
                key = follow_up_key(ticket.number, data.source_key or str(command.command_id))
                return app.stage_follow_up(
                    uow,
                    ticket,
                    ctx,
                    data.body,
                    data.channel.value,
                    data.source_key,
                    key,
                    original=_reference(data.original),
                    attachments=data.attachments,
                )
            ticket.add_comment(
                body=data.body,
                public=data.public,
                actor=actor,
                channel=data.channel.value,
                at=ctx.at,
                auto_close_after=after,
                meta=ctx.meta,
                attachments=data.attachments,
                quoted_text=data.quoted_text,
                original=_reference(data.original),
            )
        case cmd.CloseTicket(data=data):
            ticket = _target(uow, command)
            if data.closed_by == "automation":
                if data.solve_id is None:
                    raise errors.InvalidRequest("An automation close must name its solve_id.")
                ticket.auto_close(solve_id=data.solve_id, at=ctx.at, meta=ctx.meta)
            else:
                ticket.update(
                    {"status": "closed"},
                    actor=actor,
                    at=ctx.at,
                    auto_close_after=after,
                    organization_of=uow.organization_of,
                    meta=ctx.meta,
                )
        case cmd.CreateFollowUp(data=data):
            source = _target(uow, command)
            key = follow_up_key(source.number, data.source_key or str(command.command_id))
            return app.stage_follow_up(
                uow, source, ctx, data.body, data.channel.value, data.source_key, key
            )
        case cmd.FollowUpRequested(data=data):
            source = _target(uow, command)
            requester_ctx = RequestContext(
                actor=Actor(role=Role.REQUESTER, email=data.sender),
                correlation_id=ctx.correlation_id,
                causation_id=ctx.causation_id,
                at=ctx.at,
            )
            key = follow_up_key(source.number, data.message_id)
            return app.stage_follow_up(
                uow,
                source,
                requester_ctx,
                data.body,
                Channel.EMAIL.value,
                data.message_id,
                key,
                original=_reference(data.original),
                attachments=data.attachments,
            )
        case cmd.ChangeAutoClosePolicy(data=data):
            app.change_auto_close_policy_in(uow, data.after_days, ctx)
            return None
        case _:
            raise errors.InvalidRequest(f"Unsupported command {command.command_type}.")
    uow.stage(ticket)
    return ticket


def _reference(original: MailReference | None) -> dict[str, Any] | None:
    """The mail-store reference as the domain keeps it (plain data)."""
    return original.model_dump() if original else None


def _target(uow: UnitOfWork, command: cmd.Command) -> Ticket:
    return uow.ticket(number=command.ticket_number, ticket_id=command.ticket_id)


def _target_id(command: cmd.Command) -> UUID | None:
    if command.ticket_id is not None:
        return command.ticket_id
    if command.ticket_number is not None:
        return ticket_id_for(command.ticket_number)
    return None


def _rejected(
    key: str, command: cmd.Command, error: errors.DomainError, ctx: RequestContext
) -> Receipt:
    target = _target_id(command)
    return Receipt.record(
        key=key,
        outcome="rejected",
        ticket_id=target,
        ticket_number=command.ticket_number,
        at=ctx.at,
        meta=ctx.meta,
        command_type=command.command_type,
        error=error.code,
        reason=error.message,
    )
