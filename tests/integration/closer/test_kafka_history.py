"""The rebuild's history reader against a real broker: every relevant event, to the end."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

from aiokafka import AIOKafkaProducer

from services.closer_worker.adapters.kafka_history import KafkaEventHistory
from tests.fixtures.kafka import create_topics
from tests.unit.closer.envelopes import T0, commented, solved


async def test_reads_every_relevant_event_up_to_the_end_of_the_last_batch(
    kafka_bootstrap: str, kafka_topic_prefix: str
) -> None:
    topic = f"{kafka_topic_prefix}events"
    await create_topics(kafka_bootstrap, [topic], partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=20)
    await producer.start()
    expected = []
    try:
        for _ in range(3):  # several record batches per partition
            futures = []
            for _ in range(10):
                tid = uuid4()
                relevant = solved(tid, 2, 1, T0 + timedelta(days=1))
                expected.append(relevant)
                for event in (relevant, commented(tid, 3)):
                    futures.append(
                        await producer.send(
                            topic,
                            event.model_dump_json().encode(),
                            key=str(tid).encode(),
                            headers=[("event_type", event.event_type.encode())],
                        )
                    )
            await asyncio.gather(*futures)
    finally:
        await producer.stop()

    read = [e async for e in KafkaEventHistory(kafka_bootstrap, topic).read()]
    assert sorted(read, key=lambda e: str(e.event_id)) == sorted(
        expected, key=lambda e: str(e.event_id)
    )


async def test_a_topic_that_does_not_exist_is_an_empty_history(
    kafka_bootstrap: str, kafka_topic_prefix: str
) -> None:
    history = KafkaEventHistory(kafka_bootstrap, f"{kafka_topic_prefix}nothing-here")
    assert [e async for e in history.read()] == []
