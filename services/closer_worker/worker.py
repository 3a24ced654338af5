"""One closer worker: the FastStream Kafka consumer of ticket events, the firing loop and
the watchdog that rebuilds a lost Redis. Its broker, timer store, history and command
publisher are given to it (:mod:`services.closer_worker.bootstrap` builds them).

Any number of workers share one Redis and one consumer group: Kafka splits the event
partitions among them, and Redis leases split the due timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.closer_worker import observability as obs
from services.closer_worker.adapters.event_records import parse_record
from services.closer_worker.adapters.kafka_commands import KafkaCommandPublisher
from services.closer_worker.adapters.kafka_history import KafkaEventHistory
from services.closer_worker.adapters.redis_timer_store import RedisTimerStore
from services.closer_worker.application.firing import Firer, FiringPolicy, sleep_unless
from services.closer_worker.application.rebuild import RebuildResult, rebuild, rebuild_if_lost
from services.closer_worker.application.scheduling import apply_events
from services.closer_worker.config import CloserConfig

EVENTS_DESCRIPTION = (
    "The closer's view of the ticket events: a solve schedules a timer for the due time it "
    "carries; leaving solved or a TicketClosed cancels it. Consumer group shared by all "
    "closer workers; offsets committed after the timers are written to Redis."
)


async def _undecoded(message: object) -> None:
    """The handler parses the raw records itself; skip FastStream's JSON decoding."""
    return None


class CloserWorker:
    def __init__(
        self,
        *,
        broker: KafkaBroker,
        store: RedisTimerStore,
        history: KafkaEventHistory,
        publisher: KafkaCommandPublisher,
        events_topic: str,
        config: CloserConfig,
    ) -> None:
        self.config = config
        self.name = uuid.uuid4().hex[:8]
        self.broker = broker
        self.store = store
        self.history = history
        self.publisher = publisher
        self.firer = Firer(
            self.store,
            self.publisher,
            FiringPolicy(
                batch_size=config.batch_size,
                lease_seconds=config.lease_seconds,
                idle_poll_seconds=config.idle_poll_seconds,
                error_backoff_seconds=config.error_backoff_seconds,
            ),
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

        @self.broker.subscriber(
            events_topic,
            group_id=config.group_id,
            batch=True,
            max_records=config.consume_max_records,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_undecoded,
            session_timeout_ms=config.session_timeout_ms,
            heartbeat_interval_ms=config.heartbeat_interval_ms,
            title="closer:ticket-events",
            description=EVENTS_DESCRIPTION,
        )
        async def on_events(message: KafkaMessage) -> None:
            records = message.raw_message
            assert isinstance(records, tuple)
            events = [e for r in records if (e := parse_record(r.value, r.headers)) is not None]
            try:
                await apply_events(self.store, events)
            except Exception as error:
                # Redis unreachable: the batch is nacked and redelivered; do not spin.
                obs.log.error("apply_events_failed", error=repr(error), events=len(events))
                await asyncio.sleep(config.error_backoff_seconds)
                raise

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, join the consumer group, and start firing and watching."""
        await self.broker.start()
        await self.start_background()

    async def start_background(self) -> None:
        await self.publisher.start()
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.firer.run(self._stop), name=f"closer-{self.name}-fire-{n}")
            for n in range(max(1, self.config.fire_concurrency))
        ]
        self._tasks.append(
            asyncio.create_task(self._watch_store(), name=f"closer-{self.name}-watch")
        )
        obs.log.info("closer_started", worker=self.name, group=self.config.group_id)

    async def stop(self) -> None:
        await self.stop_background()
        await self.broker.stop()
        await self.store.close()

    async def stop_background(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.publisher.stop()
        obs.log.info("closer_stopped", worker=self.name, closes=self.firer.closes_published)

    async def __aenter__(self) -> CloserWorker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- rebuild -----------------------------------------------------------------------

    async def rebuild(self) -> RebuildResult:
        return await rebuild(
            self.store, self.history, lock_seconds=self.config.rebuild_lock_seconds
        )

    async def _watch_store(self) -> None:
        """Rebuild on start and whenever Redis turns out to have lost the timers."""
        while not self._stop.is_set():
            try:
                await rebuild_if_lost(
                    self.store, self.history, lock_seconds=self.config.rebuild_lock_seconds
                )
            except Exception as error:
                obs.log.exception("rebuild_failed", error=repr(error))
            await sleep_unless(self._stop, self.config.rebuild_check_seconds)
