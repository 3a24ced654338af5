"""Acceptance: solve → closed by the automation after the period; reopen cancels; a second
solve gets a full new period; two workers close 1,000 tickets exactly once."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from prometheus_client import REGISTRY

from contracts import Actor, TicketFields
from contracts.commands import CreateTicket, CreateTicketData
from contracts.events import CommandRejected, StatusChanged, TicketClosed
from services.closer_worker.bootstrap import build_worker
from services.closer_worker.config import CloserConfig
from services.settings import Settings
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.messagebus import handle_commands
from tests.integration.closer.conftest import TicketStack

AGENT = RequestContext(actor=Actor(role="agent", email="agent@example.com"))
WAIT = 60.0
"""Bounds a failing wait only; a passing test returns as soon as the event is there."""


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def new_ticket(stack: TicketStack, subject: str = "Printer on fire") -> int:
    fields = TicketFields(subject=subject, requester="req@example.com", status="open")
    return stack.app.create_ticket(fields, AGENT, channel="agent").number


def set_status(stack: TicketStack, number: int, status: str) -> None:
    stack.app.update_ticket(number, {"status": status}, AGENT)


def closed_event(stack: TicketStack, ticket_id: UUID) -> TicketClosed:
    [event] = [e for e in stack.log.of(ticket_id) if isinstance(e, TicketClosed)]
    return event


async def test_solved_ticket_is_closed_by_the_automation_after_the_period(
    settings: Settings, closer_config: CloserConfig, ticket_stack: TicketStack
) -> None:
    published_before = sample("helpdesk_closer_closes_published_total")
    late_before = sample("helpdesk_closer_close_lateness_seconds_count")
    async with build_worker(settings, closer_config):
        number = new_ticket(ticket_stack)
        set_status(ticket_stack, number, "solved")
        ticket = ticket_stack.app.get_ticket(number)
        due = ticket.auto_close_due_at
        assert due is not None

        await ticket_stack.log.wait_until(
            lambda log: log.closes()[ticket.id] == 1, within=WAIT, what="TicketClosed"
        )
    closed = closed_event(ticket_stack, ticket.id)
    assert closed.data.closed_by == "automation"
    assert closed.data.solve_id == ticket.solve_id == 1
    assert closed.occurred_at >= due  # never early
    assert ticket_stack.app.get_ticket(number).status == "closed"
    # observability: the close and its lateness were counted
    assert sample("helpdesk_closer_closes_published_total") >= published_before + 1
    assert sample("helpdesk_closer_close_lateness_seconds_count") >= late_before + 1


async def test_reopened_ticket_is_not_closed_and_a_new_solve_gets_a_full_period(
    settings: Settings, closer_config: CloserConfig, ticket_stack: TicketStack
) -> None:
    app = ticket_stack.app
    async with build_worker(settings, closer_config) as worker:
        reopened, control = new_ticket(ticket_stack), new_ticket(ticket_stack, "Control")
        set_status(ticket_stack, reopened, "solved")
        set_status(ticket_stack, control, "solved")  # solved together: due together
        set_status(ticket_stack, reopened, "open")  # reopened before due
        reopened_id, control_id = app.get_ticket(reopened).id, app.get_ticket(control).id

        # The control's close proves the first due time has passed and was handled.
        await ticket_stack.log.wait_until(
            lambda log: log.closes()[control_id] == 1, within=WAIT, what="control closed"
        )
        await ticket_stack.workers.relay.wait_caught_up()
        assert app.get_ticket(reopened).status == "open"
        assert await worker.store.get(reopened_id) is None  # cancelled, not just refused

        set_status(ticket_stack, reopened, "solved")
        second_due = app.get_ticket(reopened).auto_close_due_at
        assert second_due is not None
        await ticket_stack.log.wait_until(
            lambda log: log.closes()[reopened_id] == 1, within=WAIT, what="reopened closed"
        )

    closed = closed_event(ticket_stack, reopened_id)
    solves = [
        e
        for e in ticket_stack.log.of(reopened_id)
        if isinstance(e, StatusChanged) and e.data.to_status == "solved"
    ]
    assert [s.data.solve_id for s in solves] == [1, 2]
    assert closed.data.solve_id == 2
    assert closed.occurred_at >= second_due  # one full period after the second solve
    # The first solve's timer was cancelled: no close was even attempted for it.
    rejected = [e for e in ticket_stack.log.events if isinstance(e, CommandRejected)]
    assert [e for e in rejected if e.ticket_id == reopened_id] == []


async def test_two_workers_close_a_thousand_tickets_exactly_once(
    settings: Settings, closer_config: CloserConfig, ticket_stack: TicketStack
) -> None:
    app = ticket_stack.app
    count = 1000
    commands = [
        CreateTicket(
            command_id=uuid4(),
            issued_at=utcnow(),
            actor=Actor(role="integration"),
            data=CreateTicketData(
                subject=f"Bulk {i}", requester="bulk@example.com", status="solved"
            ),
        )
        for i in range(count)
    ]
    async with (
        build_worker(settings, closer_config) as first,
        build_worker(settings, closer_config) as second,
    ):
        # one transaction: all due at once (off the loop: the consumers keep heartbeating)
        outcomes = await asyncio.to_thread(handle_commands, app, commands)
        ids = {o.ticket_id for o in outcomes}
        assert len(ids) == count and all(o.ok for o in outcomes)
        await ticket_stack.log.wait_until(
            lambda log: ids <= set(log.closes()), within=WAIT * 2, what="1,000 closes"
        )
        await ticket_stack.workers.relay.wait_caught_up()
        both = (first.firer.closes_published, second.firer.closes_published)

    closes = ticket_stack.log.closes()
    assert {tid: closes[tid] for tid in ids} == dict.fromkeys(ids, 1)
    print("closes published by each worker:", both)
    assert sum(both) >= count
    assert all(app.get_ticket_by_id(tid).status == "closed" for tid in ids)
