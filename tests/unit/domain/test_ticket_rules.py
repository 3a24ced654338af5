"""The lifecycle rules of design §2 and §3, on the aggregate alone."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.common import INTEGRATION_EDITABLE_FIELDS
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
AGENT = {"role": "agent", "email": "agent@example.com"}
ADMIN = {"role": "admin", "email": "admin@example.com"}
INTEGRATION = {"role": "integration", "sub": "crm"}
REQUESTER = {"role": "requester", "email": "req@example.com"}


def new_ticket(status: str = "new", **fields: object) -> Ticket:
    return Ticket.open(
        number=7,
        fields={
            "subject": "Printer on fire",
            "description": "It burns",
            "requester": "req@example.com",
            "cc": ["cc@example.com"],
            "assignee": "agent@example.com",
            "division": "it",
            "priority": "high",
            "form": "hardware",
            "status": status,
            **fields,
        },
        channel="agent",
        actor=AGENT,
        at=T0,
        auto_close_after=WEEK,
    )


def solve(ticket: Ticket, at: datetime = T0) -> None:
    ticket.update({"status": "solved"}, actor=AGENT, at=at, auto_close_after=WEEK)


def closed_ticket() -> Ticket:
    ticket = new_ticket()
    solve(ticket)
    ticket.auto_close(solve_id=1, at=T0 + WEEK)
    return ticket


@pytest.mark.parametrize("status", ["new", "open", "pending", "on_hold", "solved"])
def test_created_in_any_active_status(status: str) -> None:
    assert new_ticket(status).status == status


def test_never_created_closed() -> None:
    with pytest.raises(errors.InvalidRequest):
        new_ticket("closed")


def test_created_solved_counts_as_a_solve_with_a_due_time() -> None:
    ticket = new_ticket("solved")
    assert (ticket.solve_id, ticket.auto_close_due_at) == (1, T0 + WEEK)


def test_nothing_moves_back_to_new() -> None:
    ticket = new_ticket("open")
    with pytest.raises(errors.InvalidTransition):
        ticket.update({"status": "new"}, actor=AGENT, at=T0, auto_close_after=WEEK)


@pytest.mark.parametrize("actor", [AGENT, ADMIN, REQUESTER])
def test_people_never_close(actor: dict) -> None:
    ticket = new_ticket("solved")
    with pytest.raises(errors.NotPermitted):
        ticket.update({"status": "closed"}, actor=actor, at=T0, auto_close_after=WEEK)


def test_integration_closes_any_active_ticket() -> None:
    ticket = new_ticket("pending")
    ticket.update({"status": "closed"}, actor=INTEGRATION, at=T0, auto_close_after=WEEK)
    assert (ticket.status, ticket.closed_by) == ("closed", "integration")


def test_auto_close_needs_the_standing_solve_and_its_due_time() -> None:
    ticket = new_ticket()
    solve(ticket)
    with pytest.raises(errors.StaleClose):
        ticket.auto_close(solve_id=1, at=T0 + WEEK - timedelta(seconds=1))
    ticket.update({"status": "open"}, actor=AGENT, at=T0 + timedelta(days=1), auto_close_after=WEEK)
    solve(ticket, T0 + timedelta(days=2))
    with pytest.raises(errors.StaleClose):
        ticket.auto_close(solve_id=1, at=T0 + WEEK)
    with pytest.raises(errors.StaleClose):
        ticket.auto_close(solve_id=2, at=T0 + WEEK)
    ticket.auto_close(solve_id=2, at=T0 + timedelta(days=9))
    assert (ticket.status, ticket.closed_by) == ("closed", "automation")


def test_closed_is_terminal() -> None:
    ticket = closed_ticket()
    for status in ["open", "pending", "solved", "new"]:
        with pytest.raises(errors.TicketClosed):
            ticket.update({"status": status}, actor=INTEGRATION, at=T0, auto_close_after=WEEK)
    for actor in (AGENT, INTEGRATION, REQUESTER):
        with pytest.raises(errors.TicketClosed) as refused:
            ticket.add_comment(
                body="hello?",
                public=True,
                actor=actor,
                channel="agent",
                at=T0,
                auto_close_after=WEEK,
            )
        assert "follow-up" in (refused.value.hint or "")


def test_internal_users_cannot_edit_a_closed_ticket() -> None:
    ticket = closed_ticket()
    with pytest.raises(errors.TicketClosed):
        ticket.update({"priority": "low"}, actor=ADMIN, at=T0, auto_close_after=WEEK)


def test_integration_edits_only_the_editable_fields_of_a_closed_ticket() -> None:
    ticket = closed_ticket()
    changes = {
        "assignee": "bob@example.com",
        "priority": "low",
        "division": "ops",
        "form": "f2",
        "tags": ["x"],
        "custom_fields": {"k": 1},
    }
    assert set(changes) == INTEGRATION_EDITABLE_FIELDS
    ticket.update(changes, actor=INTEGRATION, at=T0, auto_close_after=WEEK)
    assert ticket.priority == "low" and ticket.status == "closed"
    for locked in ({"requester": "x@example.com"}, {"subject": "new"}, {"cc": []}):
        with pytest.raises(errors.TicketClosed):
            ticket.update(locked, actor=INTEGRATION, at=T0, auto_close_after=WEEK)


@pytest.mark.parametrize(
    ("status", "after"),
    [("pending", "open"), ("solved", "open"), ("on_hold", "on_hold"), ("open", "open")],
)
def test_requester_reply_reopens_pending_and_solved(status: str, after: str) -> None:
    ticket = new_ticket(status)
    ticket.add_comment(
        body="any news?",
        public=False,
        actor=REQUESTER,
        channel="email",
        at=T0,
        auto_close_after=WEEK,
    )
    assert ticket.status == after
    assert ticket.comments[-1]["public"] is True


def test_agent_reply_does_not_reopen() -> None:
    ticket = new_ticket("solved")
    ticket.add_comment(
        body="fyi", public=True, actor=AGENT, channel="agent", at=T0, auto_close_after=WEEK
    )
    assert ticket.status == "solved"


def test_follow_up_only_from_a_closed_ticket() -> None:
    with pytest.raises(errors.NotClosed):
        Ticket.follow_up(
            new_ticket("solved"),
            number=8,
            body="b",
            channel="agent",
            actor=AGENT,
            at=T0,
            auto_close_after=WEEK,
        )


def test_follow_up_copies_fields_and_references_the_original() -> None:
    source = closed_ticket()
    source.collect_events()
    version = source.version
    follow_up = Ticket.follow_up(
        source,
        number=8,
        body="It is burning again",
        channel="email",
        actor=REQUESTER,
        at=T0 + timedelta(days=10),
        auto_close_after=WEEK,
    )
    for name in ("form", "requester", "cc", "assignee", "division", "priority"):
        assert getattr(follow_up, name) == getattr(source, name)
    assert follow_up.subject == "Follow-up to #7: Printer on fire"
    assert follow_up.description.startswith("Follow-up to #7")
    assert follow_up.description.endswith("It is burning again")
    assert follow_up.follow_up_of == {"number": 7, "id": str(source.id)}
    assert follow_up.status == "new"
    assert source.collect_events() == [] and source.version == version


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(errors.InvalidRequest):
        new_ticket().update({"id": "x"}, actor=AGENT, at=T0, auto_close_after=WEEK)


def test_no_op_changes_record_nothing() -> None:
    ticket = new_ticket("open")
    ticket.collect_events()
    ticket.update({"status": "open", "priority": "high"}, actor=AGENT, at=T0, auto_close_after=WEEK)
    assert ticket.collect_events() == []
