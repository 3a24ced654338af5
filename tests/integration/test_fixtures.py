"""Round trips proving the real-service fixtures in tests/conftest.py work."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from tests.fixtures.kafka import CONSUMER_SETTINGS, create_topics
from tests.fixtures.processes import LocalProcess, tcp_check


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"ticket-1")
    finally:
        await producer.stop()


async def consume_and_commit(
    bootstrap: str, topic: str, group: str, expected: int, quiet_s: float = 1.0
) -> list[bytes]:
    """Read ``expected`` records (then wait ``quiet_s`` for extras), commit, leave the group."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **CONSUMER_SETTINGS,
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        async with asyncio.timeout(30):  # group join, then the expected records
            while not consumer.assignment() or len(values) < expected:
                values += _values(await consumer.getmany(timeout_ms=200))
        values += _values(await consumer.getmany(timeout_ms=int(quiet_s * 1000)))
        await consumer.commit()
        return values
    finally:
        await consumer.stop()


def _values(batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> list[bytes]:
    return [record.value or b"" for records in batches.values() for record in records]


async def test_kafka_produce_consume_commit(kafka_bootstrap: str, kafka_topic_prefix: str) -> None:
    topic, group = f"{kafka_topic_prefix}events", f"{kafka_topic_prefix}group"
    await create_topics(kafka_bootstrap, [topic], partitions=1)
    await produce(kafka_bootstrap, topic, [b"m0", b"m1", b"m2"])

    assert await consume_and_commit(kafka_bootstrap, topic, group, expected=3) == [
        b"m0",
        b"m1",
        b"m2",
    ]
    # Same group after the commit: positioned at offset 3, nothing more to read.
    assert await consume_and_commit(kafka_bootstrap, topic, group, expected=0) == []

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
    await consumer.start()
    try:
        assert await consumer.committed(TopicPartition(topic, 0)) == 3
    finally:
        await consumer.stop()


async def test_kafka_broker_stop_and_start(
    kafka_broker: LocalProcess, kafka_topic_prefix: str
) -> None:
    bootstrap = kafka_broker.address
    topic = f"{kafka_topic_prefix}events"
    await create_topics(bootstrap, [topic])
    await produce(bootstrap, topic, [b"before"])
    assert await consume_and_commit(bootstrap, topic, f"{kafka_topic_prefix}g1", 1) == [b"before"]

    kafka_broker.stop()
    try:
        assert not kafka_broker.running
        with pytest.raises(OSError):
            tcp_check(bootstrap)
    finally:
        kafka_broker.start()
    assert kafka_broker.address == bootstrap

    # Tansu stores in memory: the restarted broker is empty, so recreate the topic.
    await create_topics(bootstrap, [topic])
    await produce(bootstrap, topic, [b"after"])
    assert await consume_and_commit(bootstrap, topic, f"{kafka_topic_prefix}g2", 1) == [b"after"]


async def test_redis_set_get(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.set("fixtures:greeting", "hello", ex=60)
        assert await client.get("fixtures:greeting") == b"hello"
    finally:
        await client.aclose()


async def test_redis_server_kill_and_start(redis_server: LocalProcess) -> None:
    client = aioredis.Redis.from_url(f"redis://{redis_server.address}/0")
    try:
        assert await client.ping()
        redis_server.kill()
        with pytest.raises(aioredis.ConnectionError):
            await client.ping()
        redis_server.start()
        assert await client.ping()  # the pool reconnects on the same address
    finally:
        redis_server.start()
        await client.aclose()


def test_postgres_round_trip(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("CREATE TEMP TABLE tickets (id int PRIMARY KEY, subject text NOT NULL)")
        conn.execute("INSERT INTO tickets VALUES (%s, %s)", (1, "Printer on fire"))
        assert conn.execute("SELECT id, subject FROM tickets").fetchall() == [
            (1, "Printer on fire")
        ]


def test_postgres_database_is_fresh(postgres_dsn: str, postgres_database: str) -> None:
    with psycopg.connect(postgres_database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
        conn.execute("INSERT INTO events (body) VALUES (%s::jsonb)", ('{"type": "opened"}',))
        assert conn.execute("SELECT body->>'type' FROM events").fetchone() == ("opened",)
    assert postgres_database.rsplit("/", 1)[0] == postgres_dsn.rsplit("/", 1)[0]
