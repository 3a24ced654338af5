"""Which ticket events schedule, move or cancel a timer, and what a due timer becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from contracts import CloseTicket, CommandAdapter
from services.closer_worker.domain.closing import (
    close_command,
    close_command_id,
    lateness_seconds,
)
from services.closer_worker.domain.timers import (
    Cancel,
    PendingTimers,
    Schedule,
    Timer,
    change_for,
)
from tests.unit.closer.envelopes import T0, closed, commented, created, solved, status

DUE = T0 + timedelta(days=7)


def test_solve_schedules_a_timer_for_the_due_time_in_the_event() -> None:
    tid = uuid4()
    change = change_for(solved(tid, 3, 2, DUE))
    assert change == Schedule(Timer(tid, 2, DUE, 3))


def test_created_solved_and_follow_up_created_solved_schedule() -> None:
    tid = uuid4()
    assert change_for(created(tid, solved_due=DUE)) == Schedule(Timer(tid, 1, DUE, 1))
    follow_up = created(tid, solved_due=DUE, follow_up=True)
    assert follow_up.event_type == "FollowUpCreated"
    assert change_for(follow_up) == Schedule(Timer(tid, 1, DUE, 1))


def test_created_unsolved_does_nothing() -> None:
    assert change_for(created(uuid4())) is None
    assert change_for(created(uuid4(), follow_up=True)) is None


def test_leaving_solved_and_closing_cancel() -> None:
    tid = uuid4()
    for to in ("open", "pending", "on_hold"):
        assert change_for(status(tid, 4, to)) == Cancel(tid, 4)
    assert change_for(closed(tid, 5)) == Cancel(tid, 5)
    assert change_for(closed(tid, 5, by="integration", solve_id=None)) == Cancel(tid, 5)


def test_other_events_do_nothing() -> None:
    assert change_for(commented(uuid4(), 2)) is None


def test_due_time_is_kept_in_utc() -> None:
    tid = uuid4()
    local = DUE.astimezone(timezone(timedelta(hours=5)))
    change = change_for(solved(tid, 2, 1, local))
    assert isinstance(change, Schedule)
    assert change.timer.due_at == DUE
    assert change.timer.due_at.tzinfo == UTC


def test_fold_keeps_only_the_last_solve_of_solved_tickets() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    history = [
        solved(a, 2, 1, DUE),
        status(a, 3, "open"),
        solved(a, 4, 2, DUE + timedelta(days=1)),  # solved again: a new period
        solved(b, 2, 1, DUE),
        closed(b, 3),
        created(c, solved_due=DUE),
        commented(c, 2),
    ]
    pending = PendingTimers()
    for event in history:
        if (change := change_for(event)) is not None:
            pending.apply(change)
    assert sorted(pending.timers(), key=lambda t: str(t.ticket_id)) == sorted(
        [Timer(a, 2, DUE + timedelta(days=1), 4), Timer(c, 1, DUE, 1)],
        key=lambda t: str(t.ticket_id),
    )


def test_fold_ignores_an_older_event_delivered_again() -> None:
    a = uuid4()
    pending = PendingTimers()
    pending.apply(Schedule(Timer(a, 2, DUE, 4)))
    pending.apply(Schedule(Timer(a, 1, T0, 2)))  # old solve replayed
    pending.apply(Cancel(a, 3))  # old reopen replayed
    assert pending.timers() == [Timer(a, 2, DUE, 4)]


def test_close_command_names_its_solve_and_is_deterministic() -> None:
    tid = uuid4()
    timer = Timer(tid, 3, DUE, 9)
    first = close_command(timer, DUE)
    again = close_command(timer, DUE + timedelta(minutes=1))
    assert first.command_id == again.command_id == close_command_id(tid, 3)
    assert close_command_id(tid, 4) != first.command_id
    assert first.ticket_id == tid
    assert first.actor.role == "automation"
    assert first.data.closed_by == "automation"
    assert first.data.solve_id == 3
    # what goes on the wire is a valid contract command, equal to the one built validated
    validated = CommandAdapter.validate_json(first.model_dump_json())
    assert validated == first
    assert validated.model_dump(mode="json") == first.model_dump(mode="json")
    assert CloseTicket.model_validate(first.model_dump()) == first


def test_lateness_is_due_to_publish_and_never_negative() -> None:
    timer = Timer(uuid4(), 1, DUE, 2)
    assert lateness_seconds(timer, DUE + timedelta(seconds=1.5)) == 1.5
    assert lateness_seconds(timer, DUE - timedelta(seconds=1)) == 0.0
    assert datetime.fromtimestamp(timer.due_ts, UTC) == DUE
