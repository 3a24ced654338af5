"""HTTP request and response bodies (design §9). Wire models of events and commands live
in ``contracts/``; these are the API's own shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts import limits
from contracts.common import Channel, Priority, Status, TicketChanges, TicketRef
from contracts.events import Event

MAX_NUMBER = 10**12
"""Ticket numbers above this are refused (422) before reaching the store."""
TicketNumber = Annotated[int, Field(ge=1, le=MAX_NUMBER)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommentIn(Body):
    body: str = Field(min_length=1, max_length=limits.TEXT_MAX)
    public: bool = True


class RequestCommentIn(Body):
    body: str = Field(min_length=1, max_length=limits.TEXT_MAX)


class FollowUpIn(Body):
    body: str = Field(default="", max_length=limits.TEXT_MAX)


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
    version: int
    follow_ups: list[int] | None = Field(
        None, description="Numbers of the follow-ups of this ticket (integration role only)."
    )


class TicketDetail(Ticket):
    comments: list[Comment]


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


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
