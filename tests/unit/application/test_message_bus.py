"""The message bus (``application/messagebus.py``): one handler per contract command, one
follow-up per source key whichever command asks, and a batch runner whose outcomes are the
ones each command would have had alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

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
    (``FollowUpRequested``), all for one Message-ID: one follow-up, under one receipt."""
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
    assert app.receipt(f"command:{raced.command_id}") is None  # one receipt per effect
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
