"""Commands/s of the ticket application on SQLite next to the bare eventsourcing baseline
(one save per command), measured in the same run on the same kind of store."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from uuid import uuid4

from bench.baseline import bare_commands_per_second
from bench.report import Row
from contracts import commands as cmd
from contracts.common import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.application.context import RequestContext, utcnow
from services.ticket_service.application.messagebus import handle_commands
from services.ticket_service.bootstrap import build_application

COMMANDS = 4000
BATCH = 100


def _app_commands_per_second(data_dir: Path) -> float:
    app = build_application(Settings(data_dir=data_dir))
    ctx = RequestContext(actor=Actor(role="agent", email="agent@example.com"))
    start = time.perf_counter()
    for _ in range(COMMANDS // 2):
        ticket = app.create_ticket(
            TicketFields(subject="Bench", requester="r@example.com"), ctx, channel="agent"
        )
        app.update_ticket(ticket.number, {"status": "open"}, ctx)
    elapsed = time.perf_counter() - start
    app.close()
    return COMMANDS / elapsed


def _batched_commands_per_second(data_dir: Path) -> float:
    app = build_application(Settings(data_dir=data_dir))
    actor = Actor(role="integration", sub="bench")
    creates = [
        cmd.CreateTicket(
            command_id=uuid4(),
            issued_at=utcnow(),
            actor=actor,
            data={"subject": "Bench", "requester": "r@example.com"},
        )
        for _ in range(COMMANDS)
    ]
    start = time.perf_counter()
    for i in range(0, COMMANDS, BATCH):
        handle_commands(app, creates[i : i + BATCH])
    elapsed = time.perf_counter() - start
    app.close()
    return COMMANDS / elapsed


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        baseline = bare_commands_per_second(str(root / "bare.sqlite3"), COMMANDS)
        ours = _app_commands_per_second(root / "app")
        batched = _batched_commands_per_second(root / "batched")
    name = "bare eventsourcing, 1 save/command"
    return [
        Row("application (SQLite)", "baseline: bare app create+update", baseline, "commands/s"),
        Row(
            "application (SQLite)",
            "TicketApplication create+update, 1 save/command",
            ours,
            "commands/s",
            name,
            baseline,
            note=f"{COMMANDS} commands, in-process",
        ),
        Row(
            "application (SQLite)",
            f"handle_commands, {BATCH} commands/transaction",
            batched,
            "commands/s",
            name,
            baseline,
            note="CreateTicket commands with receipts (dedupe)",
        ),
    ]
