"""The relay wakes when another process saves: the HTTP server runs as a process of its
own, the relay here with a fallback poll far longer than the test's deadlines, so every
event that arrives was brought by the cross-process signal (PostgreSQL NOTIFY, a Unix
datagram socket next to the SQLite file)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from services.settings import Settings
from services.ticket_service.bootstrap import build_application, run_ticket_workers
from tests.fixtures.ticket_processes import agent_headers, http_process, new_ticket
from tests.integration.kafka.streams import envelopes, read_until

FALLBACK_POLL = 600.0
"""Seconds: the relay's fallback poll, never reached by the test."""
DEADLINE = 30.0
"""Seconds each event may take to reach the topic (it takes milliseconds)."""
SAVES = 3


async def test_save_in_http_process_reaches_topic_without_fallback_poll(
    store_settings: Settings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = store_settings
    database_url = settings.database_url or ""
    app = build_application(settings)
    try:
        async with run_ticket_workers(
            app, settings, intake=False, relay_options={"poll_interval": FALLBACK_POLL}
        ) as workers:
            with http_process(tmp_path, database_url) as server:
                await workers.relay.wait_caught_up()
                async with httpx.AsyncClient(base_url=f"http://{server.address}") as client:
                    for n in range(1, SAVES + 1):
                        r = await client.post(
                            "/api/v1/tickets", json=new_ticket(f"t{n}"), headers=agent_headers()
                        )
                        assert r.status_code == 201, r.text
                        async with asyncio.timeout(DEADLINE):
                            records = await read_until(
                                kafka_bootstrap,
                                settings.topic_events,
                                lambda rs, n=n: created(rs) >= n,
                            )
                        assert created(records) == n
    finally:
        app.close()


def created(records: list) -> int:  # type: ignore[type-arg]
    return sum(e["event_type"] == "TicketCreated" for e in envelopes(records))
