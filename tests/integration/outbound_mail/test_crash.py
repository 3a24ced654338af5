"""kill -9 of the sender process mid-burst: every (event, recipient) arrives; the only
duplicates are mails that were sent but not yet recorded as sent, with the same Message-ID."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from contracts import Actor, TicketFields
from services.outbound_mail.adapters.sqlite_store import FILE_NAME, SqliteNotificationStore
from services.settings import Settings
from services.ticket_service.application.context import RequestContext
from services.ticket_service.bootstrap import build_application, run_ticket_workers
from tests.fixtures.kafka import CONSUMER_SETTINGS, create_topics
from tests.fixtures.smtp_relay import SmtpRelay
from tests.integration.outbound_mail.conftest import until

AGENT = RequestContext(actor=Actor(role="agent", email="agent@example.com"))
SUPPORT = "support@helpdesk.localhost"
TICKETS = 40
CONCURRENCY = 4
ROOT = Path(__file__).resolve().parents[3]


def sender_process(settings: Settings, data_dir: Path, group: str) -> subprocess.Popen[bytes]:
    assert settings.kafka_bootstrap and settings.smtp_relay
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "HELPDESK_TOPIC_EVENTS": settings.topic_events,
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_SUPPORT_ADDRESS": SUPPORT,
        "HELPDESK_SMTP_RELAY": settings.smtp_relay,
        "HELPDESK_SMTP_RETRY_MAX_SECONDS": "0.5",
        "HELPDESK_MAIL_RATE_LIMIT": "100",
        "HELPDESK_OUTBOUND_MAIL_GROUP_ID": group,
        "HELPDESK_OUTBOUND_MAIL_CONCURRENCY": str(CONCURRENCY),
        "HELPDESK_OUTBOUND_MAIL_SESSION_TIMEOUT_MS": str(CONSUMER_SETTINGS["session_timeout_ms"]),
        "HELPDESK_OUTBOUND_MAIL_HEARTBEAT_INTERVAL_MS": str(
            CONSUMER_SETTINGS["heartbeat_interval_ms"]
        ),
        "HELPDESK_OUTBOUND_MAIL_IDLE_POLL_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "mail", "run"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_kill_9_mid_burst_loses_nothing_and_repeats_only_unrecorded_sends(
    kafka_bootstrap: str, tmp_path: Path, kafka_topic_prefix: str
) -> None:
    relay = SmtpRelay().start()
    relay.script.delay = 0.03
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path / "tickets",
        topic_events=f"{kafka_topic_prefix}events",
        topic_commands=f"{kafka_topic_prefix}commands",
        topic_dead_letter=f"{kafka_topic_prefix}dead-letter",
        support_address=SUPPORT,
        smtp_relay=relay.address,
    )
    await create_topics(
        kafka_bootstrap,
        [settings.topic_events, settings.topic_commands, settings.topic_dead_letter],
        partitions=1,
    )
    mail_dir = tmp_path / "mail"
    group = f"{kafka_topic_prefix}outbound-mail"
    app = build_application(settings)
    process: subprocess.Popen[bytes] | None = None
    try:
        async with run_ticket_workers(
            app, settings, intake=False, relay_options={"poll_interval": 0.05}
        ) as workers:
            for n in range(TICKETS):
                fields = TicketFields(
                    subject=f"Burst {n}", requester=f"r{n}@example.com", cc=[f"c{n}@example.com"]
                )
                app.create_ticket(fields, AGENT, channel="agent")
            await workers.relay.wait_caught_up()
            expected = 2 * TICKETS

            process = sender_process(settings, mail_dir, group)
            await until(lambda: len(relay.all()) >= expected // 4, "the burst to begin")
            process.kill()  # SIGKILL, this test's own child
            await asyncio.to_thread(process.wait)
            killed_at = len(relay.all())
            store = SqliteNotificationStore(mail_dir / FILE_NAME)
            unrecorded = {r["message_id"] for r in store.entries("pending")}
            store.close()
            assert killed_at < expected, "the kill came after the burst"

            process = sender_process(settings, mail_dir, group)
            await until(
                lambda: len({r.message_id for r in relay.all()}) == expected,
                "every (event, recipient) to arrive",
            )
            store = SqliteNotificationStore(mail_dir / FILE_NAME)
            await until(lambda: store.counts() == {"sent": expected}, "every send recorded")
            logged = {(r["recipient"], r["message_id"]) for r in store.entries()}
            store.close()
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            await asyncio.to_thread(process.wait)
        relay.stop()

    received = relay.all()
    assert {(r.recipient, r.message_id) for r in received} == logged
    per_recipient = {r.recipient: {m.message_id for m in relay.to(r.recipient)} for r in received}
    assert len(per_recipient) == expected
    assert all(len(ids) == 1 for ids in per_recipient.values()), "a re-send got a new id"
    duplicated = {mid for mid, n in Counter(r.message_id for r in received).items() if n > 1}
    assert duplicated <= unrecorded, "a mail recorded as sent was sent again"
    assert len(duplicated) <= CONCURRENCY
