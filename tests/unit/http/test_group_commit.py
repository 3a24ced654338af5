"""Group commit: concurrent commands share one store transaction, and each keeps the outcome
it would have had alone (``services/ticket_service/application/group_commit.py`` over the
message bus's batch runner).

The writer thread is held on a gate command (an update of a ticket that does not exist)
while the commands under test queue up, so they deterministically form one group (no timing
involved)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from contracts import commands as cmd
from contracts.common import Actor, Channel, Role, TicketChanges, TicketFields
from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from services.ticket_service.adapters.http.idempotency import fingerprint
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.group_commit import GroupCommitter
from services.ticket_service.application.messagebus import (
    FromRequest,
    MessageBus,
    Outcome,
    Submission,
)
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import create_app
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket
from tests.unit.http.api_client import EMAILS, SECRET

AGENT = RequestContext(actor=Actor(role=Role.AGENT, email="alice@helpdesk.example.com"))
FIELDS = TicketFields(subject="Printer on fire", requester="ann@example.com")


GATE_NUMBER = 999_999


class GatedBus:
    """The application's bus, holding the writer thread on the gate's batch."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.gate: Gate | None = None

    def handle(self, submission: Submission) -> Outcome:
        return self.bus.handle(submission)

    def handle_batch(
        self, submissions: Sequence[Submission], *, on_commit: Callable[[int], None] | None = None
    ) -> list[Outcome]:
        gate = self.gate
        if gate is not None and submissions[0].command.ticket_number == GATE_NUMBER:
            self.gate = None
            gate.wait()
        return self.bus.handle_batch(submissions, on_commit=on_commit)


