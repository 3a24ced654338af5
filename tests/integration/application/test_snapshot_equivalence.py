"""Snapshots change nothing: random command sequences give the same outcomes, the same
stored events and the same reloaded tickets (attribute types included) with a snapshot every
N events as without any, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from psycopg import sql

from contracts import commands as cmd
from contracts.common import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.adapters.event_store import store_env
from services.ticket_service.application import messagebus as command_handling
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import Outcome
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket
from tests.fixtures.closing import auto_close

INTERVALS = (1, 2, 7, 100)
"""Snapshot intervals compared with none (0)."""
MAX_COMMANDS = 400
TICKETS = 3
"""Commands aim at tickets 1..3 (and 4, never created), so a ticket gets 100+ events."""
REQUESTER = "req@example.com"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

AGENT = Actor(role="agent", email="agent@example.com")
INTEGRATION = Actor(role="integration", sub="crm")
AUTOMATION = Actor(role="automation", sub="closer")
ADMIN = Actor(role="admin", email="admin@example.com")
ACTORS = {"agent": AGENT, "integration": INTEGRATION, "requester": None}

# ---- the command language ------------------------------------------------------------

targets = st.integers(1, TICKETS + 1)
statuses = st.sampled_from(["new", "open", "pending", "on_hold", "solved", "closed"])
changes = st.one_of(
    statuses.map(lambda s: {"status": s}),
    st.sampled_from(["low", "normal", "high", "urgent"]).map(lambda p: {"priority": p}),
    st.lists(st.sampled_from(["vpn", "mail", "vip"]), max_size=2).map(lambda t: {"tags": t}),
    st.tuples(statuses, st.sampled_from(["low", "high"])).map(
        lambda sp: {"status": sp[0], "priority": sp[1]}
    ),
    # null where the envelopes allow it (a null priority or tag list is refused by the
    # event contracts: the null-field rule of the contracts, not snapshots)
    st.sampled_from(["assignee", "division", "form"]).map(lambda f: {f: None}),
)
roles = st.sampled_from(["agent", "integration", "requester"])
via = st.sampled_from(["app", "kafka"])

operations = st.one_of(
    st.tuples(st.just("create"), statuses.filter(lambda s: s != "closed"), via),
    st.tuples(st.just("update"), targets, changes, st.sampled_from(["agent", "integration"]), via),
    st.tuples(st.just("comment"), targets, roles, st.booleans(), via),
    st.tuples(st.just("auto_close"), targets, st.integers(0, 4), via),
    st.tuples(st.just("follow_up"), targets, via),
    st.tuples(st.just("policy"), st.integers(1, 10)),
    st.tuples(st.just("advance"), st.sampled_from([1, 60, 3 * 86400, 11 * 86400])),
)
sequences = st.integers(0, MAX_COMMANDS).flatmap(
    lambda n: st.lists(operations, min_size=n, max_size=n)
)


# ---- comparable views ----------------------------------------------------------------


def typed(value: Any) -> Any:
    """The value with the exact type of every part (so a str is never a Status)."""
    if isinstance(value, dict):
        return ("dict", {k: typed(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    return (type(value).__qualname__, value)


RANDOM_PARTS = ("_created_on", "_modified_on", "_pending_events", "timestamp")
"""Event timestamps (the store's clock); comment ids are random and compared by position."""


def state(obj: Any) -> Any:
    values = {k: v for k, v in vars(obj).items() if k not in RANDOM_PARTS}
    if "comment_id" in values:
        values["comment_id"] = "<comment>"
    if "comments" in values:
        values["comments"] = [{**c, "id": "<comment>"} for c in values["comments"]]
    return typed(values)


def ticket_view(ticket: Ticket) -> Any:
    return ("ticket", ticket.number, ticket.version, state(ticket))


def outcome_view(outcome: Outcome) -> Any:
    error = outcome.error
    return (
        "outcome",
        outcome.ok,
        outcome.ticket_id,
        outcome.ticket_number,
        outcome.duplicate,
        (error.code, error.message) if error else None,
    )


def published_identities(app: TicketApplication) -> list[tuple[Any, Any, Any]]:
    """(event_id, ticket_id, version) of every envelope the relay would publish."""
    notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
    envelopes = (to_envelope(app.mapper.to_domain_event(n)) for n in notifications)
    return [(e.event_id, e.ticket_id, e.version) for e in envelopes if e is not None]


def stored_events(app: TicketApplication) -> list[Any]:
    """Every stored event (snapshots live elsewhere), decoded, without its timestamp."""
    notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
    return [
        (n.originator_id, n.originator_version, n.topic, state(app.mapper.to_domain_event(n)))
        for n in notifications
    ]


# ---- running a sequence on one application ---------------------------------------------


@dataclass
class Clock:
    now: datetime = START
    step: int = 0

    def ctx(self, actor: Actor) -> RequestContext:
        self.step += 1
        return RequestContext(
            actor=actor, correlation_id=f"c-{self.step}", causation_id=f"s-{self.step}", at=self.now
        )


def command_id(step: int) -> uuid.UUID:
    return uuid.UUID(int=step)


def kafka(app: TicketApplication, clock: Clock, command: cmd.Command) -> Any:
    with mock.patch.object(command_handling, "utcnow", lambda: clock.now):
        (outcome,) = command_handling.handle_commands(app, [command])
    return outcome_view(outcome)


def head(clock: Clock, actor: Actor, target: int | None = None) -> dict[str, Any]:
    return {
        "command_id": command_id(clock.step),
        "issued_at": clock.now,
        "correlation_id": f"c-{clock.step}",
        "ticket_number": target,
        "actor": actor,
    }


def apply(app: TicketApplication, clock: Clock, op: tuple[Any, ...]) -> Any:
    kind = op[0]
    if kind == "advance":
        clock.now += timedelta(seconds=op[1])
        return None
    if kind == "policy":
        return state(app.change_auto_close_policy(op[1], clock.ctx(ADMIN)))
    if kind == "create":
        _, status, route = op
        ctx = clock.ctx(AGENT)
        data = {"subject": "VPN", "requester": REQUESTER, "status": status}
        if route == "kafka":
            return kafka(app, clock, cmd.CreateTicket(**head(clock, AGENT), data=data))
        fields = TicketFields.model_validate(data)
        return ticket_view(app.create_ticket(fields, ctx, channel="agent"))
    if kind == "update":
        _, target, wanted, role, route = op
        actor = ACTORS[role] or AGENT
        ctx = clock.ctx(actor)
        if route == "kafka":
            update = cmd.UpdateTicket(**head(clock, actor, target), data={"changes": wanted})
            return kafka(app, clock, update)
        return ticket_view(app.update_ticket(target, dict(wanted), ctx))
    if kind == "comment":
        _, target, role, public, route = op
        actor = ACTORS[role] or Actor(role="requester", email=REQUESTER)
        ctx = clock.ctx(actor)
        data = {"body": f"note {clock.step}", "public": public}
        if route == "kafka":
            return kafka(app, clock, cmd.AddComment(**head(clock, actor, target), data=data))
        return ticket_view(app.add_comment(target, ctx, channel="agent", **data))
    if kind == "auto_close":
        _, target, solve_id, route = op
        ctx = clock.ctx(AUTOMATION)
        if route == "kafka":
            close = cmd.CloseTicket(
                **head(clock, AUTOMATION, target),
                data={"closed_by": "automation", "solve_id": solve_id},
            )
            return kafka(app, clock, close)
        ticket = app.get_ticket(target)
        return ticket_view(auto_close(app, ticket.id, solve_id, ctx))
    if kind == "follow_up":
        _, target, route = op
        ctx = clock.ctx(AGENT)
        if route == "kafka":
            follow = cmd.CreateFollowUp(**head(clock, AGENT, target), data={"body": "again"})
            return kafka(app, clock, follow)
        return ticket_view(app.create_follow_up(target, ctx, body="again", channel="agent"))
    raise AssertionError(op)


def run(app: TicketApplication, ops: list[tuple[Any, ...]]) -> list[Any]:
    clock = Clock()
    results = []
    for op in ops:
        try:
            results.append(apply(app, clock, op))
        except errors.DomainError as error:
            results.append(("refused", type(error).__name__, error.message))
    return results


def ticket_ids(app: TicketApplication) -> list[Any]:
    """Every ticket's id, in creation order."""
    notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
    return [n.originator_id for n in notifications if n.topic.endswith(":Ticket.Created")]


def reloaded(app: TicketApplication) -> list[Any]:
    return [ticket_view(app.get_ticket_by_id(ticket_id)) for ticket_id in ticket_ids(app)]


# ---- stores ----------------------------------------------------------------------------

StoreFactory = Callable[[str], contextlib.AbstractContextManager[dict[str, str]]]


@contextlib.contextmanager
def sqlite_store(name: str) -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory() as directory:
        yield store_env(Settings(data_dir=Path(directory) / name))


def postgres_store_in(dsn: str) -> StoreFactory:
    @contextlib.contextmanager
    def store(name: str) -> Iterator[dict[str, str]]:
        schema = f"s_{name}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield {
                **store_env(Settings(database_url=dsn)),
                "POSTGRES_SCHEMA": schema,
                "POSTGRES_POOL_SIZE": "2",
            }
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    return store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> StoreFactory:
    if request.param == "sqlite":
        return sqlite_store
    return postgres_store_in(request.getfixturevalue("postgres_database"))


