"""Close commands onto ``helpdesk.ticket-commands`` (key: ticket id), acks=all.

A plain aiokafka producer (:func:`services.kafka_setup.make_producer`): a batch of commands
is sent at once (aiokafka packs them into record batches) and then every ack is awaited.
FastStream's per-message publish path costs more CPU than the whole rest of a close, and
the closer needs none of its features here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from contracts.commands import CloseTicket
from services.closer_worker import observability as obs
from services.kafka_setup import make_producer
from services.settings import Settings

CLIENT_ID = "helpdesk-closer"
HEADERS_TYPE = ("command_type", b"CloseTicket")
HEADERS_JSON = ("content-type", b"application/json")


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

    async def publish_closes(self, commands: Sequence[CloseTicket]) -> list[bool]:
        futures = []
        for command in commands:
            headers = [HEADERS_JSON, HEADERS_TYPE, ("command_id", str(command.command_id).encode())]
            try:
                future = await self.producer.send(
                    self.topic,
                    command.model_dump_json().encode(),
                    key=str(command.ticket_id).encode(),
                    headers=headers,
                )
            except Exception as error:  # not sent at all: counted as not confirmed
                loop_future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
                loop_future.set_exception(error)
                future = loop_future
            futures.append(future)
        results = await asyncio.gather(*futures, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            obs.log.warning("close_publish_errors", count=len(failures), first=repr(failures[0]))
        return [not isinstance(r, BaseException) for r in results]
