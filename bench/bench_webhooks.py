"""Webhook throughput and latency (issue #16).

Setup: the receiver (a minimal asyncio HTTP/1.1 server with keep-alive that counts requests
and answers 200) runs in a subprocess pinned to CPU 1; the sender runs in this process
pinned to CPU 0.

* baseline: ``CONNECTIONS`` httpx keep-alive connections (one ``AsyncClient``), each loop
  POSTing its share of the same bodies (nothing else: no signing, no store);
* dispatcher: the same number of deliveries recorded in the SQLite store (one webhook, one
  ticket each), sent by the dispatcher with ``CONNECTIONS`` requests in flight: claims,
  Standard Webhooks signatures, attempts recorded — one store transaction a round;
* event → delivered: TicketCreated events produced to a Tansu topic at a steady rate,
  consumed by ``helpdesk webhooks run`` in its own process; the receiver measures from the
  event's ``occurred_at`` to its arrival (p50/p99).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.report import Row
from services.local_stack.processes import free_port
from services.webhooks.adapters.http_sender import HttpSender
from services.webhooks.adapters.sqlite_store import SqliteWebhookStore
from services.webhooks.application.dispatcher import Dispatcher, DispatchPolicy

DELIVERIES = 3000
CONNECTIONS = 8
ROUNDS = 3
LATENCY_EVENTS = 600
LATENCY_RATE = 100.0
"""Events per second produced for the latency figure."""
ROOT = Path(__file__).resolve().parent.parent


def _receiver_main(port: int, counter: Any, ready: Any, cpu: int | None, log: str) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

    async def main() -> None:
        out = open(log, "a")  # noqa: SIM115, ASYNC230 (lives as long as the process)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:].strip())
                    body = await reader.readexactly(length)
                    with counter.get_lock():
                        counter.value += 1
                    if b'"occurred_at"' in body and b"latency" in head:
                        at = json.loads(body)["data"]["event"]["occurred_at"]
                        sent = datetime.fromisoformat(at).timestamp()
                        out.write(f"{time.time() - sent}\n")
                        out.flush()
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


@contextlib.contextmanager
def receiver_process(cpu: int | None, log: Path) -> Iterator[tuple[int, Any]]:
    context = multiprocessing.get_context("spawn")
    counter = context.Value("q", 0)
    ready = context.Event()
    port = free_port()
    process = context.Process(
        target=_receiver_main, args=(port, counter, ready, cpu, str(log)), daemon=True
    )
    process.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("receiver did not start")
        yield port, counter
    finally:
        process.terminate()
        process.join(10)


@contextlib.contextmanager
def _pinned(cpu: int | None) -> Iterator[None]:
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def event(i: int, prefix: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "event_type": "TicketCreated",
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}-{i}")),
        "ticket_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}-ticket-{i}")),
        "ticket_number": i + 1,
        "occurred_at": now,
        "schema_version": 1,
        "version": 1,
        "data": {
            "number": i + 1,
            "subject": f"Printer on fire {i}",
            "description": "It is smoking.",
            "status": "new",
            "requester": f"user{i % 500}@example.com",
            "cc": [],
            "assignee": None,
            "division": None,
            "priority": "normal",
            "form": None,
            "tags": [],
            "custom_fields": {},
            "channel": "agent",
            "created_by": {"role": "agent", "email": "agent@example.com"},
        },
    }


Rates = tuple[float, float]
"""(deliveries per wall second, per CPU second of this process)."""


async def bare_rate(port: int, counter: Any, bodies: list[bytes]) -> Rates:
    url = f"http://127.0.0.1:{port}/hook"
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def loop(share: list[bytes]) -> None:
            for body in share:
                reply = await client.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
                assert reply.status_code == 200

        await client.post(url, content=b"{}")  # connect before timing
        start_count = counter.value
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(loop(bodies[i::CONNECTIONS]) for i in range(CONNECTIONS)))
        elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    assert counter.value - start_count == len(bodies)
    return len(bodies) / elapsed, len(bodies) / used


async def dispatch_rate(port: int, counter: Any, data_dir: Path) -> Rates:
    store = SqliteWebhookStore(data_dir / "webhooks.sqlite3")
    store.create_webhook(f"http://127.0.0.1:{port}/hook", [], None, "bench")
    store.consume([event(i, data_dir.name) for i in range(DELIVERIES)])
    dispatcher = Dispatcher(
        store,
        HttpSender(timeout=10.0, allowed=frozenset({"127.0.0.1"}), max_connections=CONNECTIONS),
        DispatchPolicy(owner="bench", per_endpoint=CONNECTIONS, ready_limit=512),
    )
    start_count = counter.value
    cpu, started = time.process_time(), time.perf_counter()
    task = asyncio.create_task(dispatcher.run())
    while counter.value - start_count < DELIVERIES:  # noqa: ASYNC110 (another process's)
        await asyncio.sleep(0.005)
    await dispatcher.until_idle(0.005)  # every attempt recorded too
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    assert store.counts() == {"delivered": DELIVERIES}
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    store.close()
    assert counter.value - start_count >= DELIVERIES
    return DELIVERIES / elapsed, DELIVERIES / used


async def latency(port: int, data_dir: Path, bootstrap: str, log: Path) -> list[float]:
    from aiokafka import AIOKafkaProducer

    from tests.fixtures.kafka import CONSUMER_SETTINGS, create_topics

    topic = f"bench.{data_dir.name}.events"
    await create_topics(bootstrap, [topic], partitions=4)
    store = SqliteWebhookStore(data_dir / "webhooks.sqlite3")
    store.create_webhook(f"http://127.0.0.1:{port}/latency", [], None, "bench")
    store.close()
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
        "HELPDESK_TOPIC_EVENTS": topic,
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_WEBHOOK_ALLOW_HTTP": "true",
        "HELPDESK_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "HELPDESK_WEBHOOKS_GROUP_ID": f"bench-{data_dir.name}",
        "HELPDESK_WEBHOOKS_SESSION_TIMEOUT_MS": str(CONSUMER_SETTINGS["session_timeout_ms"]),
        "HELPDESK_WEBHOOKS_HEARTBEAT_INTERVAL_MS": str(CONSUMER_SETTINGS["heartbeat_interval_ms"]),
        "HELPDESK_WEBHOOKS_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 (started once, before timing)
        [sys.executable, "-m", "services.cli", "webhooks", "run"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        warm = event(10**6, f"{data_dir.name}-warm")
        await producer.send_and_wait(topic, json.dumps(warm).encode(), key=b"warm")
        deadline = time.monotonic() + 60
        while not log.exists() or not log.read_text().strip():  # noqa: ASYNC240 (joined)
            if time.monotonic() > deadline:
                raise RuntimeError("the dispatcher delivered nothing")
            await asyncio.sleep(0.05)
        log.write_text("")  # noqa: ASYNC240
        started = time.perf_counter()
        for i in range(LATENCY_EVENTS):
            payload = event(i, data_dir.name)
            await producer.send(
                topic,
                json.dumps(payload).encode(),
                key=payload["ticket_id"].encode(),
                headers=[("event_type", b"TicketCreated")],
            )
            pause = started + (i + 1) / LATENCY_RATE - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
        await producer.flush()
        while len(log.read_text().split()) < LATENCY_EVENTS:  # noqa: ASYNC240
            if time.monotonic() > deadline + 120:
                raise RuntimeError("not every event was delivered")
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()
        process.terminate()
        process.wait(30)
    return sorted(float(x) for x in log.read_text().split())  # noqa: ASYNC240


def run() -> list[Row]:
    from tests.fixtures.kafka import tansu_process

    cpus = sorted(os.sched_getaffinity(0))
    two = len(cpus) > 1
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "latency.log"
        probe = SqliteWebhookStore(":memory:")
        probe.create_webhook("http://127.0.0.1:1/hook", [], None, "bench")
        probe.consume([event(i, "bare") for i in range(DELIVERIES)])
        bodies = [
            bytes(probe.db.execute("SELECT body FROM deliveries WHERE seq = ?", (n,)).fetchone()[0])
            for n in range(1, DELIVERIES + 1)
        ]
        probe.close()
        size = sum(map(len, bodies)) / len(bodies)
        with (
            receiver_process(cpus[1] if two else None, log) as (port, counter),
            _pinned(cpus[0] if two else None),
        ):
            bares: list[Rates] = []
            dispatched: list[Rates] = []
            for n in range(ROUNDS):
                bares.append(asyncio.run(bare_rate(port, counter, bodies)))
                directory = Path(tmp) / f"d{n}"
                directory.mkdir()
                dispatched.append(asyncio.run(dispatch_rate(port, counter, directory)))
        with receiver_process(None, log) as (port, _), tansu_process() as kafka:
            directory = Path(tmp) / "latency"
            directory.mkdir()
            latencies = asyncio.run(latency(port, directory, kafka.address, log))
    bare = max(b for b, _ in bares)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    baseline = f"bare httpx POST loop, {CONNECTIONS} keep-alive connections"
    note = (
        f"{DELIVERIES} ticket.created deliveries (avg {size / 1024:.1f} KiB), one endpoint, "
        f"{CONNECTIONS} in flight; receiver in a subprocess on another core; sender pinned "
        f"to one core; best of {ROUNDS} alternating rounds (bare: "
        + ", ".join(f"{b:,.0f}" for b, _ in bares)
        + "/s; dispatcher: "
        + ", ".join(f"{d:,.0f}" for d, _ in dispatched)
        + "/s)"
    )
    latency_note = (
        f"{LATENCY_EVENTS} TicketCreated at {LATENCY_RATE:.0f}/s into Tansu (4 partitions) → "
        "`helpdesk webhooks run` (own process, SQLite store) → receiver (own process); "
        "from the event's occurred_at to its arrival"
    )
    return [
        Row(
            "webhooks",
            "deliveries/s: claim + sign + POST + record (SQLite store)",
            max(d for d, _ in dispatched),
            "deliveries/s",
            baseline,
            bare,
            "≥ 0.5x",
            note,
        ),
        Row(
            "webhooks",
            "deliveries per CPU-second of the sender",
            max(c for _, c in dispatched),
            "deliveries/cpu-s",
            baseline,
            max(c for _, c in bares),
            "",
            "same rounds; this process's CPU time (the receiver runs in another)",
        ),
        Row("webhooks", "event → delivered p50", p50 * 1000, "ms", note=latency_note),
        Row("webhooks", "event → delivered p99", p99 * 1000, "ms", note=latency_note),
    ]
