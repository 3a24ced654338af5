"""Vocabulary shared by events and commands: statuses, roles, channels, ticket fields."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.email_address import EmailStr

SCHEMA_VERSION = 1


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


ACTIVE_STATUSES = frozenset(
    {Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}
)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    """Where a ticket or a message came from."""

    AGENT = "agent"
    INTEGRATION = "integration"
    HELP_CENTER = "help_center"
    EMAIL = "email"
    UPSTREAM = "upstream"
    AUTOMATION = "automation"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    OWNER = "owner"
    REQUESTER = "requester"
    INTEGRATION = "integration"
    AUTOMATION = "automation"
    """The system itself (the auto-close automation)."""


INTERNAL_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.OWNER})
POLICY_ADMIN_ROLES = frozenset({Role.ADMIN, Role.OWNER})

INTEGRATION_EDITABLE_FIELDS = frozenset(
    {"assignee", "priority", "division", "form", "tags", "custom_fields"}
)
"""Fields an integration may still change on a closed ticket."""


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(Contract):
    """Who did it. ``email`` identifies people; ``sub`` is the token subject."""

    role: Role
    email: str | None = None
    sub: str | None = None


class TicketFields(Contract):
    """The fields a ticket is created with."""

    subject: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=100_000)
    status: Status = Status.NEW
    requester: EmailStr
    cc: list[EmailStr] = Field(default_factory=list, max_length=100)
    assignee: str | None = None
    division: str | None = None
    priority: Priority = Priority.NORMAL
    form: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=100)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class TicketChanges(Contract):
    """A partial update: only the fields that are set change."""

    subject: str | None = Field(default=None, min_length=1, max_length=500)
    status: Status | None = None
    requester: EmailStr | None = None
    cc: list[EmailStr] | None = Field(default=None, max_length=100)
    assignee: str | None = None
    division: str | None = None
    priority: Priority | None = None
    form: str | None = None
    tags: list[str] | None = Field(default=None, max_length=100)
    custom_fields: dict[str, Any] | None = None


class TicketRef(Contract):
    number: int
    id: UUID
