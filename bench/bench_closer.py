"""Closer worker: 100,000 solved tickets due at once, and worker memory vs pending timers.

Runs a real worker process (``python -m services.closer_worker``) against a local Tansu
broker and redis-server. Solve events are published on the events topic as the relay would;
the worker turns them into Redis timers and, when due, publishes CloseTicket commands.

* closes/s: 100,000 timers all due at the same instant → every close command on the
  commands topic (acks=all), checked for no miss and no duplicate; baseline: a bare
  aiokafka producer sending the same number of same-size messages, 500 per awaited batch
  (the closer's own batch size) — the most the broker lets any closer do.
* RSS of the worker process at 100k pending timers; baseline: the same at 10k. Timers live
  in Redis, so the ratio should stay near 1.
The ticket service's side (intake applying the closes) is measured by its own benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4, uuid5

import psutil
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.report import Row
from contracts.events import StatusChanged
from services.closer_worker.domain.closing import close_command
from services.closer_worker.domain.timers import Timer
from tests.fixtures.kafka import CONSUMER_SETTINGS, create_topics, tansu_process
from tests.fixtures.redis import redis_process, redis_url_for

ROOT = Path(__file__).resolve().parent.parent
TICKETS = 100_000
FIRST = 10_000
BATCH = 500
PREFIX = "bench:closer"
NS = UUID("0d3f2a8e-3c1b-4a55-9a7e-5b9f1e2d4c60")
AGENT = {"role": "agent", "email": "agent@example.com"}


def ticket_id(i: int) -> UUID:
    return uuid5(NS, str(i))


def solve_event(i: int, solve_id: int, version: int, due: datetime) -> bytes:
    return (
        StatusChanged(
            event_id=uuid4(),
            ticket_id=ticket_id(i),
            ticket_number=i,
            version=version,
            occurred_at=due - timedelta(days=7),
            data={
                "from_status": "open",
                "to_status": "solved",
                "changed_by": AGENT,
                "solve_id": solve_id,
                "auto_close_due_at": due,
            },
        )
        .model_dump_json()
        .encode()
    )


async def publish(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> float:
    """Publish (key, value) records, awaiting acks=all every BATCH; the records per second."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=1_000_000
    )
    await producer.start()
    headers = [("event_type", b"StatusChanged"), ("content-type", b"application/json")]
    try:
        start = time.perf_counter()
        for n in range(0, len(values), BATCH):
            futures = [
                await producer.send(topic, value, key=key, headers=headers)
                for key, value in values[n : n + BATCH]
            ]
            await asyncio.gather(*futures)
        return len(values) / (time.perf_counter() - start)
    finally:
        await producer.stop()


