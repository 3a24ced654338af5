"""One handler per contract command (``contracts.commands``): the only code that turns a
command into domain changes, whichever way it came in (HTTP, the commands topic, email).

A handler takes the command, the request context and a :class:`UnitOfWork`, stages what it
changes and returns its :class:`Effect`. It raises a :class:`~errors.DomainError` when the
rules refuse; keying (receipts, replays, rejections) is the message bus's job, not the
handlers'. :data:`HANDLERS` registers them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from contracts import commands as cmd
from contracts.common import MailReference
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.unit_of_work import UnitOfWork
from services.ticket_service.domain import errors
from services.ticket_service.domain.policy import AutoClosePolicy
from services.ticket_service.domain.ticket import Ticket


@dataclass(frozen=True)
class Effect:
    """What a command did: the ticket it made or changed (``None`` for the auto-close
    policy), the policy, and the key of its receipt when the effect has its own (a
    follow-up happens once per source ticket and source key, whichever command asked)."""

    ticket: Ticket | None = None
    policy: AutoClosePolicy | None = None
    key: str | None = None


C = TypeVar("C", bound=cmd.CommandEnvelope)
Handler = Callable[[Any, RequestContext, UnitOfWork], Effect]


def create_ticket(command: cmd.CreateTicket, ctx: RequestContext, uow: UnitOfWork) -> Effect:
    data = command.data
    fields = data.model_dump(mode="json", exclude={"channel", "original", "attachments"})
    ticket = Ticket.open(
        number=uow.take_number(),
        fields=fields,
        channel=data.channel.value,
        actor=ctx.actor_dict,
        at=ctx.at,
        auto_close_after=uow.auto_close_after,
        meta=ctx.meta,
        organization_id=uow.organization_of(fields["requester"]),
        original=_reference(data.original),
        attachments=data.attachments or None,
    )
    uow.stage(ticket)
    return Effect(ticket)


def update_ticket(command: cmd.UpdateTicket, ctx: RequestContext, uow: UnitOfWork) -> Effect:
    ticket = target(uow, command)
    expected = command.data.expected_version
    if expected is not None and ticket.version != expected:
        raise errors.ConcurrencyConflict(
            f"Ticket #{ticket.number} is at version {ticket.version}, "
            f"not {expected}; reload and retry."
        )
    return _changed(ticket, command.data.changes.as_changes(), ctx, uow)


def add_comment(command: cmd.AddComment, ctx: RequestContext, uow: UnitOfWork) -> Effect:
    """A comment; a reply that finds its ticket closed (``follow_up_if_closed``: email,
    where a close can overtake the reply) becomes the same follow-up a
    :class:`~cmd.CreateFollowUp` of it would make, under the same key."""
    data = command.data
    ticket = target(uow, command)
    if ticket.is_closed and data.follow_up_if_closed:
        return _follow_up(
            uow,
            ticket,
            ctx,
            cmd.CreateFollowUpData.model_construct(
                body=data.body,
                channel=data.channel,
                source_key=data.source_key,
                attachments=data.attachments,
                original=data.original,
            ),
            command,
        )
    ticket.add_comment(
        body=data.body,
        public=data.public,
        actor=ctx.actor_dict,
        channel=data.channel.value,
        at=ctx.at,
        auto_close_after=uow.auto_close_after,
        meta=ctx.meta,
        attachments=data.attachments or None,
        quoted_text=data.quoted_text,
        original=_reference(data.original),
    )
    uow.stage(ticket)
    return Effect(ticket)


def close_ticket(command: cmd.CloseTicket, ctx: RequestContext, uow: UnitOfWork) -> Effect:
    ticket = target(uow, command)
    if command.data.closed_by == "automation":
        if command.data.solve_id is None:
            raise errors.InvalidRequest("An automation close must name its solve_id.")
        ticket.auto_close(solve_id=command.data.solve_id, at=ctx.at, meta=ctx.meta)
        uow.stage(ticket)
        return Effect(ticket)
    return _changed(ticket, {"status": "closed"}, ctx, uow)


def create_follow_up(command: cmd.CreateFollowUp, ctx: RequestContext, uow: UnitOfWork) -> Effect:
    return _follow_up(uow, target(uow, command), ctx, command.data, command)


def follow_up_requested(
    command: cmd.FollowUpRequested, ctx: RequestContext, uow: UnitOfWork
) -> Effect:
    """The earlier wire form of a mailed follow-up: handled as the follow-up it names, on
    behalf of the mail's sender."""
    follow_up = command.as_create_follow_up()
    return create_follow_up(follow_up, replace(ctx, actor=follow_up.actor), uow)


