"""Writing ticket histories at chosen instants through the real application service."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contracts import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain.ids import ticket_id_for
from services.ticket_service.sla.audit import Audit, RowFilter
from services.ticket_service.sla.clock import TicketRow
from services.ticket_service.sla.facts import Fact
from services.ticket_service.sla.policy import SlaPolicy
from services.ticket_service.sla.render import render
from services.ticket_service.sla.sources.store import store_facts
from tests.fixtures.closing import auto_close

AGENT = Actor(role="agent", email="agent@example.com")
REQUESTER_EMAIL = "requester@example.com"
REQUESTER = Actor(role="requester", email=REQUESTER_EMAIL)
INTEGRATION = Actor(role="integration", sub="crm")
AUTOMATION = Actor(role="automation")
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""Monday 5 January 2026, 09:00 UTC."""


def new_app(tmp: Path) -> TicketApplication:
    return build_application(Settings(data_dir=tmp, auto_close_after=timedelta(days=7)))


class History:
    """Drives one application; every call happens at the given instant."""

    def __init__(self, app: TicketApplication) -> None:
        self.app = app

    @staticmethod
    def ctx(actor: Actor, at: datetime) -> RequestContext:
        return RequestContext(actor=actor, at=at)

    def create(
        self,
        at: datetime,
        priority: str = "normal",
        status: str = "new",
        custom_fields: dict[str, Any] | None = None,
        description: str = "",
    ) -> int:
        fields = TicketFields(
            subject="Printer on fire",
            description=description,
            custom_fields=custom_fields or {},
            requester=REQUESTER_EMAIL,
            priority=priority,
            status=status,
        )
        return self.app.create_ticket(fields, self.ctx(AGENT, at), channel="agent").number

    def reply(self, number: int, at: datetime, *, public: bool = True) -> None:
        self.app.add_comment(
            number, self.ctx(AGENT, at), body="On it.", public=public, channel="agent"
        )

    def requester_reply(self, number: int, at: datetime) -> None:
        self.app.add_comment(
            number, self.ctx(REQUESTER, at), body="Still broken", public=True, channel="email"
        )

    def status(self, number: int, status: str, at: datetime) -> None:
        self.app.update_ticket(number, {"status": status}, self.ctx(AGENT, at))

    def priority(self, number: int, priority: str, at: datetime, actor: Actor = AGENT) -> None:
        self.app.update_ticket(number, {"priority": priority}, self.ctx(actor, at))

    def close_by_integration(self, number: int, at: datetime) -> None:
        self.app.update_ticket(number, {"status": "closed"}, self.ctx(INTEGRATION, at))

    def auto_close(self, number: int, at: datetime) -> None:
        ticket = self.app.get_ticket(number)
        auto_close(self.app, ticket_id_for(number), ticket.solve_id, self.ctx(AUTOMATION, at))

    def follow_up(self, number: int, at: datetime) -> int:
        return self.app.create_follow_up(
            number, self.ctx(AGENT, at), body="It is back.", channel="agent"
        ).number


def audit_rows(
    facts: Iterable[Fact | None],
    policy: SlaPolicy | None = None,
    *,
    as_of: datetime | None = None,
    rows: RowFilter | None = None,
    repeats: bool = False,
) -> dict[int, TicketRow]:
    """Rows by number (``repeats=False``: the facts come from the store's log)."""
    from services.ticket_service.sla.calendar import to_micros

    audit = Audit(
        policy or SlaPolicy(),
        as_of=to_micros(as_of) if as_of else None,
        rows=rows,
        repeats=repeats,
    )
    audit.feed(facts)
    result = audit.finish()
    try:
        return {row.number: row for row in result.rows()}
    finally:
        result.close()


def report_text(
    facts: Iterable[Fact | None],
    policy: SlaPolicy | None = None,
    *,
    as_of: int | None = None,
    fmt: str = "csv",
    repeats: bool = True,
) -> str:
    policy = policy or SlaPolicy()
    audit = Audit(policy, as_of=as_of, repeats=repeats)
    audit.feed(facts)
    result = audit.finish()
    out = io.StringIO()
    try:
        render(out, result, policy, fmt)
    finally:
        result.close()
    return out.getvalue()


def store_rows(app: TicketApplication, **kwargs: Any) -> dict[int, TicketRow]:
    return audit_rows(store_facts(app), **kwargs)


