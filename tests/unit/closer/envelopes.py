"""Event envelopes built by hand, as the relay would publish them (shared by closer tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from contracts import events as ev

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
AGENT: dict[str, Any] = {"role": "agent", "email": "a@example.com"}


def _head(ticket_id: UUID, version: int, at: datetime) -> dict[str, Any]:
    return {
        "event_id": uuid4(),
        "ticket_id": ticket_id,
        "ticket_number": 1,
        "version": version,
        "occurred_at": at,
    }


def created(
    ticket_id: UUID,
    *,
    solved_due: datetime | None = None,
    at: datetime = T0,
    follow_up: bool = False,
) -> ev.TicketCreated | ev.FollowUpCreated:
    data: dict[str, Any] = {
        "number": 1,
        "subject": "Printer",
        "description": "",
        "status": "solved" if solved_due else "new",
        "requester": "r@example.com",
        "cc": [],
        "assignee": None,
        "division": None,
        "priority": "normal",
        "form": None,
        "tags": [],
        "custom_fields": {},
        "channel": "agent",
        "created_by": AGENT,
        "solve_id": 1 if solved_due else None,
        "auto_close_due_at": solved_due,
    }
    if follow_up:
        data["follow_up_of"] = {"number": 7, "id": uuid4()}
        return ev.FollowUpCreated(**_head(ticket_id, 1, at), data=data)
    return ev.TicketCreated(**_head(ticket_id, 1, at), data=data)


def solved(
    ticket_id: UUID, version: int, solve_id: int, due: datetime, *, from_status: str = "open"
) -> ev.StatusChanged:
    return ev.StatusChanged(
        **_head(ticket_id, version, due - timedelta(seconds=2)),
        data={
            "from_status": from_status,
            "to_status": "solved",
            "changed_by": AGENT,
            "solve_id": solve_id,
            "auto_close_due_at": due,
        },
    )


def status(
    ticket_id: UUID, version: int, to_status: str, *, from_status: str = "solved"
) -> ev.StatusChanged:
    return ev.StatusChanged(
        **_head(ticket_id, version, T0),
        data={"from_status": from_status, "to_status": to_status, "changed_by": AGENT},
    )


def closed(
    ticket_id: UUID, version: int, *, by: str = "automation", solve_id: int | None = 1
) -> ev.TicketClosed:
    return ev.TicketClosed(
        **_head(ticket_id, version, T0),
        data={
            "closed_by": by,
            "solve_id": solve_id,
            "from_status": "solved",
            "actor": {"role": by},
        },
    )


def commented(ticket_id: UUID, version: int) -> ev.CommentAdded:
    return ev.CommentAdded(
        **_head(ticket_id, version, T0),
        data={
            "comment_id": uuid4(),
            "author": AGENT,
            "body": "hi",
            "public": True,
            "channel": "agent",
        },
    )
