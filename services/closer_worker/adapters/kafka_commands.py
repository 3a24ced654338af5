"""Close commands onto ``helpdesk.ticket-commands`` (key: ticket id), through the worker's
FastStream Kafka broker, whose producer waits for ``acks=all``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from contracts.commands import CloseTicket
from services.closer_worker import observability as obs


class KafkaCommandPublisher:
    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    async def publish_closes(self, commands: Sequence[CloseTicket]) -> list[bool]:
        """Send all at once (aiokafka batches them), then wait for every ack."""
        futures = [
            await self.broker.publish(
                command.model_dump_json().encode(),
                self.topic,
                key=str(command.ticket_id).encode(),
                headers={
                    "content-type": "application/json",
                    "command_type": command.command_type,
                    "command_id": str(command.command_id),
                },
                correlation_id=command.correlation_id,
                no_confirm=True,
            )
            for command in commands
        ]
        results = await asyncio.gather(*futures, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            obs.log.warning("close_publish_errors", count=len(failures), first=repr(failures[0]))
        return [not isinstance(r, BaseException) for r in results]
