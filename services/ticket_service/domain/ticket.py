"""The Ticket aggregate: the lifecycle rules of design §2 and §3.

Public methods check the rules and raise :mod:`errors`; the ``@event`` methods only apply
state (they also run on replay, so they must never check anything).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event
from typing_extensions import TypedDict

from contracts import limits
from contracts.common import (
    INTEGRATION_EDITABLE_FIELDS,
    Role,
    Status,
)
from services.ticket_service.domain import errors
from services.ticket_service.domain.ids import ticket_id_for
from services.ticket_service.domain.snapshot import TypedSnapshot

Period = timedelta | Callable[[], timedelta]
"""The auto-close period in force; a callable is only asked when the ticket is solved."""

Meta = dict[str, Any]
"""correlation_id / causation_id carried from the request into every event."""

FOLLOW_UP_COPIED_FIELDS = ("form", "requester", "cc", "assignee", "division", "priority")
REOPENED_BY_REQUESTER = frozenset({Status.PENDING, Status.SOLVED})
CLOSERS = frozenset({Role.INTEGRATION, Role.AUTOMATION})
SUBJECT_MAX = limits.SUBJECT_MAX
UPDATABLE_FIELDS = frozenset(
    {
        "subject",
        "status",
        "requester",
        "cc",
        "assignee",
        "division",
        "priority",
        "form",
        "tags",
        "custom_fields",
    }
)


class TicketState(TypedDict, total=False):
    """Every attribute of a :class:`Ticket`, with the types it can hold (what a snapshot
    restores). An update sets the fields to what ``TicketChanges`` allows, null included."""

    number: int
    subject: str | None
    description: str
    status: Status
    requester: str | None
    cc: list[str] | None
    assignee: str | None
    division: str | None
    priority: str | None
    form: str | None
    tags: list[str] | None
    custom_fields: dict[str, Any] | None
    channel: str
    created_by: dict[str, Any]
    follow_up_of: dict[str, Any] | None
    source_key: str | None
    created_at: datetime
    updated_at: datetime
    solve_id: int
    solved_at: datetime | None
    auto_close_due_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    comments: list[dict[str, Any]]
    organization_id: str | None
    original: dict[str, Any] | None
    attachments: list[dict[str, Any]]


class Ticket(Aggregate):
    organization_id: str | None = None
    """Set at creation (None: the requester was in no organization); the class default
    serves tickets stored before organizations existed."""
    original: dict[str, Any] | None = None
    """Email: the reference (message_id, size, sha256) of the message that opened the
    ticket, kept whole in the mail store; the class default serves older tickets."""
    attachments: tuple[dict[str, Any], ...] | list[dict[str, Any]] = ()
    """Email: descriptions of that message's attachments (never changed once set)."""
    Snapshot = TypedSnapshot
    snapshot_state = TicketState

    @staticmethod
    def create_id(number: int) -> UUID:
        return ticket_id_for(number)

    # ---- creation -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        number: int,
        fields: dict[str, Any],
        channel: str,
        actor: dict[str, Any],
        at: datetime,
        auto_close_after: Period,
        meta: Meta | None = None,
        follow_up_of: dict[str, Any] | None = None,
        source_key: str | None = None,
        organization_id: str | None = None,
        original: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Ticket:
        """A new ticket, in any active status but never ``closed``. ``organization_id``:
        the requester's organization, resolved by the application when the ticket is
        created and kept for good (organizations changing later move no ticket).
        ``original``: the reference of the email that opened it (never the bytes)."""
        status = Status(fields.get("status", Status.NEW))
        if status == Status.CLOSED:
            raise errors.InvalidRequest(
                "A ticket cannot be created closed; create it in an active status.",
            )
        solve = _solve(1, at, auto_close_after) if status == Status.SOLVED else None
        return cls._create(
            cls.Created,
            id=ticket_id_for(number),
            number=number,
            fields={**fields, "status": status.value},
            channel=channel,
            actor=actor,
            at=at,
            meta=meta or {},
            solve=solve,
            follow_up_of=follow_up_of,
            source_key=source_key,
            organization_id=organization_id,
            original=original,
            attachments=attachments or [],
        )

    @classmethod
    def follow_up(
        cls,
        source: Ticket,
        *,
        number: int,
        body: str,
        channel: str,
        actor: dict[str, Any],
        at: datetime,
        auto_close_after: Period,
        meta: Meta | None = None,
        source_key: str | None = None,
        organization_id: str | None = None,
        original: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Ticket:
        """A new ticket continuing a closed one. The source is read, never changed. Like
        every new ticket, it belongs to the requester's organization of now (given by the
        caller), not necessarily the original's."""
        if source.status != Status.CLOSED:
            raise errors.NotClosed(
                f"Ticket #{source.number} is {source.status}, not closed: reply on it instead.",
                hint=errors.REPLY_HINT,
                number=source.number,
            )
        reference = f"Follow-up to #{source.number}"
        fields = {name: getattr(source, name) for name in FOLLOW_UP_COPIED_FIELDS}
        fields["subject"] = f"{reference}: {source.subject}"[:SUBJECT_MAX]
        fields["description"] = f"{reference}\n\n{body}".rstrip() if body else reference
        fields.update(status=Status.NEW.value, tags=[], custom_fields={})
        return cls.open(
            number=number,
            fields=fields,
            channel=channel,
            actor=actor,
            at=at,
            auto_close_after=auto_close_after,
            meta=meta,
            follow_up_of={"number": source.number, "id": str(source.id)},
            source_key=source_key,
            organization_id=organization_id,
            original=original,
            attachments=attachments,
        )

    @event("Created")
    def __init__(
        self,
        *,
        number: int,
        fields: dict[str, Any],
        channel: str,
        actor: dict[str, Any],
        at: datetime,
        meta: Meta,
        solve: dict[str, Any] | None,
        follow_up_of: dict[str, Any] | None,
        source_key: str | None,
        organization_id: str | None = None,
        original: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        self.number = number
        self.subject: str = fields["subject"]
        self.description: str = fields.get("description", "")
        self.status = Status(fields["status"])
        self.requester: str = fields["requester"]
        self.cc: list[str] = list(fields.get("cc", []))
        self.assignee: str | None = fields.get("assignee")
        self.division: str | None = fields.get("division")
        self.priority: str = fields.get("priority", "normal")
        self.form: str | None = fields.get("form")
        self.tags: list[str] = list(fields.get("tags", []))
        self.custom_fields: dict[str, Any] = dict(fields.get("custom_fields", {}))
        self.channel = channel
        self.created_by = actor
        self.follow_up_of = follow_up_of
        self.source_key = source_key
        self.organization_id = organization_id
        self.original = original
        self.attachments = list(attachments or [])
        self.created_at = at
        self.updated_at = at
        self.solve_id = 0
        self.solved_at: datetime | None = None
        self.auto_close_due_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.closed_by: str | None = None
        self.comments: list[dict[str, Any]] = []
        if solve:
            self._apply_solve(solve, at)

    # ---- queries --------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    def _meta(self, meta: Meta | None) -> Meta:
        return {**(meta or {}), "ticket_number": self.number}

    # ---- commands -------------------------------------------------------------------

    def update(
        self,
        changes: dict[str, Any],
        *,
        actor: dict[str, Any],
        at: datetime,
        auto_close_after: Period,
        meta: Meta | None = None,
        organization_of: Callable[[str], str | None] | None = None,
    ) -> None:
        """Change fields and/or status. No-op values are dropped; nothing left, no event.
        A new requester brings the ticket into their organization of now
        (``organization_of``; without it, into none), recorded in the same change: a ticket
        is never shown to an organization its requester is not in."""
        role = Role(actor["role"])
        unknown = sorted(set(changes) - UPDATABLE_FIELDS)
        if unknown:
            raise errors.InvalidRequest(f"Unknown or read-only fields: {', '.join(unknown)}.")
        wanted_status = changes.get("status")
        if wanted_status == Status.CLOSED and role not in CLOSERS:
            raise errors.NotPermitted(
                "Only the auto-close automation or an integration can close a ticket.",
            )
        changes = {k: v for k, v in changes.items() if getattr(self, k) != v}
        status = changes.pop("status", None)
        if self.is_closed:
            self._check_closed_edit(role, status, changes)
        elif status is not None:
            status = Status(status)
            if status == Status.NEW:
                raise errors.InvalidTransition("Nothing moves back to new.")
        if "requester" in changes:
            organization_id = organization_of(changes["requester"]) if organization_of else None
            if organization_id != self.organization_id:
                changes["organization_id"] = organization_id
        if changes:
            self._updated(changes=changes, actor=actor, at=at, meta=self._meta(meta))
        if status == Status.CLOSED:
            self._closed(
                closed_by="integration",
                solve_id=None,
                from_status=self.status.value,
                actor=actor,
                at=at,
                meta=self._meta(meta),
            )
        elif status is not None:
            self._change_status(Status(status), actor, at, auto_close_after, meta)

    def _check_closed_edit(self, role: Role, status: Any, changes: dict[str, Any]) -> None:
        if role != Role.INTEGRATION:
            raise errors.TicketClosed(
                f"Ticket #{self.number} is closed and read-only.",
                hint=errors.FOLLOW_UP_HINT,
                number=self.number,
            )
        if status is not None:
            raise errors.TicketClosed(
                f"Ticket #{self.number} is closed; it can never be reopened.",
                hint=errors.FOLLOW_UP_HINT,
                number=self.number,
            )
        locked = sorted(set(changes) - INTEGRATION_EDITABLE_FIELDS)
        if locked:
            raise errors.TicketClosed(
                f"Ticket #{self.number} is closed; {', '.join(locked)} can no longer change. "
                f"Editable: {', '.join(sorted(INTEGRATION_EDITABLE_FIELDS))}.",
                hint=errors.FOLLOW_UP_HINT,
                number=self.number,
            )

    def add_comment(
        self,
        *,
        body: str,
        public: bool,
        actor: dict[str, Any],
        channel: str,
        at: datetime,
        auto_close_after: Period,
        meta: Meta | None = None,
        attachments: list[dict[str, Any]] | None = None,
        quoted_text: str = "",
        original: dict[str, Any] | None = None,
    ) -> UUID:
        """Add to the conversation. A requester's reply on pending/solved reopens to open."""
        if self.is_closed:
            raise errors.TicketClosed(
                f"Ticket #{self.number} is closed; it takes no more comments.",
                hint=errors.FOLLOW_UP_HINT,
                number=self.number,
            )
        role = Role(actor["role"])
        if role == Role.REQUESTER:
            public = True
        comment_id = uuid4()
        self._commented(
            comment_id=comment_id,
            body=body,
            public=public,
            actor=actor,
            channel=channel,
            at=at,
            meta=self._meta(meta),
            attachments=attachments or [],
            quoted_text=quoted_text,
            original=original,
        )
        if role == Role.REQUESTER and self.status in REOPENED_BY_REQUESTER:
            self._change_status(
                Status.OPEN, actor, at, auto_close_after, meta, reason="requester_reply"
            )
        return comment_id

    def auto_close(self, *, solve_id: int, at: datetime, meta: Meta | None = None) -> None:
        """Close by the automation, only if the named solve still stands and is due."""
        if self.status != Status.SOLVED or solve_id != self.solve_id:
            raise errors.StaleClose(
                f"Ticket #{self.number} is {self.status} at solve {self.solve_id}; "
                f"the timer for solve {solve_id} no longer applies."
            )
        if self.auto_close_due_at is not None and at < self.auto_close_due_at:
            raise errors.StaleClose(
                f"Ticket #{self.number} is not due until {self.auto_close_due_at.isoformat()}."
            )
        self._closed(
            closed_by="automation",
            solve_id=solve_id,
            from_status=self.status.value,
            actor={"role": Role.AUTOMATION.value},
            at=at,
            meta=self._meta(meta),
        )

    def _change_status(
        self,
        status: Status,
        actor: dict[str, Any],
        at: datetime,
        auto_close_after: Period,
        meta: Meta | None,
        reason: str | None = None,
    ) -> None:
        solve = _solve(self.solve_id + 1, at, auto_close_after) if status == Status.SOLVED else None
        self._status_changed(
            from_status=self.status.value,
            to_status=status.value,
            actor=actor,
            at=at,
            meta=self._meta(meta),
            reason=reason,
            solve=solve,
        )

    # ---- events (apply only) -----------------------------------------------------------

    @event("Updated")
    def _updated(
        self, *, changes: dict[str, Any], actor: dict[str, Any], at: datetime, meta: Meta
    ) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_at = at

    @event("StatusChanged")
    def _status_changed(
        self,
        *,
        from_status: str,
        to_status: str,
        actor: dict[str, Any],
        at: datetime,
        meta: Meta,
        reason: str | None,
        solve: dict[str, Any] | None,
    ) -> None:
        self.status = Status(to_status)
        self.updated_at = at
        if solve:
            self._apply_solve(solve, at)
        else:
            self.auto_close_due_at = None

    @event("Commented")
    def _commented(
        self,
        *,
        comment_id: UUID,
        body: str,
        public: bool,
        actor: dict[str, Any],
        channel: str,
        at: datetime,
        meta: Meta,
        attachments: list[dict[str, Any]],
        quoted_text: str = "",
        original: dict[str, Any] | None = None,
    ) -> None:
        comment: dict[str, Any] = {
            "id": comment_id,
            "body": body,
            "public": public,
            "author": actor,
            "channel": channel,
            "at": at,
        }
        if quoted_text:
            comment["quoted_text"] = quoted_text
        if attachments:
            comment["attachments"] = attachments
        if original:
            comment["original"] = original
        self.comments.append(comment)
        self.updated_at = at

    @event("Closed")
    def _closed(
        self,
        *,
        closed_by: str,
        solve_id: int | None,
        from_status: str,
        actor: dict[str, Any],
        at: datetime,
        meta: Meta,
    ) -> None:
        self.status = Status.CLOSED
        self.closed_at = at
        self.closed_by = closed_by
        self.auto_close_due_at = None
        self.updated_at = at

    def _apply_solve(self, solve: dict[str, Any], at: datetime) -> None:
        self.solve_id = solve["solve_id"]
        self.solved_at = at
        self.auto_close_due_at = solve["due_at"]


def _solve(solve_id: int, at: datetime, after: Period) -> dict[str, Any]:
    period = after() if callable(after) else after
    return {"solve_id": solve_id, "due_at": at + period}
