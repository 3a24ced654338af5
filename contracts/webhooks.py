"""The bodies of webhook deliveries (``services/webhooks``, docs/webhooks.md): ``{type,
timestamp, data}``. ``data.event`` is the event envelope as on ``helpdesk.ticket-events``;
``data.ticket`` the ticket as the integration API shows it at that version, with its
``follow_up_of`` and ``follow_ups``. Receivers verify the Standard Webhooks headers first."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts import events as ev
from contracts.common import Channel, Priority, Status, TicketRef


class Payload(BaseModel):
    """Receivers must ignore fields they do not know: new ones may be added."""

    model_config = ConfigDict(extra="allow")


class WebhookTicket(Payload):
    id: UUID
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
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None
    follow_up_of: TicketRef | None = Field(description="The original of a follow-up.")
    organization_id: UUID | None = None
    version: int = Field(description="The ticket's version this payload shows.")
    follow_ups: list[int] = Field(description="Numbers of this ticket's follow-ups so far.")


class TicketCreatedData(Payload):
    event: ev.TicketCreated
    ticket: WebhookTicket


class TicketUpdatedData(Payload):
    event: ev.TicketUpdated
    ticket: WebhookTicket


class StatusChangedData(Payload):
    event: ev.StatusChanged
    ticket: WebhookTicket


class CommentedData(Payload):
    event: ev.CommentAdded
    ticket: WebhookTicket


class ClosedData(Payload):
    event: ev.TicketClosed
    ticket: WebhookTicket


class FollowUpCreatedData(Payload):
    event: ev.FollowUpCreated
    ticket: WebhookTicket = Field(description="The new follow-up (``follow_up_of`` set).")
    original: WebhookTicket | None = Field(
        None, description="The original ticket, whose ``follow_ups`` now list the new one."
    )


class AutoClosePolicyChangedData(Payload):
    event: ev.AutoClosePolicyChanged


class PingData(Payload):
    webhook_id: str


class TicketCreatedWebhook(Payload):
    type: Literal["ticket.created"]
    timestamp: datetime
    data: TicketCreatedData


class TicketUpdatedWebhook(Payload):
    type: Literal["ticket.updated"]
    timestamp: datetime
    data: TicketUpdatedData


class TicketStatusChangedWebhook(Payload):
    type: Literal["ticket.status_changed"]
    timestamp: datetime
    data: StatusChangedData


class TicketCommentedWebhook(Payload):
    type: Literal["ticket.commented"]
    timestamp: datetime
    data: CommentedData


class TicketClosedWebhook(Payload):
    type: Literal["ticket.closed"]
    timestamp: datetime
    data: ClosedData


class TicketFollowUpCreatedWebhook(Payload):
    type: Literal["ticket.follow_up_created"]
    timestamp: datetime
    data: FollowUpCreatedData


class AutoClosePolicyChangedWebhook(Payload):
    type: Literal["auto_close_policy.changed"]
    timestamp: datetime
    data: AutoClosePolicyChangedData


class PingWebhook(Payload):
    type: Literal["webhook.ping"]
    timestamp: datetime
    data: PingData


WEBHOOK_PAYLOAD_TYPES: dict[str, type[Payload]] = {
    "ticket.created": TicketCreatedWebhook,
    "ticket.updated": TicketUpdatedWebhook,
    "ticket.status_changed": TicketStatusChangedWebhook,
    "ticket.commented": TicketCommentedWebhook,
    "ticket.closed": TicketClosedWebhook,
    "ticket.follow_up_created": TicketFollowUpCreatedWebhook,
    "auto_close_policy.changed": AutoClosePolicyChangedWebhook,
    "webhook.ping": PingWebhook,
}
