"""kill -9 of the dispatcher process mid-burst: after a restart every delivery arrives; the
only duplicates are deliveries sent but not yet recorded, with their ``webhook-id``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from services.settings import Settings
from services.webhooks.adapters.sqlite_store import SqliteWebhookStore
from services.webhooks.config import WebhookConfig
from tests.fixtures.kafka import CONSUMER_SETTINGS
from tests.fixtures.webhook_receiver import Received, Receiver
from tests.integration.webhooks.conftest import ADMIN, Stack, until
from tests.integration.webhooks.test_delivery import new_ticket

TICKETS = 40
ROOT = Path(__file__).resolve().parents[3]


def dispatcher_process(settings: Settings, config: WebhookConfig) -> subprocess.Popen[bytes]:
    assert settings.kafka_bootstrap
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "HELPDESK_TOPIC_EVENTS": settings.topic_events,
        "HELPDESK_DATA_DIR": str(settings.data_dir),
        "HELPDESK_WEBHOOK_ALLOW_HTTP": "true",
        "HELPDESK_WEBHOOK_ALLOWED_HOSTS": settings.webhook_allowed_hosts or "",
        "HELPDESK_WEBHOOK_TIMEOUT_SECONDS": "1",
        "HELPDESK_WEBHOOKS_LEASE_SECONDS": "1",
        "HELPDESK_WEBHOOKS_GROUP_ID": config.group_id,
        "HELPDESK_WEBHOOKS_PER_ENDPOINT": "4",
        "HELPDESK_WEBHOOKS_POLL_SECONDS": "0.05",
        "HELPDESK_WEBHOOKS_SESSION_TIMEOUT_MS": str(CONSUMER_SETTINGS["session_timeout_ms"]),
        "HELPDESK_WEBHOOKS_HEARTBEAT_INTERVAL_MS": str(CONSUMER_SETTINGS["heartbeat_interval_ms"]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "webhooks", "run"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def slowish(receiver: Receiver, request: Received) -> tuple[int, dict[str, str]]:
    time.sleep(0.03)
    return 200, {}


async def test_kill_9_mid_burst_loses_nothing_and_repeats_only_unrecorded_deliveries(
    store: SqliteWebhookStore,
    receivers: Callable[..., Receiver],
    tickets: Stack,
    settings: Settings,
    config: WebhookConfig,
) -> None:
    receiver = receivers(slowish)
    webhook, secret = store.create_webhook(receiver.url, ["ticket.created"], None, ADMIN)
    process = dispatcher_process(settings, config)
    try:
        for n in range(TICKETS):
            new_ticket(tickets, f"burst {n}")
        await until(lambda: len(receiver.accepted()) >= 8, "the burst to be under way")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        recorded = {
            row.id for row in store.deliveries(webhook.id, limit=1000)[0] if row.status != "pending"
        }
        assert len(recorded) < TICKETS, "killed mid-burst"
        received_before = len(receiver.requests())
        process = dispatcher_process(settings, config)
        await until(lambda: store.counts().get("delivered") == TICKETS, "every delivery", wait=120)
    finally:
        process.kill()
        process.wait(30)
    rows, _ = store.deliveries(webhook.id, limit=1000)
    ids = {row.id for row in rows}
    assert len(ids) == TICKETS
    got = receiver.requests()
    assert {r.id for r in got} == ids, "every delivery arrived"
    assert all(r.verifies(secret) for r in got)
    repeated = {i for i, n in Counter(r.id for r in got).items() if n > 1}
    assert not repeated & recorded, "a recorded delivery was sent again"
    assert len(got) >= received_before
