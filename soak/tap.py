"""A witness on the commands topic: reads it from the beginning during the whole run (no
consumer group) and notes when each marker was first seen, so that a command with no effect
can be told apart: on the topic and not applied (the intake), or never on it (the broker)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from soak.ledger import MARKER


class CommandTap:
    def __init__(self, bootstrap: str, topic: str, partitions: int, stop: threading.Event):
        self.bootstrap, self.topic, self.partitions, self.stop = bootstrap, topic, partitions, stop
        self.seen: dict[str, float] = {}
        self._reset = threading.Event()

    def reset(self) -> None:
        """The broker came back empty: read the new topic from its beginning (a consumer
        left as it is would go on from its old offsets)."""
        self._reset.set()

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        while not self.stop.is_set():
            self._reset.clear()
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False
            )
            try:
                await consumer.start()
                partitions = [TopicPartition(self.topic, p) for p in range(self.partitions)]
                consumer.assign(partitions)
                await consumer.seek_to_beginning(*partitions)
                while not self.stop.is_set() and not self._reset.is_set():
                    batches = await consumer.getmany(timeout_ms=300)
                    now = time.time()
                    for records in batches.values():
                        for record in records:
                            text = (record.value or b"").decode(errors="replace")
                            for marker in MARKER.findall(text):
                                self.seen.setdefault(marker, now)
            except (KafkaError, OSError):
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(KafkaError, OSError):
                    await consumer.stop()