class Gate:
    """A command that holds the writer thread until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def wait(self) -> None:
        self.entered.set()
        self.release.wait(timeout=30)

    async def hold(self, commits: GroupCommitter) -> asyncio.Task[Any]:
        bus = commits.bus
        assert isinstance(bus, GatedBus), "the committer's bus must be a GatedBus"
        bus.gate = self
        command = cmd.UpdateTicket.model_construct(
            **AGENT.command_head(GATE_NUMBER),
            data=cmd.UpdateTicketData(changes=TicketChanges(priority="low")),
        )
        task = asyncio.ensure_future(commits.submit(Submission(command, AGENT)))
        await asyncio.to_thread(self.entered.wait, 30)
        return task


async def one_group(commits: GroupCommitter, calls: list[Awaitable[Any]]) -> list[Any]:
    """Run ``calls`` (each ending in one submission) as one group; their results or
    raised exceptions, in order."""
    gate = Gate()
    held = await gate.hold(commits)
    tasks = [asyncio.ensure_future(c) for c in calls]
    for _ in range(10_000):  # until every call has queued its submission
        if commits.queued == len(calls):
            break
        await asyncio.sleep(0.001)
    assert commits.queued == len(calls)
    gate.release.set()
    await held
    return await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def app() -> TicketApplication:
    return TicketApplication()


@pytest.fixture
async def commits(app: TicketApplication) -> AsyncIterator[tuple[GroupCommitter, list[int]]]:
    sizes: list[int] = []
    committer = GroupCommitter(GatedBus(app.bus), on_commit=sizes.append)  # type: ignore[arg-type]
    yield committer, sizes
    await asyncio.to_thread(committer.close)


async def submitted(commits: GroupCommitter, submission: Submission) -> Ticket:
    return (await commits.submit(submission)).unwrap()


def create_command(fields: TicketFields = FIELDS) -> cmd.CreateTicket:
    data = cmd.CreateTicketData(**fields.model_dump(), channel=Channel.AGENT)
    return cmd.CreateTicket.model_construct(**AGENT.command_head(), data=data)


def create(app: TicketApplication, commits: GroupCommitter, key: str | None = None) -> Any:
    return submitted(commits, Submission(create_command(), AGENT, FromRequest(key)))


def update(
    app: TicketApplication,
    commits: GroupCommitter,
    number: int,
    changes: dict[str, Any],
    expected: int | None = None,
) -> Any:
    data = cmd.UpdateTicketData(
        changes=TicketChanges.model_validate(changes), expected_version=expected
    )
    command = cmd.UpdateTicket.model_construct(**AGENT.command_head(number), data=data)
    return submitted(commits, Submission(command, AGENT))


async def test_concurrent_creates_share_one_transaction(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, sizes = commits
    tickets = await one_group(committer, [create(app, committer) for _ in range(5)])
    assert sizes == [1, 5]  # the gate, then the five creates in one save
    assert sorted(t.number for t in tickets) == [1, 2, 3, 4, 5]
    for ticket in tickets:
        assert app.get_ticket(ticket.number).version == ticket.version


async def test_a_failing_command_does_not_fail_its_group(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, sizes = commits
    first = app.create_ticket(FIELDS, AGENT, channel=Channel.AGENT)
    outcomes = await one_group(
        committer,
        [
            create(app, committer),
            update(app, committer, 999, {"priority": "high"}),
            update(app, committer, first.number, {"status": "closed"}),
            update(app, committer, first.number, {"priority": "high"}),
        ],
    )
    created, missing, refused, updated = outcomes
    assert isinstance(created, Ticket) and app.get_ticket(created.number)
    assert isinstance(missing, errors.TicketNotFound)
    assert isinstance(refused, errors.NotPermitted)
    assert isinstance(updated, Ticket) and updated.priority == "high"
    # the refusals are answered in the group; the second change of `first` waits for the next
    assert sizes == [1, 3, 1]


async def test_two_changes_of_one_ticket_each_answer_their_own_version(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, sizes = commits
    ticket = app.create_ticket(FIELDS, AGENT, channel=Channel.AGENT)
    v = ticket.version
    first, second = await one_group(
        committer,
        [
            update(app, committer, ticket.number, {"priority": "high"}),
            update(app, committer, ticket.number, {"tags": ["vip"]}),
        ],
    )
    assert (first.version, second.version) == (v + 1, v + 2)
    assert (first.priority, first.tags) == ("high", [])  # not the second change's state
    assert (second.priority, second.tags) == ("high", ["vip"])
    assert sizes == [1, 1, 1]


async def test_if_match_conflicts_as_when_serialised(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, _ = commits
    ticket = app.create_ticket(FIELDS, AGENT, channel=Channel.AGENT)
    v = ticket.version
    winner, loser = await one_group(
        committer,
        [
            update(app, committer, ticket.number, {"priority": "high"}, expected=v),
            update(app, committer, ticket.number, {"priority": "low"}, expected=v),
        ],
    )
    assert winner.version == v + 1
    assert isinstance(loser, errors.ConcurrencyConflict)
    assert app.get_ticket(ticket.number).priority == "high"


async def test_a_repeated_idempotency_key_in_one_group_creates_one_ticket(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, _ = commits
    first, again, other = await one_group(
        committer,
        [create(app, committer, "k1"), create(app, committer, "k1"), create(app, committer)],
    )
    assert first.id == again.id
    assert other.id != first.id
    assert app.receipt("k1") is not None
    with pytest.raises(errors.TicketNotFound):
        app.get_ticket(3)


def create_keyed(
    app: TicketApplication, commits: GroupCommitter, key: str, fields: TicketFields
) -> Any:
    """A create as the HTTP API sends it: a request key with the request's fingerprint."""
    digest = fingerprint("POST", "/api/v1/tickets", fields.model_dump(mode="json"))
    return submitted(commits, Submission(create_command(fields), AGENT, FromRequest(key, digest)))


