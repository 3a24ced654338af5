"""The dispatcher: claims deliveries from the store, sends them through per-endpoint
queues, and records the outcomes.

One *round* is one store transaction: it records the attempts finished since the last
round and claims (leases) the next deliveries. A round runs when the ready deliveries of an
endpoint fall to half of what it may hold, when the consumer recorded new ones, or every
``poll_seconds``; attempts that finish while a round runs are recorded by the next one, so
the store sees few, large transactions and the queues do not run dry behind it.

Each endpoint has its own queue and at most ``per_endpoint`` requests in flight, and may
hold at most ``4 · per_endpoint`` claimed deliveries: a slow endpoint fills its own queue
and is left out of the claims, never delaying another. Several dispatchers (processes) may
share one store: a claim is a lease, and an expired lease (its process died) makes the
delivery claimable again — the receiver may then see it twice, with the same
``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.webhooks.application.ports import Answer, Claimed, Sender, Settled, WebhookStore
from services.webhooks.application.signing import signed_headers
from services.webhooks.domain.retry import RetrySchedule, judge, parse_retry_after

log = logging.getLogger("helpdesk.webhooks.dispatcher")


@dataclass(frozen=True)
class DispatchPolicy:
    owner: str
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    per_endpoint: int = 8
    ready_limit: int = 512
    lease_seconds: float = 60.0
    poll_seconds: float = 0.25
    disable_after: float = 3 * 86400.0

    @property
    def attempt_seconds(self) -> float:
        """The most one attempt may take, whole (the sender's timeouts bound each read,
        not the request: a receiver dribbling bytes could hold it for days). With a third
        of the lease, an attempt started in time always ends before the lease does, so a
        second dispatcher round never sends the same delivery while it is still open."""
        return self.lease_seconds / 3


def _nothing(*args: object) -> None:
    return None


class Dispatcher:
    def __init__(
        self,
        store: WebhookStore,
        sender: Sender,
        policy: DispatchPolicy,
        *,
        count: Callable[[str], None] = _nothing,
        observe_latency: Callable[[float], None] = _nothing,
        on_backlog: Callable[[dict[str, int]], None] = _nothing,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.sender = sender
        self.policy = policy
        self._count = count
        self._observe = observe_latency
        self._on_backlog = on_backlog
        self._jitter = jitter
        self._clock = clock
        self._wake = asyncio.Event()
        self._settled: list[Settled] = []
        self._held: dict[str, int] = {}
        self._leased_until: dict[str, float] = {}
        self._queues: dict[str, asyncio.Queue[Claimed]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._backlog_at = 0.0
        self._recording = False
        self.rounds = 0

    @property
    def room(self) -> int:
        """Claimed deliveries one endpoint may hold (queued or in flight)."""
        return 4 * self.policy.per_endpoint

    @property
    def idle(self) -> bool:
        return not self._settled and not self._recording and not any(self._held.values())

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.policy.poll_seconds):
                        await self._wake.wait()
                self._wake.clear()
                await self.round()
        finally:
            for task in self._workers:
                task.cancel()
            for task in self._workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.sender.close()

    async def round(self) -> int:
        """Record what finished, claim what is due; returns how many were claimed."""
        settled, self._settled = self._settled, []
        held = sum(self._held.values())
        room = {w: self.room - n for w, n in self._held.items()}
        exclude = [w for w, left in room.items() if left <= 0]
        self._recording = bool(settled)
        claimed_at = self._clock()
        try:
            claimed = await asyncio.to_thread(
                self.store.settle_and_claim,
                settled,
                self.policy.owner,
                claimed_at,
                max(0, self.policy.ready_limit - held),
                exclude,
                self.policy.lease_seconds,
                self.policy.disable_after,
                self.room,
                room,
            )
        except Exception:
            log.exception("webhook store round failed; trying again")
            self._settled[:0] = settled
            await asyncio.sleep(1.0)
            return 0
        finally:
            self._recording = False
        self.rounds += 1
        for s in settled:
            self._count(s.status if s.status != "pending" else "retried")
        for delivery in claimed:
            self._leased_until[delivery.id] = claimed_at + self.policy.lease_seconds
            self._held[delivery.webhook_id] = self._held.get(delivery.webhook_id, 0) + 1
            self._queue(delivery.webhook_id).put_nowait(delivery)
        now = time.monotonic()
        if now - self._backlog_at > 5.0:
            self._backlog_at = now
            with contextlib.suppress(Exception):
                self._on_backlog(await asyncio.to_thread(self.store.backlog))
        return len(claimed)

    def _queue(self, webhook_id: str) -> asyncio.Queue[Claimed]:
        queue = self._queues.get(webhook_id)
        if queue is None:
            queue = self._queues[webhook_id] = asyncio.Queue()
            for n in range(self.policy.per_endpoint):
                self._workers.append(
                    asyncio.create_task(self._work(webhook_id, queue), name=f"webhook-{n}")
                )
        return queue

    async def _work(self, webhook_id: str, queue: asyncio.Queue[Claimed]) -> None:
        while True:
            delivery = await queue.get()
            try:
                leased_until = self._leased_until.pop(delivery.id, float("inf"))
                if self._clock() + self.policy.attempt_seconds > leased_until:
                    # waited too long behind slow attempts: the lease may pass mid-send
                    # and another round claim it again; let it expire and be claimed anew
                    log.info("delivery %s: lease too short to send; left to expire", delivery.id)
                    continue
                outcome = await self.attempt(delivery)
                self._settled.append(outcome)  # the list of now: a round may swap it
            except Exception:  # the lease expires and the delivery is tried again
                log.exception("attempt at %s failed unexpectedly", delivery.id)
            finally:
                left = self._held[webhook_id] = self._held[webhook_id] - 1
                if left <= self.room // 2:
                    self._wake.set()

    async def attempt(self, delivery: Claimed) -> Settled:
        at = self._clock()
        headers = signed_headers(delivery.id, delivery.secrets, delivery.body, at)
        try:
            async with asyncio.timeout(self.policy.attempt_seconds):
                answer = await self.sender.send(delivery.url, headers, delivery.body)
        except TimeoutError:
            answer = Answer(
                None,
                self._clock() - at,
                f"timed out: no whole answer within {self.policy.attempt_seconds:g} s",
            )
        except Exception as error:  # a bug in the sender must not lose the delivery
            log.exception("sending %s failed unexpectedly", delivery.id)
            answer = Answer(None, 0.0, f"internal error: {type(error).__name__}")
        now = self._clock()
        verdict = judge(
            status=answer.status,
            failures=delivery.attempts + 1,
            now=now,
            expires_at=delivery.expires_at,
            schedule=self.policy.schedule,
            jitter=self._jitter(),
            retry_after=parse_retry_after(answer.retry_after, now),
        )
        if verdict.status == "delivered":
            self._observe(max(0.0, now - delivery.event_at))
        return Settled(
            delivery_id=delivery.id,
            webhook_id=delivery.webhook_id,
            attempt_at=at,
            answer=answer,
            status=verdict.status,
            next_attempt_at=verdict.next_attempt_at,
        )

    async def until_idle(self, poll: float = 0.02) -> None:
        """Wait until this dispatcher holds nothing unrecorded (tests and the bench)."""
        while True:
            if self.idle:
                break
            self.wake()
            await asyncio.sleep(poll)
