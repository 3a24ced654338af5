"""The shared topic set-up and producer (services/kafka_setup.py) on the real broker."""

from __future__ import annotations

import logging

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.kafka_setup import ensure_topics, make_producer, partitioned, service_topics
from services.settings import Settings
from tests.fixtures.kafka import create_topics


async def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()


def topic_settings(bootstrap: str, prefix: str, partitions: int) -> Settings:
    return Settings(
        kafka_bootstrap=bootstrap,
        kafka_partitions=partitions,
        topic_events=f"{prefix}events",
        topic_commands=f"{prefix}commands",
        topic_dead_letter=f"{prefix}dead-letter",
    )


async def test_every_service_topic_is_created_with_the_partitions_of_the_settings(
    kafka_bootstrap: str, kafka_topic_prefix: str
) -> None:
    settings = topic_settings(kafka_bootstrap, kafka_topic_prefix, 3)
    created = await ensure_topics(kafka_bootstrap, service_topics(settings))
    assert created == sorted(service_topics(settings))
    assert await partition_counts(kafka_bootstrap, created) == {
        settings.topic_events: 3,
        settings.topic_commands: 3,
        settings.topic_dead_letter: 1,
    }
    assert await ensure_topics(kafka_bootstrap, service_topics(settings)) == []


async def test_an_existing_topic_with_other_partitions_is_left_alone_and_reported(
    kafka_bootstrap: str, kafka_topic_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = topic_settings(kafka_bootstrap, kafka_topic_prefix, 2)
    await create_topics(kafka_bootstrap, [settings.topic_events], partitions=1)
    with caplog.at_level(logging.WARNING, logger="services.kafka_setup"):
        created = await ensure_topics(kafka_bootstrap, partitioned(settings, settings.topic_events))
    assert created == []
    assert await partition_counts(kafka_bootstrap, [settings.topic_events]) == {
        settings.topic_events: 1
    }
    assert f"topic {settings.topic_events} has 1 partitions, the settings say 2" in caplog.text


async def test_the_shared_producer_delivers_to_the_broker_with_every_ack(
    kafka_bootstrap: str, kafka_topic_prefix: str
) -> None:
    settings = topic_settings(kafka_bootstrap, kafka_topic_prefix, 1)
    await ensure_topics(kafka_bootstrap, partitioned(settings, settings.topic_commands))
    producer = make_producer(settings, client_id="test", linger_ms=2)
    await producer.start()
    try:
        sent = await producer.send_and_wait(settings.topic_commands, b"hello", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(settings.topic_commands, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"k", b"hello")