def change_auto_close_policy(
    command: cmd.ChangeAutoClosePolicy, ctx: RequestContext, uow: UnitOfWork
) -> Effect:
    after_days = command.data.after_days
    policy = uow.policy()
    if policy is None:
        policy = AutoClosePolicy.first_change(
            after_days=after_days, actor=ctx.actor_dict, at=ctx.at, meta=ctx.meta
        )
    else:
        policy.change(after_days=after_days, actor=ctx.actor_dict, at=ctx.at, meta=ctx.meta)
    uow.stage(policy)
    return Effect(policy=policy)


HANDLERS: Mapping[type[cmd.CommandEnvelope], Handler] = {
    cmd.CreateTicket: create_ticket,
    cmd.UpdateTicket: update_ticket,
    cmd.AddComment: add_comment,
    cmd.CloseTicket: close_ticket,
    cmd.CreateFollowUp: create_follow_up,
    cmd.FollowUpRequested: follow_up_requested,
    cmd.ChangeAutoClosePolicy: change_auto_close_policy,
}


def follow_up_key(source_number: int, source_key: str) -> str:
    """The key of the one follow-up a source ticket gets for one source key (e.g. a mail's
    Message-ID)."""
    return f"follow-up:{source_number}:{source_key}"


def _follow_up(
    uow: UnitOfWork,
    source: Ticket,
    ctx: RequestContext,
    data: cmd.CreateFollowUpData,
    command: cmd.CommandEnvelope,
) -> Effect:
    """The follow-up of ``source``. A source key gives the effect its own receipt key, so
    a second command naming it (a replayed mail, a reply and a follow-up of one mail) finds
    the first follow-up; without one, the command's own key stands."""
    key = follow_up_key(source.number, data.source_key) if data.source_key else None
    if key is not None and uow.staged_receipt(key) is not None:
        raise uow.duplicate(key)
    follow_up = Ticket.follow_up(
        source,
        number=uow.take_number(),
        body=data.body,
        channel=data.channel.value,
        actor=ctx.actor_dict,
        at=ctx.at,
        auto_close_after=uow.auto_close_after,
        meta=ctx.meta,
        source_key=data.source_key,
        organization_id=uow.organization_of(source.requester),
        original=_reference(data.original),
        attachments=data.attachments or None,
    )
    uow.stage(follow_up)
    return Effect(follow_up, key=key)


def _changed(
    ticket: Ticket, changes: dict[str, Any], ctx: RequestContext, uow: UnitOfWork
) -> Effect:
    ticket.update(
        changes,
        actor=ctx.actor_dict,
        at=ctx.at,
        auto_close_after=uow.auto_close_after,
        organization_of=uow.organization_of,
        meta=ctx.meta,
    )
    uow.stage(ticket)
    return Effect(ticket)


def target(uow: UnitOfWork, command: cmd.CommandEnvelope) -> Ticket:
    return uow.ticket(number=command.ticket_number, ticket_id=command.ticket_id)


def _reference(original: MailReference | None) -> dict[str, Any] | None:
    """The mail-store reference as the domain keeps it (plain data)."""
    return original.model_dump() if original else None
