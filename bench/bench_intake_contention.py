"""The command intake on a backlog while other processes write to the same store.

What the soak found (docs/reliability.md): a worker restarted beside a busy API needed tens
of seconds for its first batch. Here a backlog of 150 topic commands (creates and comments)
is applied by the message bus on PostgreSQL, alone and then while three other processes
create tickets as fast as they can (as the HTTP server does); then the same backlog again,
as a redelivery. Figures are commands per second; the baseline is the backlog applied
alone, in the same run.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Row
from contracts import Actor, TicketFields
from contracts.commands import Command
from services.settings import Settings
from services.ticket_service.adapters.kafka.command_records import decode_command
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.messagebus import handle_commands
from services.ticket_service.bootstrap import build_application
from tests.fixtures.postgres import postgres_process

BACKLOG = 150
WRITERS = 3
TICKETS = 20
AGENT = RequestContext(actor=Actor(role="agent", email="agent@example.com"))


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(database_url=url, data_dir=data_dir)


def _writer(url: str, data_dir: Path, seconds: float) -> None:
    app = build_application(_settings(url, data_dir))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.create_ticket(
            TicketFields(subject="w", requester="r@example.com"), AGENT, channel="agent"
        )


def _backlog() -> list[Command]:
    def command(kind: str, data: dict[str, object], **head: object) -> Command:
        return decode_command(
            json.dumps(
                {
                    "command_id": str(uuid.uuid4()),
                    "command_type": kind,
                    "issued_at": datetime.now(UTC).isoformat(),
                    "actor": {"role": "integration", "sub": "bench"},
                    "data": data,
                    **head,
                }
            ).encode()
        )

    return [
        command("AddComment", {"body": f"c{i}"}, ticket_number=1 + i % TICKETS)
        if i % 2
        else command("CreateTicket", {"subject": f"k{i}", "requester": "up@example.com"})
        for i in range(BACKLOG)
    ]


def run() -> list[Row]:
    with postgres_process() as (_, url), tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        app = build_application(_settings(url, data_dir))
        for i in range(TICKETS):
            fields = TicketFields(subject=f"seed {i}", requester="r@example.com")
            app.create_ticket(fields, AGENT, channel="agent")

        started = time.perf_counter()
        handle_commands(app, _backlog())
        alone = BACKLOG / (time.perf_counter() - started)

        context = multiprocessing.get_context("spawn")
        writers = [
            context.Process(target=_writer, args=(url, data_dir, 20.0)) for _ in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        time.sleep(4.0)  # every writer saving by now
        backlog = _backlog()
        before = app.numbers_taken_by_others
        started = time.perf_counter()
        outcomes = handle_commands(app, backlog)
        beside = BACKLOG / (time.perf_counter() - started)
        rerun = app.numbers_taken_by_others - before
        started = time.perf_counter()
        again = handle_commands(app, backlog)
        redelivered = BACKLOG / (time.perf_counter() - started)
        for writer in writers:
            writer.join()
        assert all(o.ok for o in outcomes) and all(o.duplicate for o in again)
    note = (
        f"{BACKLOG} topic commands (half creates, half comments on {TICKETS} tickets), "
        f"PostgreSQL; {WRITERS} processes creating tickets meanwhile; "
        f"{rerun} transactions re-run for a ticket number another writer took"
    )
    return [
        Row(
            "intake on PostgreSQL",
            f"backlog beside {WRITERS} writing processes",
            beside,
            "commands/s",
            "the same backlog, no other writer",
            alone,
            note=note,
        ),
        Row(
            "intake on PostgreSQL",
            f"the backlog redelivered (all duplicates), beside {WRITERS} writers",
            redelivered,
            "commands/s",
            "the same backlog, no other writer",
            alone,
            note="each answered from its receipt",
        ),
    ]
