"""Close commands onto ``helpdesk.ticket-commands`` (key: ticket id), acks=all.

A plain aiokafka producer (:func:`services.kafka_setup.make_producer`). A round's closes
go out as record batches built here (``create_batch``/``send_batch``, one per partition
while it fits ``max_batch_size``), and every batch's ack is awaited: the per-message
``send`` (a coroutine, a partitioner hash and a future per record) cost the closer more
CPU than everything else a close does. FastStream's publish path costs more still, and the
closer needs none of its features here.

The JSON of a close is rendered from a template (:class:`CloseJson`) rather than by
building and dumping a ``CloseTicket`` per close (the model alone was a quarter of the
closer's CPU). The template is derived, once per round, from the validated command of
:func:`~services.closer_worker.domain.closing.close_command`, so its bytes are exactly the
validated command's: checked at import for a second timer, and by the unit tests for many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from services.closer_worker import observability as obs
from services.closer_worker.domain.closing import close_command, close_command_id_text
from services.closer_worker.domain.timers import Timer
from services.kafka_setup import make_producer
from services.settings import Settings

CLIENT_ID = "helpdesk-closer"
HEADERS_TYPE = ("command_type", b"CloseTicket")
HEADERS_JSON = ("content-type", b"application/json")

# Stand-ins that cannot occur in the rest of a close's JSON (a date, constants, nulls).
_SAMPLE = Timer(
    UUID("5e171e15-0000-4000-8000-00000000c105"),
    7_318_204_659_120_557,
    datetime(2000, 1, 1, tzinfo=UTC),
    1,
)
_CHECK = Timer(UUID("c0ffee00-1234-4567-89ab-cdef01234567"), 3, datetime(2000, 1, 1, tzinfo=UTC), 2)


class CloseJson:
    """The JSON of ``close_command(timer, issued_at)`` for any timer, at one ``issued_at``.

    The validated command of a sample timer is dumped and its ticket id, command id and
    solve id are replaced by slots; everything else (field order, constants, the
    ``issued_at`` as pydantic writes it) is the validated command's own text.
    """

    __slots__ = ("_template",)

    def __init__(self, issued_at: datetime) -> None:
        text = close_command(_SAMPLE, issued_at).model_dump_json().replace("%", "%%")
        slots = {
            "c": close_command_id_text(str(_SAMPLE.ticket_id), _SAMPLE.solve_id),
            "t": str(_SAMPLE.ticket_id),
            "s": str(_SAMPLE.solve_id),
        }
        for name, value in slots.items():
            if value not in text:
                raise RuntimeError(f"close command template: {value!r} not in {text}")
            text = text.replace(value, f"%({name}){'d' if name == 's' else 's'}")
        self._template = text

    def render(self, ticket_id: str, command_id: str, solve_id: int) -> bytes:
        """The command's JSON; ``ticket_id``, ``command_id``: canonical UUID strings."""
        return (self._template % {"c": command_id, "t": ticket_id, "s": solve_id}).encode()

    def of(self, timer: Timer) -> bytes:
        ticket_id = str(timer.ticket_id)
        return self.render(
            ticket_id, close_command_id_text(ticket_id, timer.solve_id), timer.solve_id
        )


def _check_template() -> None:
    """A template that would not reproduce the validated command is refused at import."""
    at = datetime(2026, 12, 3, 17, 51, 4, 313051, tzinfo=UTC)
    if CloseJson(at).of(_CHECK) != close_command(_CHECK, at).model_dump_json().encode():
        raise RuntimeError("close command template differs from the validated command")


_check_template()


class KafkaCommandPublisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic_commands
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Create (within the running loop, as aiokafka requires) and connect the producer."""
        if self._producer is None:
            self._producer = make_producer(self.settings, client_id=CLIENT_ID, linger_ms=2)
            await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("KafkaCommandPublisher.start() was not awaited")
        return self._producer

    async def publish_closes(self, timers: Sequence[Timer], issued_at: datetime) -> list[bool]:
        try:
            partitions = sorted(await self.producer.partitions_for(self.topic))
        except Exception as error:  # nothing sent: none confirmed
            obs.log.warning("close_publish_errors", count=len(timers), first=repr(error))
            return [False] * len(timers)
        json = CloseJson(issued_at)
        by_partition: dict[int, list[int]] = {}
        records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
        for index, timer in enumerate(timers):
            ticket_id = str(timer.ticket_id)
            command_id = close_command_id_text(ticket_id, timer.solve_id)
            key = ticket_id.encode()
            value = json.render(ticket_id, command_id, timer.solve_id)
            headers = [HEADERS_JSON, HEADERS_TYPE, ("command_id", command_id.encode())]
            records.append((key, value, headers))
            # aiokafka's default partitioner (as a per-message send would place it)
            partition = (
                partitions[0]
                if len(partitions) == 1
                else partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
            )
            by_partition.setdefault(partition, []).append(index)
        sends: list[tuple[list[int], Any]] = []
        for partition, indices in by_partition.items():
            sends += await self._send_partition(partition, indices, records)
        results = await asyncio.gather(*(future for _, future in sends), return_exceptions=True)
        confirmed = [False] * len(timers)
        failures: list[BaseException] = []
        for (indices, _), result in zip(sends, results, strict=True):
            if isinstance(result, BaseException):
                failures.append(result)
                continue
            for index in indices:
                confirmed[index] = True
        if failures:
            obs.log.warning(
                "close_publish_errors",
                count=confirmed.count(False),
                first=repr(failures[0]),
            )
        return confirmed

    async def _send_partition(
        self,
        partition: int,
        indices: list[int],
        records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]],
    ) -> list[tuple[list[int], Any]]:
        """Queue the records as record batches of ``max_batch_size``; (the record indices,
        the future of the batch's ack) per batch. A batch that could not be queued has a
        failed future: its records count as not confirmed."""
        producer = self.producer
        sends: list[tuple[list[int], Any]] = []

        async def send(batch: Any, in_batch: list[int]) -> None:
            batch.close()
            try:
                future = await producer.send_batch(batch, self.topic, partition=partition)
            except Exception as error:
                future = asyncio.get_running_loop().create_future()
                future.set_exception(error)
            sends.append((in_batch, future))

        batch = producer.create_batch()
        in_batch: list[int] = []
        for index in indices:
            key, value, headers = records[index]
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                if in_batch:
                    await send(batch, in_batch)
                batch, in_batch = producer.create_batch(), []
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    failed = asyncio.get_running_loop().create_future()
                    failed.set_exception(ValueError("close command larger than a record batch"))
                    sends.append(([index], failed))
                    batch, in_batch = producer.create_batch(), []
                    continue
            in_batch.append(index)
        if in_batch:
            await send(batch, in_batch)
        return sends
