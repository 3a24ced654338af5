"""HTTP request and response bodies (design §9). Wire models of events and commands live
in ``contracts/``; these are the API's own shapes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts import limits
from contracts.common import Channel, Priority, Status, TicketChanges, TicketRef
from contracts.dead_letters import DeadLetter
from contracts.email_address import EmailStr
from contracts.events import Event
from services.ticket_service.domain.organization import MAX_DOMAINS, MAX_MEMBERS, NAME_MAX

if TYPE_CHECKING:
    from services.ticket_service.adapters.dead_letter_store import StoredDeadLetter

MAX_NUMBER = 10**12
"""Ticket numbers above this are refused (422) before reaching the store."""
TicketNumber = Annotated[int, Field(ge=1, le=MAX_NUMBER)]


class Body(BaseModel):
    """A request body of the API's own: unknown fields refused, and strict types: a JSON
    number is not a boolean, a string is not a number (``public: 0``, ``after_days: "7"``
    or ``true`` → 422). A field whose JSON form is a string of another type (an enum, a
    datetime) needs ``Field(strict=False)``, as bodies are validated as Python data."""

    model_config = ConfigDict(extra="forbid", strict=True)


class CommentIn(Body):
    body: str = Field(min_length=1, max_length=limits.TEXT_MAX)
    public: bool = True


class RequestCommentIn(Body):
    body: str = Field(min_length=1, max_length=limits.TEXT_MAX)


class NewRequestIn(Body):
    """A help-center request: the caller (the token's email) is its requester."""

    subject: str = Field(min_length=1, max_length=limits.SUBJECT_MAX)
    description: str = Field(default="", max_length=limits.TEXT_MAX)


class FollowUpIn(Body):
    body: str = Field(
        default="",
        max_length=limits.TEXT_MAX,
        description="The new message: the follow-up's description starts with a reference "
        "to the original ticket (#n), followed by this text. Optional (the body itself may "
        "be left out).",
    )


class BulkIn(Body):
    numbers: list[TicketNumber] = Field(min_length=1, max_length=100)
    changes: TicketChanges


class AutoCloseIn(Body):
    after_days: int = Field(ge=1, le=28)


class Comment(BaseModel):
    id: UUID
    body: str
    public: bool
    author: dict[str, Any]
    channel: str
    at: datetime
    quoted_text: str = ""
    """Email replies: the quoted history collapsed below the visible body."""
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    """Descriptions; email attachments have an ``attachment_id`` to download them by."""
    original: dict[str, Any] | None = None
    """Email replies: ``{message_id, size, sha256}`` of the message as received
    (``GET …/comments/{comment_id}/original``)."""


class Ticket(BaseModel):
    """A ticket as the agent and integration APIs show it."""

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
    follow_up_of: TicketRef | None
    organization_id: UUID | None = Field(
        None, description="The requester's organization when the ticket was created."
    )
    version: int
    follow_ups: list[int] | None = Field(
        None, description="Numbers of the follow-ups of this ticket (integration role only)."
    )


class TicketDetail(Ticket):
    comments: list[Comment]
    original: dict[str, Any] | None = None
    """Tickets opened by email (new tickets and follow-ups): ``{message_id, size, sha256}``
    of the message that opened it, as received (``GET /api/v1/tickets/{number}/original``)."""
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    """That message's attachments (``GET /api/v1/tickets/{number}/attachments/{id}``)."""


class ViewRow(Ticket):
    bulk_selectable: bool


class ViewPage(BaseModel):
    tickets: list[ViewRow]
    next_cursor: str | None


class Request(BaseModel):
    """A ticket as its requester and CC'd users see it in the help center: closed shows as
    ``solved`` and read-only."""

    id: UUID
    number: int
    subject: str
    description: str
    status: Status
    requester: str
    cc: list[str]
    priority: Priority
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    follow_up_of: TicketRef | None
    read_only: bool
    can_follow_up: bool


class RequestDetail(Request):
    comments: list[Comment] = Field(description="The public conversation.")
    attachments: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Attachments of the email that opened the request (``GET "
        "/helpcenter/v1/requests/{number}/attachments/{attachment_id}``).",
    )


class RequestPage(BaseModel):
    requests: list[Request]
    next_cursor: str | None


class BulkError(BaseModel):
    status: int
    code: str
    detail: str
    hint: str | None = None


class BulkResult(BaseModel):
    number: int
    ok: bool
    error: BulkError | None = None
    version: int | None = None


class BulkOut(BaseModel):
    results: list[BulkResult]


class EventHistory(BaseModel):
    events: list[Event]


class AutoCloseOut(BaseModel):
    after_days: int | float = Field(description="The period in days (fractional below a day).")
    after_seconds: int


OrganizationName = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Domain = Annotated[str, Field(min_length=1, max_length=253, examples=["example.com"])]
Members = Annotated[
    list[EmailStr],
    Field(max_length=MAX_MEMBERS, description="Member email addresses."),
]
Domains = Annotated[
    list[Domain],
    Field(
        max_length=MAX_DOMAINS,
        description=(
            "Claimed email domains: their users' new tickets belong to the organization "
            "(explicit members first). Free-mail domains are refused."
        ),
    ),
]


class OrganizationIn(Body):
    name: OrganizationName
    members: Members = Field(default_factory=list)
    domains: Domains = Field(default_factory=list)


class OrganizationPatch(Body):
    """Replace the fields that are given; the others stay."""

    name: OrganizationName | None = None
    members: Members | None = None
    domains: Domains | None = None

    @model_validator(mode="after")
    def no_nulls(self) -> OrganizationPatch:
        nulls = sorted(n for n in self.model_fields_set if getattr(self, n) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave it out to keep it.")
        return self


class Organization(BaseModel):
    id: UUID
    name: str
    members: list[str]
    domains: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class OrganizationList(BaseModel):
    organizations: list[Organization]


class Liveness(BaseModel):
    """``GET /healthz``: the process answers."""

    status: Literal["ok"] = "ok"


class Health(BaseModel):
    """``GET /readyz``: ``ok`` when every check passes, else ``unavailable`` (503)."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(
        default_factory=dict,
        description='Each dependency checked: "ok" or "error: <what>".',
    )


class DeadLetterOut(DeadLetter):
    """A dead letter kept in the ticket store, with what operators did with it."""

    status: Literal["pending", "retried"] = Field(
        description="pending: not retried yet; retried: its original command was "
        "republished to the commands topic."
    )
    retries: int = Field(description="How many times it was republished.")
    retried_at: datetime | None = None

    @classmethod
    def of(cls, kept: StoredDeadLetter) -> DeadLetterOut:
        return cls(
            **kept.letter.model_dump(),
            status=kept.status,
            retries=kept.retries,
            retried_at=kept.retried_at,
        )


class DeadLetterPage(BaseModel):
    dead_letters: list[DeadLetterOut] = Field(description="Oldest first.")


# ---- webhooks (the management API of services/webhooks) ------------------------------

WebhookType = Literal[
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "ticket.commented",
    "ticket.closed",
    "ticket.follow_up_created",
    "auto_close_policy.changed",
]
WebhookUrl = Annotated[str, Field(min_length=1, max_length=2048, description="https URL.")]
WebhookTypes = Annotated[
    list[WebhookType],
    Field(max_length=7, description="The event types to deliver; empty or absent: all."),
]


class WebhookIn(Body):
    url: WebhookUrl
    event_types: WebhookTypes = Field(default_factory=list)
    description: str | None = Field(None, max_length=500)


class WebhookPatch(Body):
    """Replace the fields that are given; the others stay. ``active: true`` re-enables a
    disabled webhook."""

    url: WebhookUrl | None = None
    event_types: WebhookTypes | None = None
    description: str | None = Field(None, max_length=500)
    active: bool = Field(True, description="Leave it out to keep it.")

    @model_validator(mode="after")
    def no_nulls(self) -> WebhookPatch:
        nulls = sorted(
            n for n in self.model_fields_set if getattr(self, n) is None and n != "description"
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave it out to keep it.")
        return self


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    disabled_reason: str | None = Field(
        None, description="Why the service disabled it (no success for the set time)."
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (``whsec_…``), shown only here and on rotation."
    )


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class WebhookSecret(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret, shown only here.")
    previous_valid_until: datetime = Field(
        description="Until then deliveries carry signatures with both secrets."
    )


class WebhookAttempt(BaseModel):
    at: datetime
    status: int | None = Field(description="The endpoint's HTTP status; null: no answer.")
    duration_ms: float
    error: str | None = None
    next_attempt_at: datetime | None = None
    response: str = Field("", description="At most 64 KiB of the answer's body.")


class WebhookDelivery(BaseModel):
    id: str = Field(description="The ``webhook-id`` header: the same on every attempt.")
    type: str
    status: Literal["pending", "delivered", "failed"]
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[WebhookAttempt]


class WebhookDeliveryPage(BaseModel):
    deliveries: list[WebhookDelivery] = Field(description="Newest first.")
    next_cursor: str | None


class WebhookQueued(BaseModel):
    delivery_id: str


class WebhookAuditEntry(BaseModel):
    at: datetime
    actor: str
    action: str = Field(description="created, changed, secret_rotated, redelivered, disabled")
    details: dict[str, Any]


class WebhookAudit(BaseModel):
    entries: list[WebhookAuditEntry] = Field(description="Oldest first.")