Step = Callable[[History], None]


# ---- random histories (property tests) ---------------------------------------------------

PRIORITIES = ("low", "normal", "high", "urgent")
OPS = (
    "create",
    "reply",
    "note",
    "requester_reply",
    "open",
    "pending",
    "on_hold",
    "solved",
    "close_integration",
    "auto_close",
    "follow_up",
    "priority",
    "odd_fields",
    "create_odd",
    "odd_attachment",
)
Op = tuple[str, int, int]
"""(operation, a number that picks the ticket / value, minutes since the previous op)."""

ODD_FIELDS: dict[str, Any] = {
    "at": {"_type_": "datetime_iso", "_data_": "1999-01-01T00:00:00+00:00"},
    "priority": "low",
    "status": "closed",
    "number": 99,
    "follow_up_of": {"number": 98, "id": "x"},
    "meta": {"public": True},
}
"""A user-shaped value that mimics the store's own encoding, to catch naive readers."""
ODD_BODY = '"at":{"_type_":"datetime_iso","_data_":"1999-01-01T00:00:00+00:00"},"public":true'


def apply_ops(
    h: History, ops: Iterable[Op], start: datetime = MONDAY, *, skip_follow_ups: bool = False
) -> list[tuple[datetime, str]]:
    """Apply the operations that the rules allow (others are skipped, as a real system
    would refuse them). Op times are the running sum of the minutes, whatever is skipped.
    With ``skip_follow_ups`` a follow-up that would be created is left out (and operations
    on it are skipped), everything else being the same. Returns (time, what) applied."""
    from services.ticket_service.domain.errors import DomainError

    now = start
    numbers: list[int | None] = []
    applied: list[tuple[datetime, str]] = []
    for op, pick, minutes in ops:
        now += timedelta(minutes=minutes)
        if not numbers:
            op = "create"
        number = numbers[pick % len(numbers)] if numbers else None
        creates = op in ("create", "create_odd")
        if not creates and number is None:
            continue  # a follow-up left out
        assert number is not None or creates
        try:
            if op == "create":
                numbers.append(h.create(now, priority=PRIORITIES[pick % 4]))
            elif op == "reply":
                h.reply(number, now)  # type: ignore[arg-type]
            elif op == "note":
                h.reply(number, now, public=False)  # type: ignore[arg-type]
            elif op == "requester_reply":
                h.app.add_comment(
                    number,  # type: ignore[arg-type]
                    h.ctx(REQUESTER, now),
                    body=ODD_BODY,
                    public=True,
                    channel="email",
                )
            elif op in ("open", "pending", "on_hold", "solved"):
                h.status(number, op, now)  # type: ignore[arg-type]
            elif op == "close_integration":
                h.close_by_integration(number, now)  # type: ignore[arg-type]
            elif op == "auto_close":
                due = h.app.get_ticket(number).auto_close_due_at  # type: ignore[arg-type]
                if due is None or due > now:
                    continue
                h.auto_close(number, now)  # type: ignore[arg-type]
            elif op == "follow_up":
                if skip_follow_ups:
                    if h.app.get_ticket(number).is_closed:  # type: ignore[arg-type]
                        numbers.append(None)
                    continue
                numbers.append(h.follow_up(number, now))  # type: ignore[arg-type]
            elif op == "priority":
                h.priority(number, PRIORITIES[pick % 4], now, actor=INTEGRATION)  # type: ignore[arg-type]
            elif op == "create_odd":
                numbers.append(
                    h.create(
                        now,
                        priority=PRIORITIES[pick % 4],
                        custom_fields=ODD_FIELDS,
                        description=ODD_BODY + now.isoformat(),
                    )
                )
            elif op == "odd_attachment":
                h.app.add_comment(
                    number,  # type: ignore[arg-type]
                    h.ctx(AGENT, now),
                    body="See attached.",
                    public=pick % 2 == 0,
                    channel="agent",
                    attachments=[dict(ODD_FIELDS, name="odd.txt")],
                )
            elif op == "odd_fields":
                h.app.update_ticket(
                    number,  # type: ignore[arg-type]
                    {"custom_fields": ODD_FIELDS},
                    h.ctx(INTEGRATION, now),
                )
        except DomainError:
            continue
        applied.append((now, op))
    return applied
