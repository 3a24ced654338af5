"""One soak run: start the stack, load it while the scheduler injects faults, let it settle,
check."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from services.webhooks.adapters.sqlite_store import SqliteWebhookStore
from services.webhooks.bootstrap import build_store
from soak import checks
from soak.faults import PARTS, FaultScheduler, Recovery
from soak.ledger import Ledger
from soak.load import start_load
from soak.observed import (
    StoreReader,
    held_mail,
    pending_mail,
    pending_webhooks,
    sent_log,
    topic_events,
)
from soak.report import Result
from soak.stack import AUTO_CLOSE_SECONDS, SUPPORT, Stack, running_stack
from soak.tap import CommandTap

QUIET_SECONDS = 8.0
SETTLE_TIMEOUT = 300.0
CLOSE_GRACE = 10.0


def run_soak(
    seconds: float,
    *,
    store: str,
    data_dir: Path,
    http_clients: int = 3,
    seed: int = 1,
    recovery: Recovery = "republish",
    parts: tuple[str, ...] = PARTS,
    say: Callable[[str], object] = print,
) -> Result:
    with running_stack(data_dir, store) as stack:
        say(
            f"soak: stack up on {store} ({data_dir}); {seconds:.0f} s of load and faults "
            f"(seed {seed}, parts {','.join(parts)})"
        )
        ledger, stop = Ledger(), threading.Event()
        heads = StoreReader(stack.settings())
        scheduler = FaultScheduler(
            stack, stop, recovery=recovery, seed=seed, parts=parts, say=say, store_head=heads.head
        )
        settings = stack.settings()
        tap = CommandTap(stack.bootstrap, settings.topic_commands, settings.kafka_partitions, stop)
        scheduler.on_broker_restart = tap.reset
        fault_thread = threading.Thread(target=scheduler.run, daemon=True, name="soak-faults")
        tap_thread = threading.Thread(target=tap.run, daemon=True, name="soak-tap")
        tap_thread.start()
        load = start_load(stack, ledger, stop, http_clients, seed)
        fault_thread.start()
        began = time.monotonic()
        while (left := seconds - (time.monotonic() - began)) > 0:
            time.sleep(min(30.0, left))
            say(
                f"soak: {time.monotonic() - began:.0f} s, {len(scheduler.faults)} faults, "
                f"{len(ledger.commands)} commands"
            )
        stop.set()
        for thread in [fault_thread, tap_thread, *load]:
            thread.join(timeout=180)
        heads.close()
        stack.ensure_running()
        reader = StoreReader(stack.settings())
        try:
            settled = _settle(stack, reader)
            held = held_mail(stack.data_dir)
            if held:  # what an operator does: ingest the quarantine again
                _helpdesk(stack, "email", "quarantine", "retry", check=False)
                settled += _settle(stack, reader)
            result = _check(stack, reader, ledger, scheduler, tap, store, seconds)
            result.settle_seconds = settled
            if held:
                reasons = Counter(held.values())
                result.notes.append(
                    f"mail held by email ingest after settling: {len(held)} "
                    f"({', '.join(f'{r} {n}' for r, n in reasons.items())}); "
                    "`helpdesk email quarantine retry` run once"
                )
        finally:
            reader.close()
    return result


def _settle(stack: Stack, reader: StoreReader) -> float:
    """Wait until the relay has published everything, no mail and no webhook delivery is
    pending and nothing has changed for a while (the last solves are due and closed by
    then)."""
    began = time.monotonic()
    mail_db = str(stack.data_dir / "outbound-mail.sqlite3")
    last: tuple[int, int, int, int] | None = None
    quiet_since = time.monotonic()
    webhooks = build_store(stack.settings())
    try:
        while time.monotonic() - began < SETTLE_TIMEOUT:
            state, caught_up = _state(stack, reader, mail_db, webhooks)
            if state != last or not caught_up or state[2] != 0 or state[3] != 0:
                last, quiet_since = state, time.monotonic()
            elif (
                time.monotonic() - quiet_since >= QUIET_SECONDS
                and time.monotonic() - began >= AUTO_CLOSE_SECONDS + QUIET_SECONDS
            ):
                break
            time.sleep(1.0)
    finally:
        webhooks.close()
    return time.monotonic() - began


def _state(
    stack: Stack, reader: StoreReader, mail_db: str, webhooks: SqliteWebhookStore
) -> tuple[tuple[int, int, int, int], bool]:
    """(store head, mails received, mails pending, webhook deliveries pending), and whether
    the relay has published up to the head."""
    head = reader.head()
    caught_up = reader.relay_position(stack.relay_name) >= head
    state = (head, len(stack.relay.all()), pending_mail(mail_db), pending_webhooks(webhooks))
    return state, caught_up


def _helpdesk(stack: Stack, *args: str, check: bool = True) -> str:
    """A ``helpdesk`` command against the soak's stack (its output)."""
    env = {**os.environ, **stack.env, "HELPDESK_RELAY_NAME": stack.relay_name}
    argv = [sys.executable, "-m", "services.cli", *args]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise RuntimeError(f"helpdesk {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _sla(stack: Stack, source: str, as_of: str) -> str:
    return _helpdesk(
        stack,
        "sla",
        "audit",
        "--source",
        source,
        "--as-of",
        as_of,
        "--format",
        "jsonl",
        "--jobs",
        "1",
    )


def _check(
    stack: Stack,
    reader: StoreReader,
    ledger: Ledger,
    scheduler: FaultScheduler,
    tap: CommandTap,
    store: str,
    seconds: float,
) -> Result:
    settled_at = datetime.now(UTC)
    events = reader.events()
    settings = stack.settings()
    topic = topic_events(stack.bootstrap, settings.topic_events)
    received = Counter(r.message_id for r in stack.relay.all())
    mails = sent_log(str(stack.data_dir / "outbound-mail.sqlite3"))
    commands = ledger.snapshot()
    held = held_mail(stack.data_dir)
    findings = checks.check_commands(
        commands, events, scheduler.broker_kills, scheduler.intake_down, held, tap.seen
    )
    findings.extend(checks.check_closes(events, settled_at, CLOSE_GRACE))
    findings.extend(checks.check_follow_ups(events))
    findings.extend(checks.check_topic(events, topic, scheduler.republished_after))
    findings.extend(checks.check_mail(events, mails, received, SUPPORT))
    hooks = stack.hooks.requests()
    findings.extend(checks.check_webhooks(events, hooks))
    as_of = settled_at.isoformat()
    findings.extend(checks.compare_sla(_sla(stack, "store", as_of), _sla(stack, "kafka", as_of)))
    notes = [
        f"store: {len(events)} public events; topic: {len(topic)} records; "
        f"mail: {len(mails)} planned, {sum(received.values())} received "
        f"({len(received)} Message-IDs); webhooks: {len(hooks)} requests, "
        f"{len({r.id for r in hooks if 200 <= r.status < 300})} webhook-ids accepted",
        f"mailed replies that opened a new ticket (index not caught up): "
        f"{checks.missed_replies(events)}",
    ]
    return Result(store, seconds, scheduler.faults, commands, findings, notes=notes)
