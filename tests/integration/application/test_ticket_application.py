"""The application service against real stores (SQLite file, PostgreSQL server)."""

import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from uuid import uuid4

import pytest

from contracts import EventAdapter
from contracts import commands as cmd
from contracts.common import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import handle_command, handle_commands
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.application.unit_of_work import UnitOfWork
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain import errors

AGENT = RequestContext(actor=Actor(role="agent", email="agent@example.com"))
INTEGRATION = RequestContext(actor=Actor(role="integration", sub="crm"))


def fields(subject: str = "Broken VPN", **extra: object) -> TicketFields:
    return TicketFields(subject=subject, requester="req@example.com", **extra)  # type: ignore[arg-type]


def closed(app: TicketApplication) -> int:
    number = app.create_ticket(fields(), AGENT, channel="agent").number
    app.update_ticket(number, {"status": "closed"}, INTEGRATION)
    return number


def test_state_survives_a_restart(store_settings: Settings) -> None:
    app = build_application(store_settings)
    ticket = app.create_ticket(fields(cc=["cc@example.com"]), AGENT, channel="agent")
    app.add_comment(ticket.number, AGENT, body="Looking", public=True, channel="agent")
    app.update_ticket(ticket.number, {"status": "solved", "priority": "high"}, AGENT)
    app.close()

    again = build_application(store_settings)
    reloaded = again.get_ticket(ticket.number)
    assert (reloaded.status, reloaded.priority, reloaded.cc) == (
        "solved",
        "high",
        ["cc@example.com"],
    )
    assert reloaded.solve_id == 1
    assert reloaded.auto_close_due_at == reloaded.solved_at + timedelta(hours=1)
    assert len(reloaded.comments) == 1
    assert again.create_ticket(fields(), AGENT, channel="agent").number == ticket.number + 1


def test_idempotency_key_creates_once(store_settings: Settings) -> None:
    app = build_application(store_settings)
    first = app.create_ticket(fields(), AGENT, channel="agent", idempotency_key="k-1")
    second = app.create_ticket(fields("other"), AGENT, channel="agent", idempotency_key="k-1")
    assert second.id == first.id and second.subject == "Broken VPN"
    assert app.create_ticket(fields(), AGENT, channel="agent").number == first.number + 1


def test_follow_up_from_the_same_source_key_is_created_once(store_settings: Settings) -> None:
    app = build_application(store_settings)
    source = closed(app)
    version = app.get_ticket(source).version
    one = app.create_follow_up(source, AGENT, body="again", channel="email", source_key="<m@x>")
    two = app.create_follow_up(source, AGENT, body="again", channel="email", source_key="<m@x>")
    assert one.id == two.id
    assert one.follow_up_of == {"number": source, "id": str(app.get_ticket(source).id)}
    assert app.get_ticket(source).version == version


def test_follow_up_refused_unless_closed(store_settings: Settings) -> None:
    app = build_application(store_settings)
    number = app.create_ticket(fields(status="solved"), AGENT, channel="agent").number
    with pytest.raises(errors.NotClosed):
        app.create_follow_up(number, AGENT, body="x", channel="agent")


def test_concurrent_updates_one_wins_the_other_conflicts(store_settings: Settings) -> None:
    """Two writers (two application instances, as two processes) load the same version."""
    first, second = build_application(store_settings), build_application(store_settings)
    number = first.create_ticket(fields(), AGENT, channel="agent").number

    def slow_update(uow: UnitOfWork) -> None:
        ticket = uow.ticket(number=number)
        second.update_ticket(number, {"priority": "urgent"}, AGENT)  # lands in between
        ticket.update(
            {"assignee": "bob@example.com"},
            actor=AGENT.actor_dict,
            at=utcnow(),
            auto_close_after=timedelta(hours=1),
        )
        uow.stage(ticket)

    with pytest.raises(errors.ConcurrencyConflict):
        first.transaction([slow_update])
    winner = first.get_ticket(number)
    assert (winner.priority, winner.assignee, winner.version) == ("urgent", None, 2)
    first.update_ticket(number, {"assignee": "bob@example.com"}, AGENT)  # retry succeeds
    assert first.get_ticket(number).assignee == "bob@example.com"


def test_stale_if_match_is_a_conflict(store_settings: Settings) -> None:
    app = build_application(store_settings)
    number = app.create_ticket(fields(), AGENT, channel="agent").number
    app.update_ticket(number, {"priority": "low"}, AGENT, expected_version=1)
    with pytest.raises(errors.ConcurrencyConflict):
        app.update_ticket(number, {"priority": "high"}, AGENT, expected_version=1)


