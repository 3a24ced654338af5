"""The message bus (``application/messagebus.py``): one handler per contract command, one
follow-up per source key whichever command asks, and a batch runner whose outcomes are the
ones each command would have had alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import OperationalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import commands as cmd
from contracts.common import Actor, Role
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.handlers import HANDLERS, follow_up_key
from services.ticket_service.application.messagebus import (
    Outcome,
    Submission,
    handle_command,
    handle_commands,
)
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket

INTEGRATION = Actor(role=Role.INTEGRATION, sub="crm")
REQUESTER = "ann@example.com"
MAILER = Actor(role=Role.REQUESTER, email=REQUESTER)


def head(actor: Actor = INTEGRATION, number: int | None = None) -> dict[str, Any]:
    return {
        "command_id": uuid4(),
        "issued_at": datetime.now(UTC),
        "actor": actor,
        "ticket_number": number,
    }


def create(subject: str = "Printer on fire") -> cmd.CreateTicket:
    return cmd.CreateTicket(**head(), data={"subject": subject, "requester": REQUESTER})


def update(number: int, **changes: Any) -> cmd.UpdateTicket:
    return cmd.UpdateTicket(**head(number=number), data={"changes": changes})


def comment(number: int, body: str = "Any news?") -> cmd.AddComment:
    return cmd.AddComment(**head(number=number), data={"body": body})


def closed_ticket(app: TicketApplication) -> int:
    number = handle_command(app, create()).ticket_number
    assert number is not None
    assert handle_command(app, update(number, status="solved")).ok
    assert handle_command(
        app, cmd.CloseTicket(**head(number=number), data={"closed_by": "integration"})
    ).ok
    return number


def test_every_contract_command_has_one_handler() -> None:
    assert set(HANDLERS) == set(cmd.COMMAND_TYPES)


def test_a_mail_makes_one_follow_up_whichever_command_carries_it() -> None:
    """A reply that met a close (``AddComment`` with ``follow_up_if_closed``), the follow-up
    email ingest sends for a closed ticket (``CreateFollowUp``), and the earlier wire form
    (``FollowUpRequested``), all for one Message-ID: one follow-up, one receipt for it."""
    app = TicketApplication()
    source = closed_ticket(app)
    message_id = "<reply-1@mail.example.com>"
    raced = cmd.AddComment(
        **head(MAILER, source),
        data={
            "body": "Still broken",
            "channel": "email",
            "follow_up_if_closed": True,
            "source_key": message_id,
        },
    )
    direct = cmd.CreateFollowUp(
        **head(MAILER, source),
        data={"body": "Still broken", "channel": "email", "source_key": message_id},
    )
    legacy = cmd.FollowUpRequested(
        **head(MAILER, source),
        data={"body": "Still broken", "message_id": message_id, "sender": REQUESTER},
    )
    first, second, third = (handle_command(app, c) for c in (raced, direct, legacy))
    assert first.ok and not first.duplicate and first.ticket_number == source + 1
    for again in (second, third):
        assert again.ok and again.duplicate and again.ticket_number == first.ticket_number
    receipt = app.receipt(follow_up_key(source, message_id))
    assert receipt is not None and receipt.ticket_number == first.ticket_number
    # the follow-up is recorded once, under its source key; each topic command also has
    # its command id recorded (the first one's, in the same transaction): the others
    # found the follow-up's receipt and stored nothing
    assert app.receipt(f"command:{raced.command_id}") is not None
    assert app.receipt(f"command:{direct.command_id}") is None
    follow_up = app.get_ticket(source + 1)
    assert follow_up.follow_up_of == {"number": source, "id": str(app.get_ticket(source).id)}
    assert follow_up.requester == REQUESTER
    assert app.get_ticket(source).version == 3  # created, solved, closed: untouched since
    assert not _exists(app, source + 2)


def test_the_deprecated_follow_up_command_acts_as_the_mails_sender() -> None:
    app = TicketApplication()
    source = closed_ticket(app)
    legacy = cmd.FollowUpRequested(
        **head(INTEGRATION, source),
        data={"body": "Again", "message_id": "<m@x>", "sender": "cc@example.com"},
    )
    outcome = handle_command(app, legacy)
    assert outcome.ok
    assert outcome.ticket_number is not None
    opened = next(iter(app.ticket_events(outcome.ticket_number)))
    assert opened.actor == {"role": "requester", "email": "cc@example.com"}


COMMANDS = st.lists(
    st.one_of(
        st.just(("create",)),
        st.tuples(
            st.just("update"),
            st.integers(1, 6),
            st.sampled_from(["open", "pending", "solved", "closed"]),
        ),
        st.tuples(st.just("comment"), st.integers(1, 6)),
        st.tuples(st.just("follow_up"), st.integers(1, 6)),
        st.tuples(st.just("replay"), st.integers(0, 30)),
    ),
    max_size=30,
)


def build(spec: list[tuple[Any, ...]]) -> list[cmd.CommandEnvelope]:
    """The commands of ``spec``; a ``replay`` repeats an earlier command (same id)."""
    built: list[cmd.CommandEnvelope] = []
    for step in spec:
        match step:
            case ("create",):
                built.append(create())
            case ("update", number, status):
                built.append(update(number, status=status))
            case ("comment", number):
                built.append(comment(number))
            case ("follow_up", number):
                built.append(cmd.CreateFollowUp(**head(number=number), data={"body": "again"}))
            case ("replay", index) if built:
                built.append(built[index % len(built)])
    return built


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=COMMANDS)
def test_a_batch_has_the_outcomes_of_its_commands_one_at_a_time(
    spec: list[tuple[Any, ...]],
) -> None:
    """Same commands, once as one batch and once one by one on a fresh store: the same
    outcome for each command and the same tickets at the end."""
    commands = build(spec)
    batched, alone = TicketApplication(), TicketApplication()
    together = handle_commands(batched, commands)
    one_by_one = [handle_command(alone, c) for c in commands]
    assert [_summary(o) for o in together] == [_summary(o) for o in one_by_one]
    numbers = {o.ticket_number for o in one_by_one if o.ok and o.ticket_number}
    for number in numbers:
        assert _state(batched, number) == _state(alone, number)


def test_a_request_refused_in_a_batch_stores_nothing() -> None:
    """An API request's refusal is its caller's answer: no receipt, no event."""
    app = TicketApplication()
    number = closed_ticket(app)
    ctx_command = comment(number)
    ctx = RequestContext(actor=INTEGRATION)
    [refused, made] = app.bus.handle_batch(
        [Submission(ctx_command, ctx), Submission(create("second"), ctx)]
    )
    assert refused.error is not None and refused.error.code == "ticket_closed"
    assert made.ok and made.ticket_number == number + 1
    assert app.receipt(f"command:{ctx_command.command_id}") is None
    assert app.get_ticket(number).version == 3


def _summary(outcome: Outcome) -> tuple[Any, ...]:
    return (
        outcome.ok,
        outcome.duplicate,
        outcome.ticket_number,
        outcome.error.code if outcome.error else None,
        outcome.failure is not None,
    )


def _state(app: TicketApplication, number: int) -> tuple[Any, ...]:
    ticket: Ticket = app.get_ticket(number)
    return (ticket.version, ticket.status, len(ticket.comments), ticket.follow_up_of)


def _exists(app: TicketApplication, number: int) -> bool:
    try:
        app.get_ticket(number)
    except errors.TicketNotFound:
        return False
    return True


def test_a_command_id_has_one_effect_even_when_its_ticket_closed_in_between() -> None:
    """A mail first applied as a comment (or refused), delivered again after its ticket
    closed, is a replay: no follow-up (its command id is recorded, whatever it did)."""
    app = TicketApplication()
    number = handle_command(app, create()).ticket_number
    assert number is not None
    mail_id = uuid4()
    reply = cmd.AddComment(
        command_id=mail_id,
        issued_at=datetime.now(UTC),
        actor=MAILER,
        ticket_number=number,
        data={"body": "Hi", "channel": "email", "follow_up_if_closed": True, "source_key": "<a@x>"},
    )
    assert handle_command(app, reply).ok
    refused = cmd.CreateFollowUp(**head(number=number), data={"body": "too early"})
    assert handle_command(app, refused).error is not None  # not closed yet
    assert handle_command(app, update(number, status="solved")).ok
    assert handle_command(
        app, cmd.CloseTicket(**head(number=number), data={"closed_by": "integration"})
    ).ok
    again = handle_command(app, reply)
    assert again.duplicate and again.ticket_number == number
    as_follow_up = cmd.CreateFollowUp(
        command_id=mail_id,
        issued_at=datetime.now(UTC),
        actor=MAILER,
        ticket_number=number,
        data={"body": "Hi", "channel": "email", "source_key": "<a@x>"},
    )
    assert handle_command(app, as_follow_up).duplicate
    late = handle_command(app, refused)
    assert late.duplicate and not late.ok  # still the refusal it was
    assert not _exists(app, number + 1)


def test_an_idempotency_key_outranks_a_source_key() -> None:
    app = TicketApplication()
    number = closed_ticket(app)
    ctx = RequestContext(actor=INTEGRATION)
    first = app.create_follow_up(
        number,
        ctx,
        body="x",
        channel="agent",
        source_key="sk",
        idempotency_key="K",
        fingerprint="f1",
    )
    with pytest.raises(errors.IdempotencyKeyReused):
        app.create_follow_up(
            number,
            ctx,
            body="y",
            channel="agent",
            source_key="sk",
            idempotency_key="K",
            fingerprint="f2",
        )
    again = app.create_follow_up(
        number,
        ctx,
        body="x",
        channel="agent",
        source_key="sk",
        idempotency_key="K",
        fingerprint="f1",
    )
    assert again.id == first.id and app.receipt("K") is not None


def test_a_store_outage_in_a_group_spares_what_was_stored_before_it() -> None:
    """Concurrent requests handed over together: those stored before the outage keep their
    outcome; only the others fail with it (the intake, which rewinds, gets it raised)."""
    app = TicketApplication()
    number = closed_ticket(app) + 1
    assert handle_command(app, create()).ticket_number == number
    ctx = RequestContext(actor=INTEGRATION)
    saves = 0
    save = app.save

    def failing_second_save(*aggregates: Any, **kwargs: Any) -> Any:
        nonlocal saves
        saves += 1
        if saves == 2:
            raise OperationalError("connection lost")
        return save(*aggregates, **kwargs)

    app.save = failing_second_save  # type: ignore[method-assign]
    made, high, low = app.bus.handle_batch(
        [
            Submission(create("third"), ctx),
            Submission(update(number, priority="high"), ctx),  # same ticket as the next:
            Submission(update(number, priority="low"), ctx),  # two transactions
        ],
        outage_as_outcome=True,
    )
    app.save = save  # type: ignore[method-assign]
    assert made.ok and high.ok and made.ticket_number == number + 1
    assert isinstance(low.failure, OperationalError)
    assert app.get_ticket(number).priority == "high"
    with pytest.raises(OperationalError):
        saves = 1
        app.save = failing_second_save  # type: ignore[method-assign]
        app.bus.handle_batch([Submission(update(number, priority="urgent"), ctx)])


def test_a_redelivered_batch_is_answered_from_its_receipts_in_few_transactions() -> None:
    """The closer firing again after a rebuild, or a batch redelivered after a crash: each
    command already applied is answered as a duplicate, the new one is applied, and the
    batch costs a few transactions, not a failed save per command (which had a backlog
    of hundreds of re-fired closes hold the intake for seconds per batch)."""
    app = TicketApplication()
    numbers = [handle_command(app, create(f"t{n}")).ticket_number for n in range(20)]
    closes = [cmd.CloseTicket(**head(number=n), data={"closed_by": "integration"}) for n in numbers]
    assert all(o.ok and not o.duplicate for o in handle_commands(app, closes))
    fresh = create("new")
    transactions = 0
    transaction = app.transaction

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal transactions
        transactions += 1
        return transaction(*args, **kwargs)

    app.transaction = counted  # type: ignore[method-assign]
    outcomes = handle_commands(app, [*closes, fresh])
    assert [o.duplicate for o in outcomes] == [True] * 20 + [False]
    assert all(o.ok for o in outcomes)
    assert outcomes[-1].ticket_number == 21
    assert transactions <= 3, transactions
