"""Publication latency across processes: HTTP 201 → the event readable on the topic.

The HTTP server, the relay (``helpdesk tickets-worker --no-intake``) and this benchmark's
client and consumer are three processes; the relay learns of the HTTP process's saves from
the store's cross-process signal (PostgreSQL ``NOTIFY``, a Unix datagram socket next to the
SQLite file). Sequential creates, one at a time; on SQLite and on PostgreSQL, each with the
relay's fallback poll (1 s, what a save would wait without the signal) as the baseline."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.report import Row
from services.kafka_setup import ensure_topics, service_topics
from services.settings import Settings
from tests.fixtures.postgres import create_database, drop_database
from tests.fixtures.services import kafka_service, postgres_service
from tests.fixtures.ticket_processes import agent_headers, http_process, new_ticket, relay_process

SAVES = 300
WARM_UP = 20
BENCH = "relay latency (3 processes)"
FETCH_WAIT_MS = 2
"""The consumer's fetch wait: Tansu answers a fetch only when this runs out (Kafka answers as
soon as data arrives), so the default 500 ms would measure the consumer's polling."""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _latencies(settings: Settings, data_dir: Path) -> tuple[list[float], list[float]]:
    """(201 → readable, request sent → readable), in ms, per create."""
    await ensure_topics(str(settings.kafka_bootstrap), service_topics(settings))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=None, fetch_max_wait_ms=FETCH_WAIT_MS
    )
    await consumer.start()
    partition = TopicPartition(settings.topic_events, 0)
    consumer.assign([partition])
    await consumer.seek_to_end(partition)
    after_201: list[float] = []
    end_to_end: list[float] = []
    try:
        with (
            relay_process(settings) as _relay,
            http_process(data_dir, settings.database_url or "") as server,
        ):
            async with httpx.AsyncClient(base_url=f"http://{server.address}") as client:
                headers = agent_headers()
                for i in range(WARM_UP + SAVES):
                    sent = time.perf_counter()
                    r = await client.post(
                        "/api/v1/tickets", json=new_ticket(f"latency {i}"), headers=headers
                    )
                    created = time.perf_counter()
                    assert r.status_code == 201, r.text
                    ticket_id = r.json()["id"].encode()
                    while True:
                        async with asyncio.timeout(30):
                            record = await consumer.getone()
                        if record.key == ticket_id:
                            break
                    readable = time.perf_counter()
                    if i >= WARM_UP:
                        after_201.append(max(0.0, readable - created) * 1000)
                        end_to_end.append((readable - sent) * 1000)
    finally:
        await consumer.stop()
    return after_201, end_to_end


def _settings(bootstrap: str, data_dir: Path, database_url: str | None = None) -> Settings:
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    return Settings(
        kafka_bootstrap=bootstrap,
        data_dir=data_dir,
        database_url=database_url,
        topic_events=f"{prefix}events",
        topic_commands=f"{prefix}commands",
        topic_dead_letter=f"{prefix}dead-letter",
        kafka_partitions=1,
    )


def _rows(store: str, after_201: list[float], end_to_end: list[float], poll: float) -> list[Row]:
    note = (
        f"{SAVES} sequential creates (after {WARM_UP} warm-up); HTTP server, relay and "
        "client+consumer in 3 processes; Tansu broker, acks=all; consumer fetch wait "
        f"{FETCH_WAIT_MS} ms"
    )
    baseline = "fallback poll interval"
    return [
        Row(BENCH, f"{store}: HTTP 201 → readable, p50", statistics.median(after_201), "ms",
            baseline, poll * 1000, note=note),
        Row(BENCH, f"{store}: HTTP 201 → readable, p99", _percentile(after_201, 0.99), "ms",
            baseline, poll * 1000, goal="p99 < 50 ms", note=note),
        Row(BENCH, f"{store}: request sent → readable, p50", statistics.median(end_to_end),
            "ms", note="includes the HTTP request itself"),
        Row(BENCH, f"{store}: request sent → readable, p99", _percentile(end_to_end, 0.99),
            "ms", note="includes the HTTP request itself"),
    ]  # fmt: skip


async def _measure(bootstrap: str, root: Path, postgres_dsn: str) -> list[Row]:
    sqlite = _settings(bootstrap, root / "sqlite")
    rows = _rows("SQLite", *await _latencies(sqlite, root / "sqlite"), sqlite.relay_poll_interval)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    dsn = create_database(postgres_dsn, name)
    try:
        pg = _settings(bootstrap, root / "pg", dsn)
        rows += _rows("PostgreSQL", *await _latencies(pg, root / "pg"), pg.relay_poll_interval)
    finally:
        drop_database(postgres_dsn, name)
    return rows


def run() -> list[Row]:
    with (
        kafka_service() as kafka,
        postgres_service() as postgres,
        tempfile.TemporaryDirectory() as tmp,
    ):
        return asyncio.run(_measure(kafka.address, Path(tmp), postgres.address))
