"""One change, two ways in: ``PATCH /api/v1/tickets/{n}`` and a Kafka ``UpdateTicket``.

Both ways must give the same answer (issue #12, item 3). An outcome is compared as a
category: ``accepted``, or the refusal's class as HTTP states it (422 invalid, 403 not
permitted, 409 the ticket's state forbids it). A Kafka command that fails the contract is
dead-lettered (``invalid``); one the rules refuse becomes ``CommandRejected`` with the code
that the HTTP API maps to its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts import limits
from contracts.common import Actor, Role, TicketFields
from services.ticket_service.adapters.http.problems import DOMAIN_STATUS
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain.ticket import UPDATABLE_FIELDS, Ticket

REQUESTER = "ann@example.com"
EMAILS = {"agent": "alice@helpdesk.example.com", "integration": "crm@integrations.example.com"}
STATE_FIELDS = tuple(sorted(UPDATABLE_FIELDS))
"""What a change may set: compared field by field after each change."""

CATEGORY_OF_STATUS = {
    200: "accepted",
    422: "invalid",
    403: "not_permitted",
    404: "not_found",
    409: "conflict",
}
CATEGORY_OF_CODE = {
    error.code: CATEGORY_OF_STATUS[status] for error, status in DOMAIN_STATUS.items()
}


@dataclass(frozen=True)
class Change:
    """One row of the table: who changes a ticket in which state, and how."""

    name: str
    role: str
    start: str  # "new", "open" or "closed"
    changes: dict[str, Any]
    expected: str  # the category both ways must answer


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


NULLS = ["subject", "status", "requester", "cc", "priority", "tags", "custom_fields"]

TABLE: list[Change] = [
    # accepted
    Change(
        "status and priority", "agent", "new", {"status": "open", "priority": "high"}, "accepted"
    ),
    Change(
        "names", "agent", "new", {"assignee": "bob", "division": "it", "form": "hw"}, "accepted"
    ),
    Change("clear assignee", "agent", "open", {"assignee": None, "form": None}, "accepted"),
    Change(
        "tags and fields",
        "agent",
        "new",
        {"tags": ["a"], "custom_fields": {"k": [1, {"v": 2}]}},
        "accepted",
    ),
    Change(
        "subject and cc",
        "agent",
        "new",
        {"subject": "Better", "cc": ["cc@example.com"]},
        "accepted",
    ),
    Change("requester", "agent", "new", {"requester": "new@example.com"}, "accepted"),
    Change("nothing", "agent", "new", {}, "accepted"),
    Change("same values", "agent", "open", {"status": "open", "priority": "normal"}, "accepted"),
    Change("longest subject", "agent", "new", {"subject": "s" * limits.SUBJECT_MAX}, "accepted"),
    Change(
        "most tags", "agent", "new", {"tags": [f"t{i}" for i in range(limits.TAGS_MAX)]}, "accepted"
    ),
    Change(
        "deepest fields",
        "agent",
        "new",
        {"custom_fields": _deep(limits.CUSTOM_FIELDS_DEPTH_MAX)},
        "accepted",
    ),
    Change("integration closes", "integration", "open", {"status": "closed"}, "accepted"),
    Change(
        "closed: editable",
        "integration",
        "closed",
        {"priority": "urgent", "tags": ["x"]},
        "accepted",
    ),
    # refused by the contract
    *(Change(f"null {f}", "agent", "open", {f: None}, "invalid") for f in NULLS),
    Change(
        "null with a valid field", "agent", "open", {"subject": None, "assignee": "bob"}, "invalid"
    ),
    Change("subject number", "agent", "new", {"subject": 5}, "invalid"),
    Change("empty subject", "agent", "new", {"subject": ""}, "invalid"),
    Change("long subject", "agent", "new", {"subject": "s" * (limits.SUBJECT_MAX + 1)}, "invalid"),
    Change("tags string", "agent", "new", {"tags": "a"}, "invalid"),
    Change("too many tags", "agent", "new", {"tags": ["t"] * (limits.TAGS_MAX + 1)}, "invalid"),
    Change("long tag", "agent", "new", {"tags": ["t" * (limits.TAG_MAX + 1)]}, "invalid"),
    Change("cc string", "agent", "new", {"cc": "cc@example.com"}, "invalid"),
    Change("bad requester", "agent", "new", {"requester": "not-an-address"}, "invalid"),
    Change("fields list", "agent", "new", {"custom_fields": [1]}, "invalid"),
    Change(
        "fields too deep",
        "agent",
        "new",
        {"custom_fields": _deep(limits.CUSTOM_FIELDS_DEPTH_MAX + 1)},
        "invalid",
    ),
    Change(
        "fields too big",
        "agent",
        "new",
        {"custom_fields": {"k": "v" * limits.CUSTOM_FIELDS_BYTES_MAX}},
        "invalid",
    ),
    Change("unknown priority", "agent", "new", {"priority": "extreme"}, "invalid"),
    Change("status case", "agent", "new", {"status": "OPEN"}, "invalid"),
    Change("assignee number", "agent", "new", {"assignee": 3}, "invalid"),
    Change("long assignee", "agent", "new", {"assignee": "a" * (limits.NAME_MAX + 1)}, "invalid"),
    Change("unknown field", "agent", "new", {"colour": "red"}, "invalid"),
    Change("read-only field", "agent", "new", {"description": "rewritten"}, "invalid"),
    # refused by the rules
    Change("agent closes", "agent", "open", {"status": "closed"}, "not_permitted"),
    Change("back to new", "agent", "open", {"status": "new"}, "conflict"),
    Change("closed: agent edits", "agent", "closed", {"priority": "high"}, "conflict"),
    Change("closed: reopen", "integration", "closed", {"status": "open"}, "conflict"),
    Change("closed: subject", "integration", "closed", {"subject": "Other"}, "conflict"),
]


def actor(role: str) -> Actor:
    return Actor(role=Role(role), email=EMAILS[role], sub=EMAILS[role])


def set_up(app: TicketApplication, change: Change) -> Ticket:
    """A ticket in the row's starting state, made the same way on either side."""
    status = "open" if change.start == "open" else "new"
    ctx = RequestContext(actor=actor("agent"))
    fields = TicketFields(
        subject="Printer on fire",
        requester=REQUESTER,
        status=status,
        assignee="carol",
        form="hardware",
    )
    ticket = app.create_ticket(fields, ctx, channel="agent")
    if change.start == "closed":
        ticket = app.update_ticket(
            ticket.number, {"status": "closed"}, RequestContext(actor=actor("integration"))
        )
    return ticket


def state(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in STATE_FIELDS} | {"version": ticket.version}
