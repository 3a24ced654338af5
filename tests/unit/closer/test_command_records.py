"""The close commands as they go on the wire: the template-rendered JSON, the command id
written out from its digest and the records handed to the producer are exactly what the
validated ``close_command`` and a per-message ``send`` would produce."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4, uuid5

from aiokafka.partitioner import DefaultPartitioner

from contracts import CommandAdapter
from services.closer_worker.adapters.kafka_commands import CloseJson, KafkaCommandPublisher
from services.closer_worker.domain.closing import (
    NAMESPACE,
    close_command,
    close_command_id,
    close_command_id_text,
)
from services.closer_worker.domain.timers import Timer
from services.settings import Settings

RNG = random.Random(19)
SOLVE_IDS = [0, 1, 2, 9, 10, 99, 12345, 2**31, 2**53 + 1, 2**63 - 1]
ISSUED = [
    datetime(2026, 12, 3, 17, 51, 4, 313051, tzinfo=UTC),
    datetime(2026, 12, 3, 17, 51, 4, tzinfo=UTC),  # no microseconds: pydantic omits them
    datetime(2026, 12, 3, 17, 51, 4, 1000, tzinfo=UTC),
    datetime(1999, 1, 1, tzinfo=UTC),
    datetime(2026, 6, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime.fromtimestamp(1_764_784_264.123456, UTC),
]


def random_timer() -> Timer:
    solve_id = RNG.choice([*SOLVE_IDS, RNG.randrange(10**12)])
    due = datetime.fromtimestamp(RNG.uniform(0, 2e9), UTC)
    return Timer(UUID(int=RNG.getrandbits(128), version=4), solve_id, due, RNG.randrange(1, 99))


def test_command_id_text_is_uuid5_of_ticket_and_solve() -> None:
    for _ in range(20_000):
        timer = random_timer()
        expected = uuid5(NAMESPACE, f"auto-close:{timer.ticket_id}:{timer.solve_id}")
        assert close_command_id_text(str(timer.ticket_id), timer.solve_id) == str(expected)
        assert close_command_id(timer.ticket_id, timer.solve_id) == expected


def test_template_json_is_the_validated_commands_json_byte_for_byte() -> None:
    for issued_at in ISSUED:
        json = CloseJson(issued_at)
        for _ in range(2_000):
            timer = random_timer()
            validated = close_command(timer, issued_at)
            rendered = json.of(timer)
            assert rendered == validated.model_dump_json().encode()
            # and the ticket service's intake reads it back as that command
            assert CommandAdapter.validate_json(rendered) == validated


class Batch:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.records: list[dict[str, Any]] = []
        self.closed = False

    def append(
        self, *, key: bytes, value: bytes, timestamp: None, headers: list[tuple[str, bytes]]
    ) -> object | None:
        assert not self.closed and timestamp is None
        if len(self.records) >= self.capacity:
            return None
        self.records.append({"key": key, "value": value, "headers": headers})
        return object()

    def close(self) -> None:
        self.closed = True


class Producer:
    """What the publisher uses of an AIOKafkaProducer; records each batch sent."""

    def __init__(self, partitions: int, capacity: int = 1000, fail: set[int] | None = None):
        self.partitions = set(range(partitions))
        self.capacity = capacity
        self.fail = fail or set()
        self.sent: list[tuple[int, Batch]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return self.partitions

    def create_batch(self) -> Batch:
        return Batch(self.capacity)

    async def send_batch(self, batch: Batch, topic: str, *, partition: int) -> Any:
        assert batch.closed and topic == "commands"
        self.sent.append((partition, batch))
        future = asyncio.get_running_loop().create_future()
        if len(self.sent) in self.fail:
            future.set_exception(RuntimeError("broker refused"))
        else:
            future.set_result(None)
        return future


def publisher(producer: Producer) -> KafkaCommandPublisher:
    pub = KafkaCommandPublisher(Settings(topic_commands="commands"))
    pub._producer = producer  # type: ignore[assignment]
    return pub


async def test_records_are_the_validated_commands_placed_as_the_default_partitioner_would() -> None:
    issued_at = ISSUED[0]
    timers = [random_timer() for _ in range(500)]
    producer = Producer(partitions=4, capacity=60)
    assert await publisher(producer).publish_closes(timers, issued_at) == [True] * 500
    placed = {
        record["key"]: (partition, record) for partition, b in producer.sent for record in b.records
    }
    assert len(placed) == 500
    partitions = sorted(producer.partitions)
    default = DefaultPartitioner()
    for timer in timers:
        command = close_command(timer, issued_at)
        key = str(timer.ticket_id).encode()
        partition, record = placed[key]
        assert partition == default(key, partitions, partitions)
        assert record["value"] == command.model_dump_json().encode()
        assert record["headers"] == [
            ("content-type", b"application/json"),
            ("command_type", b"CloseTicket"),
            ("command_id", str(command.command_id).encode()),
        ]
    # batches are split at the builder's capacity, order kept within a partition
    assert all(len(b.records) <= 60 for _, b in producer.sent)
    for p in partitions:
        keys = [r["key"] for q, b in producer.sent if q == p for r in b.records]
        assert keys == [k for k in (str(t.ticket_id).encode() for t in timers) if placed[k][0] == p]


async def test_a_failed_batch_leaves_exactly_its_closes_unconfirmed() -> None:
    timers = [random_timer() for _ in range(10)]
    producer = Producer(partitions=1, capacity=4, fail={2})
    confirmed = await publisher(producer).publish_closes(timers, ISSUED[0])
    assert confirmed == [True] * 4 + [False] * 4 + [True] * 2


async def test_nothing_is_confirmed_when_the_topic_cannot_be_looked_up() -> None:
    class NoMetadata(Producer):
        async def partitions_for(self, topic: str) -> set[int]:
            raise RuntimeError("no metadata")

    timers = [random_timer() for _ in range(3)]
    producer = NoMetadata(partitions=1)
    assert await publisher(producer).publish_closes(timers, ISSUED[0]) == [False] * 3
    assert producer.sent == []


async def test_a_batch_the_producer_will_not_queue_is_unconfirmed() -> None:
    class Refusing(Producer):
        async def send_batch(self, batch: Batch, topic: str, *, partition: int) -> Any:
            raise RuntimeError("producer closed")

    timers = [random_timer() for _ in range(3)]
    assert await publisher(Refusing(partitions=2)).publish_closes(timers, ISSUED[0]) == [False] * 3


def test_uuid4_ticket_ids_render_too() -> None:
    timer = Timer(uuid4(), 1, ISSUED[0], 2)
    assert (
        CloseJson(ISSUED[1]).of(timer) == close_command(timer, ISSUED[1]).model_dump_json().encode()
    )
