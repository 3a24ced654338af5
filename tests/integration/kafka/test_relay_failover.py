"""Two relay processes on one store: only the lease holder publishes; kill -9 it while
events are being saved, and the standby takes over from the recorded position. Every
stored event ends up on the topic, none skipped, each ticket's events in version order
(a republished page may repeat events: consumers deduplicate by event id)."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx

from services.kafka_setup import ensure_topics, service_topics
from services.settings import Settings
from services.ticket_service.bootstrap import build_application
from tests.fixtures.ticket_processes import relay_process, standby_relay_process
from tests.integration.kafka.streams import read_until
from tests.integration.kafka.test_relay import open_tickets, stored_event_ids

TICKETS = 40
"""Saved in a background thread, one ticket (two events) at a time."""


async def test_standby_relay_takes_over_when_the_leader_is_killed(
    store_settings: Settings, kafka_bootstrap: str
) -> None:
    settings = store_settings
    await ensure_topics(kafka_bootstrap, service_topics(settings))
    app = build_application(settings)
    stop = threading.Event()

    def keep_saving() -> None:
        while not stop.is_set():
            open_tickets(app, 1, "before-kill")
            stop.wait(0.05)

    try:
        with (
            relay_process(settings, "relay-a") as leader,
            standby_relay_process(settings, "relay-b") as standby,
        ):
            saver = asyncio.create_task(asyncio.to_thread(keep_saving))
            await read_until(kafka_bootstrap, settings.topic_events, lambda rs: len(rs) >= 10)
            assert not await publishing(standby.address)  # standing by, not publishing
            assert await publishing(leader.address)
            leader.kill()  # mid-stream: the saver goes on
            await asyncio.to_thread(open_tickets, app, TICKETS, "after-kill")
            stop.set()
            await saver
            expected = stored_event_ids(app)
            records = await read_until(
                kafka_bootstrap,
                settings.topic_events,
                lambda rs: set(expected) <= {json.loads(r.value)["event_id"] for r in rs},
            )
            assert standby.running
        seen: set[str] = set()
        versions: dict[bytes, list[int]] = {}
        for record in records:
            envelope = json.loads(record.value)
            if envelope["event_id"] in seen:
                continue  # at-least-once: a page republished after the takeover
            seen.add(envelope["event_id"])
            versions.setdefault(record.key, []).append(envelope["version"])
        assert seen == set(expected)  # every event, nothing else
        for ticket_versions in versions.values():
            assert ticket_versions == list(range(1, len(ticket_versions) + 1))
    finally:
        stop.set()
        app.close()


async def publishing(address: str) -> bool:
    """The worker's ``/readyz``: 200 once its relay holds the lease and publishes."""
    async with httpx.AsyncClient() as client:
        return (await client.get(f"http://{address}/readyz")).status_code == 200