def wait(
    check: Callable[[], object], what: str, proc: subprocess.Popen[bytes], timeout: float = 300.0
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            raise RuntimeError(f"closer bench: the worker exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"closer bench: {what} not reached in {timeout:.0f}s")
        time.sleep(0.05)


async def count_commands(bootstrap: str, topic: str, expected: int) -> tuple[float, int, int]:
    """Read the commands topic until ``expected`` distinct command ids arrived: the time the
    last new one was seen, distinct ids, total records."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **CONSUMER_SETTINGS)
    await consumer.start()
    seen: set[bytes] = set()
    total = 0
    last = time.time()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + 300
        while len(seen) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in batches.values():
                for record in records:
                    total += 1
                    command_id = dict(record.headers).get("command_id", b"")
                    if command_id not in seen:
                        seen.add(command_id)
                        last = time.time()
        # a short tail: any duplicate published right after the last new one
        for _ in range(5):
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            total += sum(len(r) for r in batches.values())
    finally:
        await consumer.stop()
    return last, len(seen), total


def start_worker(
    bootstrap: str, redis_url: str, topics: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
        "HELPDESK_REDIS_URL": redis_url,
        "HELPDESK_TOPIC_EVENTS": topics["events"],
        "HELPDESK_TOPIC_COMMANDS": topics["commands"],
        "HELPDESK_CLOSER_REDIS_PREFIX": PREFIX,
        "HELPDESK_CLOSER_GROUP_ID": "bench-closer",
        "HELPDESK_CLOSER_SESSION_TIMEOUT_MS": str(CONSUMER_SETTINGS["session_timeout_ms"]),
        "HELPDESK_CLOSER_HEARTBEAT_INTERVAL_MS": str(CONSUMER_SETTINGS["heartbeat_interval_ms"]),
        "HELPDESK_CLOSER_LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.closer_worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
        )


def _bench(bootstrap: str, redis_url: str, log: Path) -> list[Row]:
    topics = {"events": "bench-closer-events", "commands": "bench-closer-commands"}
    asyncio.run(create_topics(bootstrap, [*topics.values(), "bench-closer-baseline"]))
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    pending = lambda: int(r.zcard(f"{PREFIX}:timeline"))  # noqa: E731
    proc = start_worker(bootstrap, redis_url, topics, log)
    worker = psutil.Process(proc.pid)
    try:
        wait(lambda: r.exists(f"{PREFIX}:built"), "worker start", proc)
        # Memory: 10k then 100k timers pending far in the future.
        far = datetime.now(UTC) + timedelta(days=7)
        load = [(str(ticket_id(i)).encode(), solve_event(i, 1, 2, far)) for i in range(TICKETS)]
        asyncio.run(publish(bootstrap, topics["events"], load[:FIRST]))
        wait(lambda: pending() >= FIRST, "10k timers", proc)
        rss_10k = worker.memory_info().rss
        start = time.perf_counter()
        asyncio.run(publish(bootstrap, topics["events"], load[FIRST:]))
        wait(lambda: pending() >= TICKETS, "100k timers", proc)
        load_seconds = time.perf_counter() - start
        rss_100k = worker.memory_info().rss

        # Throughput: the same tickets solved again, all due at one instant after loading.
        fire_at = datetime.now(UTC) + timedelta(seconds=load_seconds * 1.5 + 5)
        again = [(k, solve_event(i, 2, 4, fire_at)) for i, (k, _) in enumerate(load)]
        asyncio.run(publish(bootstrap, topics["events"], again))
        moved = lambda: r.zcount(f"{PREFIX}:timeline", "-inf", fire_at.timestamp() - 1e-3) == 0  # noqa: E731
        ready = pending() == TICKETS and moved()
        last, distinct, total = asyncio.run(count_commands(bootstrap, topics["commands"], TICKETS))
        seconds = last - fire_at.timestamp()
        rss_after = worker.memory_info().rss
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        r.close()

    sample = close_command(Timer(ticket_id(0), 2, fire_at, 4), fire_at).model_dump_json().encode()
    baseline = asyncio.run(
        publish(bootstrap, "bench-closer-baseline", [(b"k%d" % i, sample) for i in range(TICKETS)])
    )
    note = (
        f"{distinct:,} distinct close commands, {total - distinct} duplicates, "
        f"{TICKETS - distinct} missed; timers loaded before due: {ready}"
    )
    mib = 1024 * 1024
    return [
        Row(
            "closer",
            "100k due timers: closes/s (published, acks=all)",
            distinct / seconds,
            "closes/s",
            "bare aiokafka publish, 500/batch",
            baseline,
            "no miss, no double",
            note,
        ),
        Row("closer", "100k due timers: time to close all", seconds, "s", note=note),
        Row(
            "closer",
            "worker RSS at 100k pending timers",
            rss_100k / mib,
            "MiB",
            "RSS at 10k pending",
            rss_10k / mib,
            "flat (~1.0x)",
            f"after 100k more solve events and 100k closes: {rss_after / mib:.0f} MiB "
            "(timers live in Redis; the step from 10k is buffers warming up)",
        ),
        Row(
            "closer",
            "solve events → Redis timers (90k)",
            (TICKETS - FIRST) / load_seconds,
            "events/s",
        ),
    ]


def run() -> list[Row]:
    with (
        tansu_process() as kafka,
        redis_process() as redis_server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        log = Path(tmp) / "closer.log"
        try:
            return _bench(kafka.address, redis_url_for(redis_server.address), log)
        except Exception:
            print(log.read_text()[-3000:])
            raise
