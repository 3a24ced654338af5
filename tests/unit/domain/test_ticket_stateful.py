"""Random command sequences against the application (in-memory store), checking the
lifecycle invariants after every step."""

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from contracts.common import INTEGRATION_EDITABLE_FIELDS, Actor, TicketFields
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket
from tests.fixtures.closing import auto_close

STATUSES = ["new", "open", "pending", "on_hold", "solved", "closed"]
ROLES = ["agent", "supervisor", "admin", "owner", "requester", "integration"]
FIELD_VALUES: dict[str, Any] = {
    "subject": st.sampled_from(["A", "B"]),
    "requester": st.sampled_from(["r1@example.com", "r2@example.com"]),
    "cc": st.lists(st.sampled_from(["c1@example.com", "c2@example.com"]), max_size=2),
    "assignee": st.sampled_from([None, "a1@example.com"]),
    "division": st.sampled_from([None, "it", "ops"]),
    "priority": st.sampled_from(["low", "normal", "high", "urgent"]),
    "form": st.sampled_from([None, "f1"]),
    "tags": st.lists(st.sampled_from(["x", "y"]), max_size=2),
    "custom_fields": st.dictionaries(st.sampled_from(["k"]), st.integers(0, 3), max_size=1),
}
AFTER = timedelta(hours=1)


def state(ticket: Ticket) -> dict[str, Any]:
    return {k: v for k, v in vars(ticket).items() if not k.startswith("_")} | {
        "version": ticket.version
    }


class TicketLifecycle(RuleBasedStateMachine):
    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.app = TicketApplication(default_auto_close_after=AFTER)
        self.now = datetime(2026, 3, 1, tzinfo=UTC)
        self.seen: dict[int, dict[str, Any]] = {}
        self.follow_ups: dict[int, tuple[int, int]] = {}

    def ctx(self, role: str) -> RequestContext:
        return RequestContext(actor=Actor(role=role, email=f"{role}@example.com"), at=self.now)

    def check(self, number: int, action: Any) -> None:
        before = self.seen.get(number)
        try:
            action()
        except errors.DomainError:
            assert state(self.app.get_ticket(number)) == before, "a refused command changed state"
            return
        after = state(self.app.get_ticket(number))
        if before is not None:
            if before["status"] == "closed":
                changed = {k for k in after if after[k] != before[k]}
                allowed = INTEGRATION_EDITABLE_FIELDS | {"version", "updated_at"}
                assert changed <= allowed, f"closed ticket changed {changed - allowed}"
            if before["status"] != "new":
                assert after["status"] != "new"
        self.seen[number] = after

    @rule(target=tickets, status=st.sampled_from(STATUSES), role=st.sampled_from(ROLES))
    def create(self, status: str, role: str) -> int:
        fields = TicketFields(subject="S", requester="r1@example.com", status=status)
        try:
            ticket = self.app.create_ticket(fields, self.ctx(role), channel="agent")
        except errors.InvalidRequest:
            assert status == "closed"
            return 0
        assert status != "closed"
        self.seen[ticket.number] = state(ticket)
        return ticket.number

    @rule(number=tickets, status=st.sampled_from(STATUSES), role=st.sampled_from(ROLES))
    def change_status(self, number: int, status: str, role: str) -> None:
        if number:
            self.check(
                number, lambda: self.app.update_ticket(number, {"status": status}, self.ctx(role))
            )

    @rule(number=tickets, data=st.data(), role=st.sampled_from(ROLES))
    def change_field(self, number: int, data: st.DataObject, role: str) -> None:
        if number:
            name = data.draw(st.sampled_from(sorted(FIELD_VALUES)))
            value = data.draw(FIELD_VALUES[name])
            self.check(
                number, lambda: self.app.update_ticket(number, {name: value}, self.ctx(role))
            )

    @rule(number=tickets, role=st.sampled_from(ROLES), public=st.booleans())
    def comment(self, number: int, role: str, public: bool) -> None:
        if number:
            self.check(
                number,
                lambda: self.app.add_comment(
                    number, self.ctx(role), body="hi", public=public, channel="agent"
                ),
            )

    @rule(minutes=st.integers(1, 90))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(number=tickets, solve_offset=st.integers(-1, 0))
    def automation_closes(self, number: int, solve_offset: int) -> None:
        if number:
            ticket = self.app.get_ticket(number)
            solve_id = ticket.solve_id + solve_offset
            self.check(
                number,
                lambda: auto_close(self.app, ticket.id, solve_id, self.ctx("automation")),
            )

    @rule(target=tickets, number=tickets, role=st.sampled_from(ROLES))
    def follow_up(self, number: int, role: str) -> int:
        if not number:
            return 0
        source = self.app.get_ticket(number)
        try:
            follow_up = self.app.create_follow_up(
                number, self.ctx(role), body="more", channel="agent"
            )
        except errors.NotClosed:
            assert source.status != "closed"
            return 0
        assert source.status == "closed"
        assert self.app.get_ticket(number).version == source.version, "source got an event"
        self.follow_ups[follow_up.number] = (number, source.version)
        self.seen[follow_up.number] = state(follow_up)
        return follow_up.number

    @invariant()
    def follow_up_sources_are_untouched_closed_tickets(self) -> None:
        for number, (source, version) in self.follow_ups.items():
            original = self.app.get_ticket(source)
            assert original.status == "closed"
            assert self.app.get_ticket(number).follow_up_of["number"] == source
            later = [e for e in self.app.events.get(original.id) if e.originator_version > version]
            assert all(type(e).__name__ == "Updated" for e in later), "only integration edits"

    @invariant()
    def replay_rebuilds_identical_tickets(self) -> None:
        for number, seen in self.seen.items():
            aggregate: Any = None
            for event in self.app.events.get(self.app.get_ticket(number).id):
                aggregate = event.mutate(aggregate)
            assert aggregate is not None
            assert state(aggregate) == seen


TicketLifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestTicketLifecycle = TicketLifecycle.TestCase