def test_ticket_numbers_unique_across_writers(store_settings: Settings) -> None:
    first, second = build_application(store_settings), build_application(store_settings)
    numbers = []
    for i in range(10):
        writer = first if i % 3 else second
        numbers.append(writer.create_ticket(fields(), AGENT, channel="agent").number)
    assert numbers == sorted(numbers) and len(set(numbers)) == 10
    assert numbers == list(range(1, 11))


def test_ticket_numbers_unique_across_processes(store_settings: Settings) -> None:
    script = textwrap.dedent(
        f"""
        from services.settings import Settings
        from services.ticket_service.bootstrap import build_application
        from services.ticket_service.application.context import RequestContext
        from contracts import Actor, TicketFields
        app = build_application(Settings.model_validate_json({store_settings.model_dump_json()!r}))
        ctx = RequestContext(actor=Actor(role="agent"))
        seen = []
        for _ in range(25):
            t = app.create_ticket(TicketFields(subject="p", requester="r@example.com"), ctx,
                                  channel="agent")
            seen.append(t.number)
        assert seen == sorted(seen), seen
        print(",".join(map(str, seen)))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    numbers = [int(n) for out in outputs for n in out.strip().split(",")]
    assert sorted(numbers) == list(range(1, 51))


def test_commands_batch_dedupe_and_rejections(store_settings: Settings) -> None:
    app = build_application(store_settings)
    source = closed(app)
    integration = Actor(role="integration", sub="crm")
    create = cmd.CreateTicket(
        command_id=uuid4(),
        issued_at=utcnow(),
        actor=integration,
        data={"subject": "From CRM", "requester": "r@example.com"},
    )
    comment_on_closed = cmd.AddComment(
        command_id=uuid4(),
        issued_at=utcnow(),
        actor=integration,
        ticket_number=source,
        data={"body": "ping"},
    )
    follow_up = cmd.CreateFollowUp(
        command_id=uuid4(),
        issued_at=utcnow(),
        actor=integration,
        ticket_number=source,
        data={"body": "more"},
    )
    outcomes = handle_commands(app, [create, comment_on_closed, follow_up, create])
    assert [o.ok for o in outcomes] == [True, False, True, True]
    assert outcomes[1].error is not None and outcomes[1].error.code == "ticket_closed"
    assert outcomes[3].duplicate
    again = handle_commands(app, [create, follow_up, comment_on_closed])
    assert [o.duplicate for o in again] == [True, True, True]
    assert [o.ok for o in again] == [True, True, False]
    assert handle_command(app, create).ticket_number == outcomes[0].ticket_number

    envelopes = [
        e
        for n in app.notification_log.select(1, 1000)
        if (e := to_envelope(app.mapper.to_domain_event(n))) is not None
    ]
    rejected = [e for e in envelopes if e.event_type == "CommandRejected"]
    assert len(rejected) == 1 and rejected[0].ticket_number == source
    assert rejected[0].data.command_id == comment_on_closed.command_id  # type: ignore[attr-defined]
    created = [e for e in envelopes if e.event_type in ("TicketCreated", "FollowUpCreated")]
    assert len(created) == 3  # the closed source, the CRM ticket, one follow-up


def test_every_stored_event_maps_to_a_valid_envelope(store_settings: Settings) -> None:
    app = build_application(store_settings)
    number = app.create_ticket(fields(status="pending"), AGENT, channel="agent").number
    requester = RequestContext(actor=Actor(role="requester", email="req@example.com"))
    app.add_comment(number, requester, body="?", public=True, channel="help_center")
    app.update_ticket(number, {"status": "solved", "tags": ["vpn"]}, AGENT)
    app.update_ticket(number, {"status": "closed"}, INTEGRATION)
    app.create_follow_up(number, AGENT, body="again", channel="agent")
    admin = RequestContext(actor=Actor(role="admin", email="admin@example.com"))
    app.change_auto_close_policy(3, admin)
    types = []
    for notification in app.notification_log.select(1, 1000):
        envelope = to_envelope(app.mapper.to_domain_event(notification))
        if envelope is None:
            continue
        assert EventAdapter.validate_json(envelope.model_dump_json()) == envelope
        types.append(envelope.event_type)
    assert types == [
        "TicketCreated",
        "CommentAdded",
        "StatusChanged",
        "TicketUpdated",
        "StatusChanged",
        "TicketClosed",
        "FollowUpCreated",
        "AutoClosePolicyChanged",
    ]
    assert app.auto_close_after() == timedelta(days=3)


def test_a_refused_follow_up_in_a_batch_takes_no_ticket_number(store_settings: Settings) -> None:
    """It once took the next number: the batch's next ticket skipped one, and numbers
    (looked up by bisection, as contiguous) got a gap."""
    app = build_application(store_settings)
    integration = Actor(role="integration", sub="crm")

    def create(subject: str) -> cmd.CreateTicket:
        return cmd.CreateTicket(
            command_id=uuid4(),
            issued_at=utcnow(),
            actor=integration,
            data={"subject": subject, "requester": "req@example.com"},  # type: ignore[arg-type]
        )

    follow_up = cmd.CreateFollowUp(
        command_id=uuid4(), issued_at=utcnow(), actor=integration, ticket_number=1, data={}
    )  # type: ignore[arg-type]
    outcomes = handle_commands(app, [create("one"), follow_up, create("two")])
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error is not None and outcomes[1].error.code == "not_closed"
    assert [app.get_ticket(n).subject for n in (1, 2)] == ["one", "two"]
    assert app.create_ticket(fields("three"), AGENT, channel="agent").number == 3


def test_a_writer_picks_a_free_number_at_once_after_another_writer_saved(
    store_settings: Settings,
) -> None:
    """Without the store-wide number lock each writer's cached next number went stale at
    the other's save, and every one of its transactions was run twice (the soak's intake
    stall: a backlog beside the API re-ran most of its batches)."""
    first, second = build_application(store_settings), build_application(store_settings)
    numbers = []
    for _ in range(5):
        numbers.append(first.create_ticket(fields(), AGENT, channel="agent").number)
        numbers.append(second.create_ticket(fields(), AGENT, channel="agent").number)
    outcomes = handle_commands(
        first,
        [
            cmd.CreateTicket(
                command_id=uuid4(),
                issued_at=utcnow(),
                actor=INTEGRATION.actor,
                data={"subject": f"batch {n}", "requester": "r@example.com"},
            )
            for n in range(3)
        ],
    )
    numbers += [o.ticket.number for o in outcomes if o.ticket is not None]
    assert numbers == list(range(1, 14))
    assert first.numbers_taken_by_others == second.numbers_taken_by_others == 0


def test_the_number_lock_of_a_killed_holder_is_free_at_once(store_settings: Settings) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from services.settings import Settings
        from services.ticket_service.bootstrap import build_application
        app = build_application(Settings.model_validate_json({store_settings.model_dump_json()!r}))
        assert app.number_lock is not None and app.number_lock.acquire()
        print("held", flush=True)
        time.sleep(600)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        app = build_application(store_settings)
        assert app.number_lock is not None
        holder.kill()
        holder.wait(timeout=30)
        got: list[bool] = []
        taker = threading.Thread(target=lambda: got.append(app.number_lock.acquire()))  # type: ignore[union-attr]
        taker.start()
        taker.join(timeout=60)
        assert got == [True], "the dead holder's lock was not released"
        app.number_lock.release()
        assert app.create_ticket(fields(), AGENT, channel="agent").number == 1
    finally:
        holder.kill()


def test_only_a_transaction_that_creates_a_ticket_takes_the_number_lock(
    store_settings: Settings,
) -> None:
    app = build_application(store_settings)
    assert app.number_lock is not None
    taken = 0
    acquire = app.number_lock.acquire

    def counted() -> bool:
        nonlocal taken
        taken += 1
        return acquire()

    app.number_lock.acquire = counted  # type: ignore[method-assign]
    number = app.create_ticket(fields(), AGENT, channel="agent").number
    assert taken == 1
    app.add_comment(number, AGENT, body="a comment", public=True, channel="agent")
    app.update_ticket(number, {"priority": "high"}, AGENT)
    assert taken == 1


def test_a_stuck_holder_delays_a_create_once_then_writers_go_without_the_lock(
    store_settings: Settings,
) -> None:
    """A holder alive but stuck (stopped, its machine gone silent): a writer waits for the
    lock a bounded time, saves without it (the save's conflict check still keeps numbers
    unique), and the next transactions do not wait again for a while."""
    first, stuck = build_application(store_settings), build_application(store_settings)
    assert first.number_lock is not None and stuck.number_lock is not None
    assert stuck.number_lock.acquire()
    try:
        numbers = [first.create_ticket(fields(), AGENT, channel="agent").number for _ in range(3)]
        assert numbers == [1, 2, 3]
        assert not first.number_lock.acquire()  # backing off: answered without waiting
    finally:
        stuck.number_lock.release()
