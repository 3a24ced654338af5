"""The worker process (``helpdesk tickets-worker``) and the ``events tail`` consumer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from services.settings import Settings
from services.ticket_service.adapters.kafka.tail import tail_events
from tests.fixtures.kafka import create_topics
from tests.integration.kafka.streams import caused_by, command, encode, produce, read_until

HELPDESK = str(Path(sys.executable).parent / "helpdesk")


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "HELPDESK_DATA_DIR": str(settings.data_dir),
        "HELPDESK_DATABASE_URL": "",
        "HELPDESK_TOPIC_EVENTS": settings.topic_events,
        "HELPDESK_TOPIC_COMMANDS": settings.topic_commands,
        "HELPDESK_TOPIC_DEAD_LETTER": settings.topic_dead_letter,
    }


async def test_worker_process_applies_commands_and_stops_cleanly(settings: Settings) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    log = settings.data_dir / "worker.log"
    with log.open("wb") as out:
        worker = await asyncio.create_subprocess_exec(
            HELPDESK,
            "tickets-worker",
            env=worker_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        create = command("CreateTicket", {"subject": "From upstream", "requester": "r@example.com"})
        await produce(bootstrap, settings.topic_commands, [encode(create)])
        records = await read_until(
            bootstrap, settings.topic_events, caused_by(create["command_id"])
        )
        assert json.loads(records[-1].value)["data"]["subject"] == "From upstream"
    finally:
        worker.send_signal(signal.SIGTERM)
        code = await worker.wait()
    assert code == 0, log.read_text()[-3000:]


async def test_tail_prints_the_stream_filtered_by_type(settings: Settings) -> None:
    bootstrap = settings.kafka_bootstrap or ""
    await create_topics(bootstrap, [settings.topic_events])  # one partition: total order
    events = [
        {"event_type": "TicketCreated", "ticket_id": "a", "version": 1},
        {"event_type": "TicketClosed", "ticket_id": "a", "version": 2},
        {"event_type": "TicketCreated", "ticket_id": "b", "version": 1},
    ]
    await produce(bootstrap, settings.topic_events, [encode(e) for e in events])
    await read_until(bootstrap, settings.topic_events, lambda rs: len(rs) >= 3)

    everything = [
        e
        async for e in tail_events(
            bootstrap, settings.topic_events, from_beginning=True, follow=False
        )
    ]
    closed = [
        e
        async for e in tail_events(
            bootstrap,
            settings.topic_events,
            from_beginning=True,
            event_types={"TicketClosed"},
            follow=False,
        )
    ]
    assert everything == events
    assert closed == [events[1]]