async def test_one_key_with_two_requests_in_one_group_makes_one_ticket_and_a_refusal(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, _ = commits
    other_fields = TicketFields(subject="Another request", requester="ann@example.com")
    first, second, again = await one_group(
        committer,
        [
            create_keyed(app, committer, "k3", FIELDS),
            create_keyed(app, committer, "k3", other_fields),
            create_keyed(app, committer, "k3", FIELDS),
        ],
    )
    assert isinstance(first, Ticket) and first.subject == FIELDS.subject
    assert isinstance(second, errors.IdempotencyKeyReused)
    assert isinstance(again, Ticket) and again.id == first.id
    with pytest.raises(errors.TicketNotFound):
        app.get_ticket(first.number + 1)


async def test_a_replayed_key_sends_its_group_to_run_alone(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, sizes = commits
    original = app.create_ticket(FIELDS, AGENT, channel=Channel.AGENT, idempotency_key="k2")
    replay, fresh = await one_group(
        committer, [create(app, committer, "k2"), create(app, committer)]
    )
    assert replay.id == original.id
    assert fresh.number == original.number + 1
    assert sizes == [1, 1, 1]  # the group's save collided on the receipt: each ran alone


async def test_commands_keep_working_while_and_after_the_writer_stops(
    app: TicketApplication, commits: tuple[GroupCommitter, list[int]]
) -> None:
    committer, sizes = commits
    gate = Gate()
    held = await gate.hold(committer)
    closing = asyncio.ensure_future(asyncio.to_thread(committer.close))
    for _ in range(10_000):  # until close() has queued the writer's stop marker
        if committer.queued == 1:
            break
        await asyncio.sleep(0.001)
    during = asyncio.ensure_future(create(app, committer))
    await asyncio.sleep(0)
    gate.release.set()
    await held
    await closing
    ticket = await during  # ran on its own, not queued behind the stop marker
    assert app.get_ticket(ticket.number).id == ticket.id
    after = await create(app, committer)  # a new writer
    assert after.number == ticket.number + 1
    assert sizes == [1, 1]  # the gate, then the create after close(); not the one during


# ---- through the HTTP API -----------------------------------------------------------------


@pytest.fixture
def api_app(tmp_path: Path) -> Iterator[FastAPI]:
    """The HTTP app on a SQLite file store, called in-process on the test's event loop."""
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    app = create_app(settings)
    yield app
    app.state.services.close()


@pytest.fixture
async def http(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def headers(**extra: str) -> dict[str, str]:
    token = mint_token(SECRET, role="agent", email=EMAILS["agent"])
    return {"Authorization": f"Bearer {token}", **extra}


def counters() -> tuple[float, float]:
    return (
        REGISTRY.get_sample_value("helpdesk_http_group_commits_total") or 0.0,
        REGISTRY.get_sample_value("helpdesk_http_group_commit_commands_total") or 0.0,
    )


async def http_group(
    api_app: FastAPI, requests: list[Callable[[], Awaitable[httpx.Response]]]
) -> list[httpx.Response]:
    committer: GroupCommitter = api_app.state.services.get().commits
    committer.bus = GatedBus(committer.bus)  # type: ignore[assignment]
    return await one_group(committer, [r() for r in requests])


async def test_http_requests_of_one_group_keep_their_own_status(
    api_app: FastAPI, http: httpx.AsyncClient
) -> None:
    body = {"subject": "Printer on fire", "requester": "ann@example.com"}
    before = counters()
    ok_1, refused, ok_2, missing = await http_group(
        api_app,
        [
            lambda: http.post("/api/v1/tickets", json=body, headers=headers()),
            lambda: http.post(
                "/api/v1/tickets", json={**body, "status": "closed"}, headers=headers()
            ),
            lambda: http.post("/api/v1/tickets", json=body, headers=headers()),
            lambda: http.patch("/api/v1/tickets/999", json={"priority": "high"}, headers=headers()),
        ],
    )
    assert (ok_1.status_code, refused.status_code, ok_2.status_code) == (201, 422, 201)
    assert missing.status_code == 404
    assert ok_1.json()["number"] != ok_2.json()["number"]
    assert ok_1.headers["location"] == f"/api/v1/tickets/{ok_1.json()['number']}"
    after = counters()
    # the gate, then the two creates and the two refusals together
    assert (after[0] - before[0], after[1] - before[1]) == (2, 5)


async def test_http_same_ticket_patches_with_if_match_in_one_group(
    api_app: FastAPI, http: httpx.AsyncClient
) -> None:
    created = await http.post(
        "/api/v1/tickets",
        json={"subject": "Printer on fire", "requester": "ann@example.com"},
        headers=headers(),
    )
    number, etag = created.json()["number"], created.headers["etag"]
    version = created.json()["version"]
    path = f"/api/v1/tickets/{number}"
    winner, loser, plain = await http_group(
        api_app,
        [
            lambda: http.patch(
                path, json={"priority": "high"}, headers=headers(**{"If-Match": etag})
            ),
            lambda: http.patch(
                path, json={"priority": "low"}, headers=headers(**{"If-Match": etag})
            ),
            lambda: http.patch(path, json={"tags": ["vip"]}, headers=headers()),
        ],
    )
    assert winner.status_code == 200 and winner.headers["etag"] == f'"{version + 1}"'
    assert winner.json()["tags"] == []
    assert loser.status_code == 412
    assert plain.status_code == 200 and plain.headers["etag"] == f'"{version + 2}"'
    assert (plain.json()["priority"], plain.json()["tags"]) == ("high", ["vip"])
