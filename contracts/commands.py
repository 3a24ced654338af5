"""Commands consumed from ``helpdesk.ticket-commands`` (upstream systems, closer, email)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter, model_validator

from contracts import limits
from contracts.common import (
    SCHEMA_VERSION,
    Actor,
    Channel,
    Contract,
    MailReference,
    Role,
    TicketChanges,
    TicketFields,
)


class CommandEnvelope(Contract):
    command_id: UUID = Field(description="Deduplication key: the same id has one effect.")
    command_type: str
    ticket_id: UUID | None = None
    ticket_number: int | None = None
    issued_at: datetime
    schema_version: int = SCHEMA_VERSION
    correlation_id: str | None = Field(None, max_length=limits.ID_MAX)
    causation_id: str | None = Field(None, max_length=limits.ID_MAX)
    actor: Actor


def _bounded_attachments(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return limits.bounded_json(
        value,
        what="attachments",
        max_bytes=limits.ATTACHMENTS_BYTES_MAX,
        max_depth=limits.ATTACHMENTS_DEPTH_MAX,
    )


Attachments = Annotated[
    list[dict[str, Any]],
    Field(
        max_length=limits.ATTACHMENTS_MAX,
        description=f"Descriptions of attachments (e.g. filename, content_type, size): at "
        f"most {limits.ATTACHMENTS_MAX}, {limits.ATTACHMENTS_BYTES_MAX} bytes as compact JSON.",
    ),
    AfterValidator(_bounded_attachments),
]
SourceKey = Annotated[str, StringConstraints(max_length=limits.KEY_MAX)]


class TargetedCommand(CommandEnvelope):
    @model_validator(mode="after")
    def _needs_target(self) -> TargetedCommand:
        if self.ticket_id is None and self.ticket_number is None:
            raise ValueError("ticket_id or ticket_number is required")
        return self


class CreateTicketData(TicketFields):
    channel: Channel = Channel.UPSTREAM
    attachments: Attachments = Field(
        default_factory=list,
        description="Email: the attachments of the message that opened the ticket.",
    )
    original: MailReference | None = Field(
        None, description="Email: the message that opened the ticket, in the mail store."
    )


class CreateTicket(CommandEnvelope):
    command_type: Literal["CreateTicket"] = "CreateTicket"
    data: CreateTicketData


class UpdateTicketData(Contract):
    changes: TicketChanges
    expected_version: int | None = None


class UpdateTicket(TargetedCommand):
    command_type: Literal["UpdateTicket"] = "UpdateTicket"
    data: UpdateTicketData


class AddCommentData(Contract):
    body: str = Field(min_length=1, max_length=limits.TEXT_MAX)
    public: bool = True
    channel: Channel = Channel.UPSTREAM
    attachments: Attachments = Field(default_factory=list)
    follow_up_if_closed: bool = Field(
        False,
        description="A requester's reply (email) that finds the ticket closed becomes a "
        "follow-up instead of being rejected.",
    )
    source_key: SourceKey | None = Field(None, description="e.g. the email Message-ID")
    quoted_text: str = Field(
        "",
        max_length=limits.QUOTED_TEXT_MAX,
        description="Email: the quoted history below the reply, collapsed apart from the "
        "visible body (empty when there is none).",
    )
    original: MailReference | None = Field(
        None, description="Email: the message as received, in the mail store."
    )


class AddComment(TargetedCommand):
    command_type: Literal["AddComment"] = "AddComment"
    data: AddCommentData


class CloseTicketData(Contract):
    closed_by: Literal["automation", "integration"]
    solve_id: int | None = Field(None, description="Required for automation: the solve it closes.")


class CloseTicket(TargetedCommand):
    command_type: Literal["CloseTicket"] = "CloseTicket"
    data: CloseTicketData


class CreateFollowUpData(Contract):
    body: str = Field(default="", max_length=limits.TEXT_MAX)
    channel: Channel = Channel.UPSTREAM
    source_key: SourceKey | None = Field(
        None,
        description="e.g. the email Message-ID: a source ticket gets one follow-up per source "
        "key, whichever command asks for it (a replayed mail, a reply that met a close).",
    )
    attachments: Attachments = Field(default_factory=list)
    original: MailReference | None = Field(
        None, description="Email: the message as received, in the mail store."
    )


class CreateFollowUp(TargetedCommand):
    """Target = the closed ticket to follow up on."""

    command_type: Literal["CreateFollowUp"] = "CreateFollowUp"
    data: CreateFollowUpData


class FollowUpRequestedData(Contract):
    body: str = Field(max_length=limits.TEXT_MAX)
    message_id: str = Field(
        min_length=1,
        max_length=limits.KEY_MAX,
        description="The email's Message-ID: one follow-up each.",
    )
    sender: str = Field(max_length=limits.EMAIL_MAX)
    attachments: Attachments = Field(default_factory=list)
    original: MailReference | None = Field(
        None, description="The message as received, in the mail store."
    )


class FollowUpRequested(TargetedCommand):
    """Deprecated: the earlier form of a mailed follow-up (email ingest now sends
    ``CreateFollowUp`` with ``channel: email`` and the Message-ID as ``source_key``).
    Still accepted: it is handled as the follow-up it names."""

    command_type: Literal["FollowUpRequested"] = "FollowUpRequested"
    data: FollowUpRequestedData

    def as_create_follow_up(self) -> CreateFollowUp:
        data = self.data
        return CreateFollowUp.model_construct(
            **self.model_dump(exclude={"command_type", "data", "actor"}),
            actor=Actor(role=Role.REQUESTER, email=data.sender),
            command_type="CreateFollowUp",
            data=CreateFollowUpData.model_construct(
                body=data.body,
                channel=Channel.EMAIL,
                source_key=data.message_id,
                attachments=data.attachments,
                original=data.original,
            ),
        )


class ChangeAutoClosePolicyData(Contract):
    after_days: int = Field(ge=1, le=28)


class ChangeAutoClosePolicy(CommandEnvelope):
    command_type: Literal["ChangeAutoClosePolicy"] = "ChangeAutoClosePolicy"
    data: ChangeAutoClosePolicyData


Command = Annotated[
    CreateTicket
    | UpdateTicket
    | AddComment
    | CloseTicket
    | CreateFollowUp
    | FollowUpRequested
    | ChangeAutoClosePolicy,
    Field(discriminator="command_type"),
]
CommandAdapter: TypeAdapter[Command] = TypeAdapter(Command)

COMMAND_TYPES: tuple[type[CommandEnvelope], ...] = (
    CreateTicket,
    UpdateTicket,
    AddComment,
    CloseTicket,
    CreateFollowUp,
    FollowUpRequested,
    ChangeAutoClosePolicy,
)
