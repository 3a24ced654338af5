"""Contract commands made for an API request or an in-process call: the one place that
builds them, from parts already validated (a request body FastAPI checked, a caller's own
values), so they are assembled with ``model_construct`` rather than validated twice."""

from __future__ import annotations

from typing import Any

from contracts import commands as cmd
from contracts.common import Channel, TicketChanges, TicketFields
from services.ticket_service.application.context import RequestContext


def create_ticket(ctx: RequestContext, fields: TicketFields, channel: Channel) -> cmd.CreateTicket:
    data = cmd.CreateTicketData.model_construct(
        **dict(fields), channel=channel, attachments=[], original=None
    )
    return cmd.CreateTicket.model_construct(**ctx.command_head(), data=data)


def update_ticket(
    ctx: RequestContext, number: int, changes: TicketChanges, expected_version: int | None = None
) -> cmd.UpdateTicket:
    data = cmd.UpdateTicketData.model_construct(changes=changes, expected_version=expected_version)
    return cmd.UpdateTicket.model_construct(**ctx.command_head(number), data=data)


def add_comment(
    ctx: RequestContext,
    number: int,
    body: str,
    *,
    public: bool,
    channel: Channel,
    attachments: list[dict[str, Any]] | None = None,
) -> cmd.AddComment:
    data = cmd.AddCommentData.model_construct(
        body=body,
        public=public,
        channel=channel,
        attachments=attachments or [],
        follow_up_if_closed=False,
        source_key=None,
        quoted_text="",
        original=None,
    )
    return cmd.AddComment.model_construct(**ctx.command_head(number), data=data)


def create_follow_up(
    ctx: RequestContext, number: int, body: str, channel: Channel, source_key: str | None = None
) -> cmd.CreateFollowUp:
    data = cmd.CreateFollowUpData.model_construct(
        body=body, channel=channel, source_key=source_key, attachments=[], original=None
    )
    return cmd.CreateFollowUp.model_construct(**ctx.command_head(number), data=data)


def change_auto_close_policy(ctx: RequestContext, after_days: int) -> cmd.ChangeAutoClosePolicy:
    data = cmd.ChangeAutoClosePolicyData.model_construct(after_days=after_days)
    return cmd.ChangeAutoClosePolicy.model_construct(**ctx.command_head(), data=data)
