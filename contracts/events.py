"""Events published on ``helpdesk.ticket-events`` (key: ticket id), one envelope each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from contracts import limits
from contracts.common import (
    SCHEMA_VERSION,
    Actor,
    Channel,
    Contract,
    MailReference,
    Priority,
    Status,
    TicketRef,
)

REJECTION_SCHEMA_VERSION = 2
"""``CommandRejected`` v2: ``version`` is null (v1 carried 1, which collided with the
target ticket's own first event under the ``(ticket_id, version)`` deduplication)."""


class EventEnvelope(Contract):
    """Every message on the events topic. A stream event (:class:`StreamEvent`) has its
    position in its stream as ``version``; a :class:`CommandRejected` is in no stream."""

    event_id: UUID = Field(
        description="Unique per event and kept by a republished one: deduplicate by it, or "
        "by (ticket_id, version) for the events that have a version."
    )
    event_type: str
    ticket_id: UUID
    ticket_number: int | None
    version: int | None = Field(
        ge=1,
        description="Position of the event in its ticket's stream; null for CommandRejected.",
    )
    occurred_at: datetime
    schema_version: int = SCHEMA_VERSION
    correlation_id: str | None = None
    causation_id: str | None = None


class StreamEvent(EventEnvelope):
    """An event of a ticket's (or the policy's) stream: ``(ticket_id, version)`` is unique."""

    version: int = Field(ge=1, description="Position of the event in its ticket's stream.")


class TicketCreatedData(Contract):
    number: int
    subject: str
    description: str
    status: Status
    requester: str
    cc: list[str]
    assignee: str | None
    division: str | None
    priority: Priority
    form: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    channel: Channel
    created_by: Actor
    solve_id: int | None = Field(None, description="Set when created as solved.")
    auto_close_due_at: datetime | None = None
    organization_id: UUID | None = Field(
        None,
        description=(
            "The requester's organization when the ticket was created (an explicit member "
            "first, then a claimed domain); null when in none. It never changes afterwards."
        ),
    )
    original: MailReference | None = Field(
        None,
        description="Email: the message that opened the ticket, in the mail store "
        "(``GET /api/v1/tickets/{number}/original``).",
    )
    attachments: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Email: the attachments of that message (``attachment_id``, ``sha256``, "
        "…; ``GET /api/v1/tickets/{number}/attachments/{attachment_id}``).",
    )


class TicketCreated(StreamEvent):
    event_type: Literal["TicketCreated"] = "TicketCreated"
    data: TicketCreatedData


class FollowUpCreatedData(TicketCreatedData):
    follow_up_of: TicketRef
    source_key: str | None = Field(
        None, description="What made it (idempotency key, email Message-ID)."
    )


class FollowUpCreated(StreamEvent):
    """The first event of a follow-up ticket's own stream (the original gets none)."""

    event_type: Literal["FollowUpCreated"] = "FollowUpCreated"
    data: FollowUpCreatedData


class StatusChangedData(Contract):
    from_status: Status
    to_status: Status
    changed_by: Actor
    reason: str | None = Field(None, description="e.g. requester_reply")
    solve_id: int | None = Field(None, description="Set when to_status is solved.")
    auto_close_due_at: datetime | None = Field(
        None, description="When the automation closes this solve (to_status solved)."
    )


class StatusChanged(StreamEvent):
    event_type: Literal["StatusChanged"] = "StatusChanged"
    data: StatusChangedData


class TicketUpdatedData(Contract):
    changes: dict[str, Any] = Field(description="Field name to its new value.")
    changed_by: Actor


class TicketUpdated(StreamEvent):
    event_type: Literal["TicketUpdated"] = "TicketUpdated"
    data: TicketUpdatedData


class CommentAddedData(Contract):
    comment_id: UUID
    author: Actor
    body: str
    public: bool
    channel: Channel
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    quoted_text: str = Field(
        "",
        max_length=limits.QUOTED_TEXT_MAX,
        description="Email: the quoted history below the reply (empty when there is none).",
    )
    original: MailReference | None = Field(
        None, description="Email: the message as received, in the mail store."
    )


class CommentAdded(StreamEvent):
    event_type: Literal["CommentAdded"] = "CommentAdded"
    data: CommentAddedData


class TicketClosedData(Contract):
    closed_by: Literal["automation", "integration"]
    solve_id: int | None = Field(None, description="The solve the automation closed.")
    from_status: Status
    actor: Actor


class TicketClosed(StreamEvent):
    event_type: Literal["TicketClosed"] = "TicketClosed"
    data: TicketClosedData


class AutoClosePolicyChangedData(Contract):
    after_seconds: int = Field(gt=0)
    changed_by: Actor


class AutoClosePolicyChanged(StreamEvent):
    """Keyed by the policy's own id; ``ticket_number`` is null."""

    event_type: Literal["AutoClosePolicyChanged"] = "AutoClosePolicyChanged"
    data: AutoClosePolicyChangedData


class OrganizationData(Contract):
    name: str
    members: list[str] = Field(description="Member email addresses, lower case, sorted.")
    domains: list[str] = Field(description="Claimed email domains, lower case, sorted.")


class OrganizationCreatedData(OrganizationData):
    created_by: Actor


class OrganizationCreated(EventEnvelope):
    """Keyed by the organization's id (``ticket_id`` holds it); ``ticket_number`` is null."""

    event_type: Literal["OrganizationCreated"] = "OrganizationCreated"
    data: OrganizationCreatedData


class OrganizationChangedData(OrganizationData):
    """The organization's whole state after the change. Existing tickets keep their
    organization; the change applies to tickets created after it."""

    changed_by: Actor


class OrganizationChanged(EventEnvelope):
    """Keyed by the organization's id; ``ticket_number`` is null."""

    event_type: Literal["OrganizationChanged"] = "OrganizationChanged"
    data: OrganizationChangedData


class OrganizationDeletedData(Contract):
    deleted_by: Actor


class OrganizationDeleted(EventEnvelope):
    """Keyed by the organization's id; ``ticket_number`` is null. Its tickets stay
    organization tickets in the history but no org-wide viewer sees them any more."""

    event_type: Literal["OrganizationDeleted"] = "OrganizationDeleted"
    data: OrganizationDeletedData


class CommandRejectedData(Contract):
    command_id: UUID
    command_type: str
    reason: str
    error: str = Field(description="Machine-readable error code, e.g. ticket_closed.")


class CommandRejected(EventEnvelope):
    """A command from Kafka that the ticket service refused; keyed by the target ticket.
    Not an event of the ticket's stream (the ticket did not change): ``version`` is null,
    ``event_id`` (derived from the command id) identifies it: deduplicate by ``event_id``."""

    event_type: Literal["CommandRejected"] = "CommandRejected"
    version: None = Field(
        None, description="Always null: a rejection is in no stream; deduplicate by event_id."
    )
    schema_version: int = REJECTION_SCHEMA_VERSION
    data: CommandRejectedData


Event = Annotated[
    TicketCreated
    | FollowUpCreated
    | StatusChanged
    | TicketUpdated
    | CommentAdded
    | TicketClosed
    | AutoClosePolicyChanged
    | OrganizationCreated
    | OrganizationChanged
    | OrganizationDeleted
    | CommandRejected,
    Field(discriminator="event_type"),
]
EventAdapter: TypeAdapter[Event] = TypeAdapter(Event)

EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    TicketCreated,
    FollowUpCreated,
    StatusChanged,
    TicketUpdated,
    CommentAdded,
    TicketClosed,
    AutoClosePolicyChanged,
    OrganizationCreated,
    OrganizationChanged,
    OrganizationDeleted,
    CommandRejected,
)
