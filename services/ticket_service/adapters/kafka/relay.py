"""The outbox relay: publishes the event store's notification log to the events topic.

The store is the source of truth. The relay reads the log in pages after its recorded
position, maps each stored event to its public envelope (``to_envelope``), publishes the page
(acks=all; one record batch per partition at a time, so a retried page can never land
behind a later one), waits for delivery, and only then records the page's last position.
A crash between publish and record republishes that page: at-least-once, never a gap.

It wakes when the application saves (``add_saved_listener``) or another process signals a
save (:mod:`~services.ticket_service.adapters.saved_signal`: PostgreSQL ``LISTEN``, a Unix
datagram socket next to a SQLite file), and otherwise polls slowly;
broker and store outages are retried with backoff, forever. Only the holder of the relay
lease (:mod:`.lease`) publishes: a second relay on the store stands by and takes over
when the holder dies. A record that can never be
published as it is (larger than the producer's batch limit, or refused by the broker as
too large) is parked in the store instead (:mod:`.parked`), logged and counted, and the
relay goes on: one bad record never stalls the events behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.partitioner import murmur2
from eventsourcing.persistence import JSONTranscoder, PersistenceError

from services.kafka_setup import MAX_REQUEST_BYTES, ensure_topics, make_producer, partitioned
from services.operator_errors import MissingSetting
from services.settings import Settings
from services.ticket_service.adapters.kafka.backoff import backoff_delay
from services.ticket_service.adapters.kafka.event_records import EventRecord, event_record
from services.ticket_service.adapters.kafka.lease import RelayLease
from services.ticket_service.adapters.kafka.parked import ParkedStore, describe, record_size
from services.ticket_service.adapters.kafka.position import RelayPosition
from services.ticket_service.adapters.metrics import RELAY_EVENTS, RELAY_LAG, RELAY_PARKED
from services.ticket_service.adapters.saved_signal import listen_for_saves
from services.ticket_service.application.context import utcnow
from services.ticket_service.application.envelopes import (
    RECEIPT_EVENT_NAME,
    may_have_envelope,
    to_envelope,
)
from services.ticket_service.application.tickets import TicketApplication

log = logging.getLogger(__name__)

MAX_BATCH_BYTES = MAX_REQUEST_BYTES - 100_000
"""Below the producer's batch limit (the broker's default 1 MiB message limit): one request
carries ~1,500 events."""
CLIENT_ID = "helpdesk-relay"
REFUSED_AS_TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
"""Broker answers that no retry can change: the batch (or its record) is too large."""


@dataclass(frozen=True)
class Page:
    last_id: int
    """Notification id of the page's last stored event (published or internal)."""
    records: list[EventRecord]
    head: int = 0
    """The newest notification id in the store when the page was read (for the lag)."""


class RelayStopped(RuntimeError):
    """Waited for a position the relay will not reach: it has stopped."""


class LeaseLost(RuntimeError):
    """The relay lease can no longer be vouched for: another relay may take over."""


class TopicReset(KafkaError):
    """The partition's offsets went backwards since our last publish."""


def _append(batch: Any, record: EventRecord) -> bool:
    appended = batch.append(
        key=record.key, value=record.value, timestamp=None, headers=record.headers
    )
    return appended is not None


