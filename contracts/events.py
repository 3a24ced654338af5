"""Events published on ``helpdesk.ticket-events`` (key: ticket id), one envelope each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from contracts.common import (
    SCHEMA_VERSION,
    Actor,
    Channel,
    Contract,
    Priority,
    Status,
    TicketRef,
)


class EventEnvelope(Contract):
    event_id: UUID
    event_type: str
    ticket_id: UUID
    ticket_number: int | None
    version: int = Field(ge=1, description="Position of the event in its ticket's stream.")
    occurred_at: datetime
    schema_version: int = SCHEMA_VERSION
    correlation_id: str | None = None
    causation_id: str | None = None


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


class TicketCreated(EventEnvelope):
    event_type: Literal["TicketCreated"] = "TicketCreated"
    data: TicketCreatedData


class FollowUpCreatedData(TicketCreatedData):
    follow_up_of: TicketRef
    source_key: str | None = Field(
        None, description="What made it (idempotency key, email Message-ID)."
    )


class FollowUpCreated(EventEnvelope):
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


class StatusChanged(EventEnvelope):
    event_type: Literal["StatusChanged"] = "StatusChanged"
    data: StatusChangedData


class TicketUpdatedData(Contract):
    changes: dict[str, Any] = Field(description="Field name to its new value.")
    changed_by: Actor


class TicketUpdated(EventEnvelope):
    event_type: Literal["TicketUpdated"] = "TicketUpdated"
    data: TicketUpdatedData


class CommentAddedData(Contract):
    comment_id: UUID
    author: Actor
    body: str
    public: bool
    channel: Channel
    attachments: list[dict[str, Any]] = Field(default_factory=list)


class CommentAdded(EventEnvelope):
    event_type: Literal["CommentAdded"] = "CommentAdded"
    data: CommentAddedData


class TicketClosedData(Contract):
    closed_by: Literal["automation", "integration"]
    solve_id: int | None = Field(None, description="The solve the automation closed.")
    from_status: Status
    actor: Actor


class TicketClosed(EventEnvelope):
    event_type: Literal["TicketClosed"] = "TicketClosed"
    data: TicketClosedData


class AutoClosePolicyChangedData(Contract):
    after_seconds: int = Field(gt=0)
    changed_by: Actor


class AutoClosePolicyChanged(EventEnvelope):
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
    """A command from Kafka that the ticket service refused; keyed by the target ticket."""

    event_type: Literal["CommandRejected"] = "CommandRejected"
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
