"""Vocabulary shared by events and commands: statuses, roles, channels, ticket fields."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from contracts import limits
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


class MailReference(Contract):
    """The inbound message a comment was made from, kept whole by email ingest in its
    content-addressed store: a reference, never the bytes."""

    message_id: str = Field(min_length=1, max_length=limits.KEY_MAX)
    size: int = Field(ge=0, description="Bytes of the message as received.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of those bytes (hex).")


class Actor(Contract):
    """Who did it. ``email`` identifies people; ``sub`` is the token subject."""

    role: Role
    email: str | None = Field(None, max_length=limits.EMAIL_MAX)
    sub: str | None = Field(None, max_length=limits.SUB_MAX)


def _bounded_custom_fields(value: dict[str, Any]) -> dict[str, Any]:
    return limits.bounded_json(
        value,
        what="custom_fields",
        max_bytes=limits.CUSTOM_FIELDS_BYTES_MAX,
        max_depth=limits.CUSTOM_FIELDS_DEPTH_MAX,
    )


Subject = Annotated[str, StringConstraints(min_length=1, max_length=limits.SUBJECT_MAX)]
Name = Annotated[str, StringConstraints(max_length=limits.NAME_MAX)]
"""An assignee, a division or a form."""
Tag = Annotated[str, StringConstraints(max_length=limits.TAG_MAX)]
CustomFields = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_custom_fields),
    Field(
        description=f"Any JSON object, at most {limits.CUSTOM_FIELDS_BYTES_MAX} bytes as "
        f"compact JSON and {limits.CUSTOM_FIELDS_DEPTH_MAX} levels deep."
    ),
]

NON_NULLABLE_CHANGES = frozenset(
    {"subject", "status", "requester", "cc", "priority", "tags", "custom_fields"}
)
"""Fields a change may set but never null (only assignee, division and form clear)."""


class TicketFields(Contract):
    """The fields a ticket is created with."""

    subject: Subject
    description: str = Field(default="", max_length=limits.TEXT_MAX)
    status: Status = Status.NEW
    requester: EmailStr
    cc: list[EmailStr] = Field(default_factory=list, max_length=limits.CC_MAX)
    assignee: Name | None = None
    division: Name | None = None
    priority: Priority = Priority.NORMAL
    form: Name | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=limits.TAGS_MAX)
    custom_fields: CustomFields = Field(default_factory=dict)


class TicketChanges(Contract):
    """A partial update: only the fields that are set change. ``null`` clears
    ``assignee``, ``division`` and ``form``; it is refused for every other field (leave a
    field out to keep its value)."""

    subject: Subject | None = Field(
        default=None, description="Leave it out to keep the value; null is refused."
    )
    status: Status | None = Field(
        default=None, description="Leave it out to keep the value; null is refused."
    )
    requester: EmailStr | None = Field(
        default=None, description="Leave it out to keep the value; null is refused."
    )
    cc: list[EmailStr] | None = Field(
        default=None,
        max_length=limits.CC_MAX,
        description="Leave it out to keep the value; null is refused.",
    )
    assignee: Name | None = Field(default=None, description="null clears it.")
    division: Name | None = Field(default=None, description="null clears it.")
    priority: Priority | None = Field(
        default=None, description="Leave it out to keep the value; null is refused."
    )
    form: Name | None = Field(default=None, description="null clears it.")
    tags: list[Tag] | None = Field(
        default=None,
        max_length=limits.TAGS_MAX,
        description="Leave it out to keep the value; null is refused.",
    )
    custom_fields: CustomFields | None = Field(
        default=None,
        description=f"Any JSON object, at most {limits.CUSTOM_FIELDS_BYTES_MAX} bytes as "
        f"compact JSON and {limits.CUSTOM_FIELDS_DEPTH_MAX} levels deep. Leave it out to "
        "keep the value; null is refused.",
    )

    @field_validator(*sorted(NON_NULLABLE_CHANGES))
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(
                "cannot be null: leave the field out to keep its value "
                "(null clears assignee, division and form only)"
            )
        return value

    def as_changes(self) -> dict[str, Any]:
        """Field name → new value, for the fields the change sets (JSON-ready)."""
        return self.model_dump(mode="json", exclude_unset=True)


class TicketRef(Contract):
    number: int
    id: UUID