@hypothesis_settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking 400 commands takes minutes
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(ops=sequences)
def test_snapshots_change_no_outcome_and_no_stored_event(
    store: StoreFactory, ops: list[tuple[Any, ...]]
) -> None:
    seen: dict[int, tuple[list[Any], list[Any], list[Any]]] = {}
    snapshots: dict[int, int] = {}
    for interval in (0, *INTERVALS):
        with store(f"n{interval}") as env:
            app = TicketApplication(
                env=env, default_auto_close_after=timedelta(days=7), snapshot_interval=interval
            )
            try:
                outcomes = run(app, ops)
                seen[interval] = (outcomes, stored_events(app), reloaded(app))
                if interval == 0:
                    identities = published_identities(app)
                assert app.snapshots is not None
                snapshots[interval] = sum(len(list(app.snapshots.get(i))) for i in ticket_ids(app))
            finally:
                app.close()
    baseline = seen[0]
    assert snapshots[0] == 0
    for interval in INTERVALS:
        outcomes, events, tickets = seen[interval]
        assert outcomes == baseline[0], f"outcomes differ with a snapshot every {interval}"
        assert events == baseline[1], f"stored events differ with a snapshot every {interval}"
        assert tickets == baseline[2], f"reloaded tickets differ with a snapshot every {interval}"
    # Every published envelope keeps its identity under the documented deduplication
    # (docs/events.md): event ids are unique, and so is (ticket_id, version) where set.
    assert len({event_id for event_id, _, _ in identities}) == len(identities)
    versioned = [(ticket, version) for _, ticket, version in identities if version is not None]
    assert len(set(versioned)) == len(versioned)
    numbers = [view[1] for view in baseline[2]]
    assert numbers == list(range(1, len(numbers) + 1))  # contiguous, whatever was refused
    ticket_events = sum(1 for event in baseline[1] if "Ticket." in event[2])
    assert snapshots[1] == ticket_events  # N=1: one snapshot per ticket event