class EventRelay:
    """Run with ``await relay.run()`` (normally as a task; cancel it to stop).

    ``record_position`` replaces the durable record step (tests crash it on purpose).
    """

    def __init__(
        self,
        app: TicketApplication,
        settings: Settings,
        *,
        name: str | None = None,
        page_size: int = 1000,
        poll_interval: float | None = None,
        record_position: Callable[[int], None] | None = None,
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        if not settings.kafka_bootstrap:
            raise MissingSetting("the outbox relay", "HELPDESK_KAFKA_BOOTSTRAP")
        self.app = app
        self.settings = settings
        self.topic = settings.topic_events
        self.page_size = page_size
        self.poll_interval = poll_interval or settings.relay_poll_interval
        self.position = RelayPosition(app, name or settings.relay_name)
        self.parked = ParkedStore(app, name or settings.relay_name)
        self.lease = RelayLease(dict(app.env), name or settings.relay_name)
        """Only its holder publishes: a second relay on the store stands by."""
        self.max_record_bytes = settings.relay_max_record_bytes
        self._record = record_position or self.position.record
        self._producer_factory = producer_factory or (
            lambda: make_producer(settings, client_id=CLIENT_ID)
        )
        mapper = app.mapper
        self._plain_json = (
            mapper.cipher is None
            and mapper.compressor is None
            and isinstance(mapper.transcoder, JSONTranscoder)
        )
        """Stored states are plain JSON: a receipt's outcome can be read without decoding
        the event."""
        self._published_up_to = 0
        self._progress = asyncio.Condition()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self._producer: AIOKafkaProducer | None = None
        self._last_offsets: dict[int, int] = {}
        self.published_events = 0
        """Records sent (including republished ones): for benchmarks and logs."""
        self.parked_events = 0
        """Records parked by this relay (see :mod:`.parked`)."""

    # ---- for callers that need to know what is on the topic ----------------------------

    @property
    def published_up_to(self) -> int:
        """The last notification id published and recorded by this relay."""
        return self._published_up_to

    @property
    def producing(self) -> bool:
        """Connected to the broker and publishing (the worker's readiness check)."""
        return self._producer is not None and not self._stopped

    async def wait_published(self, notification_id: int) -> None:
        """Return once every event up to ``notification_id`` is published and recorded.
        Raises :class:`RelayStopped` if the relay stops first."""
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._published_up_to >= notification_id or self._stopped
            )
        if self._published_up_to < notification_id:
            raise RelayStopped(f"relay stopped at {self._published_up_to} < {notification_id}")

    async def wait_caught_up(self) -> None:
        """Return once everything stored so far is published."""
        head = await _in_thread(self.app.recorder.max_notification_id)
        await self.wait_published(head or 0)

    def wake(self) -> None:
        """Thread-safe: something was saved, look now."""
        loop = self._loop
        if loop is None or self._stopped:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(self._wake.set)

    # ---- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.app.add_saved_listener(self.wake)
        listener = asyncio.create_task(listen_for_saves(dict(self.app.env), self.wake))
        try:
            await self.lease.acquire()
            position = await self._retry_store(self.position.get)
            await self._advance(position)
            self._producer = await self._start_producer()
            try:
                await self._relay_from(position)
            finally:
                await self._stop_producer()
        finally:
            self._stopped = True
            await self.lease.release()
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            with contextlib.suppress(RuntimeError):  # the loop is going away
                async with self._progress:
                    self._progress.notify_all()

    async def _relay_from(self, position: int) -> None:
        while True:
            self._wake.clear()
            page = await self._retry_store(self._read_page, position)
            if page is None:
                RELAY_LAG.set(0)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()
                continue
            if await self.lease.lost():
                raise LeaseLost(f"relay {self.lease.relay_name}: lost the lease; stopping")
            if page.records:
                await self._publish_until_delivered(page.records)
            await self._record_position(page.last_id)
            position = page.last_id
            await self._advance(position)
            RELAY_LAG.set(max(0, page.head - position))

    def _read_page(self, after: int) -> Page | None:
        """The page after ``after``: the stored events that have an envelope, mapped to
        records. Stored events that cannot have one (snapshots, accepted receipts: half
        the log of a command intake) are skipped without being decoded."""
        notifications = self.app.recorder.select_notifications(
            start=after + 1, limit=self.page_size
        )
        if not notifications:
            return None
        head = self.app.recorder.max_notification_id() or notifications[-1].id
        records = []
        to_domain_event = self.app.mapper.to_domain_event
        for notification in notifications:
            name = notification.topic.rpartition(":")[2]
            outcome = None
            if name == RECEIPT_EVENT_NAME and self._plain_json:
                outcome = orjson.loads(notification.state).get("outcome")
            if not may_have_envelope(name, outcome):
                continue
            envelope = to_envelope(to_domain_event(notification))
            if envelope is not None:
                records.append(event_record(envelope))
        return Page(last_id=notifications[-1].id, records=records, head=head)

    async def _record_position(self, notification_id: int) -> None:
        await self._retry_store(self._record, notification_id)

    async def _advance(self, position: int) -> None:
        async with self._progress:
            self._published_up_to = position
            self._progress.notify_all()

    # ---- Kafka -------------------------------------------------------------------------

    async def _start_producer(self) -> AIOKafkaProducer:
        attempt = 0
        while True:
            producer = self._producer_factory()
            try:
                await producer.start()
                return producer
            except KafkaError as error:
                attempt += 1
                await producer.stop()
                delay = backoff_delay(attempt)
                log.warning("relay: broker unavailable (%s); retry in %.1fs", error, delay)
                await asyncio.sleep(delay)

    async def _stop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(KafkaError, TimeoutError):
                async with asyncio.timeout(10):
                    await producer.stop()

    async def _publish_until_delivered(self, records: list[EventRecord]) -> None:
        """Publish the page; on any failure start over with a fresh producer (fresh
        metadata, topics re-ensured) and republish the whole page."""
        attempt = 0
        while True:
            try:
                assert self._producer is not None
                await self._publish(self._producer, records)
                self.published_events += len(records)
                RELAY_EVENTS.inc(len(records))
                return
            except KafkaError as error:
                attempt += 1
                delay = backoff_delay(attempt)
                log.warning(
                    "relay: publishing %d events failed (%r); retry in %.1fs",
                    len(records),
                    error,
                    delay,
                )
                await self._stop_producer()
                self._last_offsets.clear()
                await asyncio.sleep(delay)
                with contextlib.suppress(KafkaError, OSError):
                    await ensure_topics(
                        str(self.settings.kafka_bootstrap), partitioned(self.settings, self.topic)
                    )
                self._producer = await self._start_producer()

    async def _publish(self, producer: AIOKafkaProducer, records: list[EventRecord]) -> None:
        partitions = sorted(await producer.partitions_for(self.topic))
        by_partition: dict[int, list[EventRecord]] = {}
        if len(partitions) == 1:
            by_partition[partitions[0]] = records
        else:
            of_key: dict[bytes, int] = {}  # aiokafka's default partitioner, once per ticket
            for record in records:
                partition = of_key.get(record.key)
                if partition is None:
                    hashed = murmur2(record.key) & 0x7FFFFFFF
                    partition = of_key[record.key] = partitions[hashed % len(partitions)]
                by_partition.setdefault(partition, []).append(record)
        results = await asyncio.gather(
            *(self._publish_partition(producer, p, rs) for p, rs in by_partition.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _publish_partition(
        self, producer: AIOKafkaProducer, partition: int, records: list[EventRecord]
    ) -> None:
        """One batch in flight per partition: a failed batch is never overtaken."""
        batch = producer.create_batch()
        in_batch: list[EventRecord] = []
        for record in records:
            size = record_size(record)
            if size > self.max_record_bytes:
                await self._park(
                    record, f"{size} bytes: above the relay's limit of {self.max_record_bytes}"
                )
                continue
            if not _append(batch, record):
                if in_batch:
                    await self._send_batch(producer, batch, partition, in_batch)
                batch, in_batch = producer.create_batch(), []
                if not _append(batch, record):
                    await self._park(record, "larger than the producer's record batch limit")
                    continue
            in_batch.append(record)
        if in_batch:
            await self._send_batch(producer, batch, partition, in_batch)

    async def _send_batch(
        self, producer: AIOKafkaProducer, batch: Any, partition: int, records: list[EventRecord]
    ) -> None:
        """Send and wait; a batch the broker refuses as too large is sent again one record
        at a time, in order, and a single refused record is parked."""
        count = batch.record_count()
        batch.close()
        try:
            delivered = await producer.send_batch(batch, self.topic, partition=partition)
            metadata = await delivered
        except REFUSED_AS_TOO_LARGE as refused:
            if len(records) == 1:
                await self._park(records[0], f"refused by the broker: {refused!r}")
                return
            for record in records:
                single = producer.create_batch()
                if not _append(single, record):
                    await self._park(record, "larger than the producer's record batch limit")
                    continue
                await self._send_batch(producer, single, partition, [record])
            return
        last = self._last_offsets.get(partition)
        if last is not None and metadata.offset <= last:
            # Offsets only grow: the topic was recreated under us (a broker that lost its
            # data, e.g. in-memory Tansu restarted, may even acknowledge into the void).
            raise TopicReset(
                f"{self.topic}[{partition}] offset {metadata.offset} after {last}: "
                "topic was reset; republishing"
            )
        self._last_offsets[partition] = metadata.offset + count - 1

    async def _park(self, record: EventRecord, why: str) -> None:
        """Keep it in the store, say so, and go on without it."""
        parked = describe(record, why, utcnow())
        first_time = await self._retry_store(self.parked.park, parked)
        self.parked_events += 1
        if first_time:
            RELAY_PARKED.inc()
        log.error(
            "relay: parked %s %s (ticket %s, version %d, %d bytes): %s; "
            "see `helpdesk relay parked`",
            parked.event_type,
            parked.event_id,
            parked.ticket_id,
            parked.version,
            parked.size,
            why,
            extra={"event_id": parked.event_id, "ticket_id": parked.ticket_id},
        )

    # ---- store ---------------------------------------------------------------------------

    async def _retry_store(self, call: Callable[..., Any], *args: Any) -> Any:
        attempt = 0
        while True:
            try:
                return await _in_thread(call, *args)
            except PersistenceError as error:
                attempt += 1
                delay = backoff_delay(attempt)
                log.warning("relay: store unavailable (%s); retry in %.1fs", error, delay)
                await asyncio.sleep(delay)


async def _in_thread(call: Callable[..., Any], *args: Any) -> Any:
    """``asyncio.to_thread``, except that a cancelled caller waits for the call to end in
    its thread before the cancel goes on: whoever stops the relay closes the store next,
    and a SQLite connection closed under a running statement crashed the process (a
    segmentation fault in CI, the relay recording its position as its test ended)."""
    running = asyncio.ensure_future(asyncio.to_thread(call, *args))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait({running})
        raise
