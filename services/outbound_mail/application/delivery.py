"""The delivery loop: every intent in the sent log not yet marked goes to the transport.

The sent-log protocol (issue #17): the planner records the intent — (event id, recipient,
Message-ID, the rendered bytes) — before anything is sent; a worker sends it and marks it
``sent`` after the relay's 250, or ``failed`` with the reason on a 5xx. Connection errors
and 4xx are retried with backoff (the same bytes, so the same Message-ID) until the relay
takes the mail or ``give_up_after`` has passed since the intent was recorded. On start the
loop re-sends every intent still pending: a sender killed between a 250 and its mark
sends that mail twice, with the same Message-ID, and nothing else is lost or repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.outbound_mail.application.ports import (
    Intent,
    NotificationStore,
    PermanentFailure,
    TemporaryFailure,
    Transport,
)
from services.outbound_mail.domain.retry import retry_delay

log = logging.getLogger("helpdesk.outbound_mail")


@dataclass
class DeliveryPolicy:
    sender: str
    concurrency: int = 4
    """Workers, each with its own transport (one SMTP connection each). A ticket's mails
    all go through one worker (by ticket number), so they leave in the order planned."""
    retry_max_seconds: float = 30.0
    give_up_after: float = 86400.0
    idle_poll_seconds: float = 1.0
    page: int = 200


@dataclass
class Delivery:
    store: NotificationStore
    transports: Callable[[], Transport]
    policy: DeliveryPolicy
    count: Callable[[str], None] = lambda outcome: None
    observe: Callable[[float, float], None] = lambda send_seconds, lag_seconds: None
    """Called per mail sent with the SMTP transaction's duration and the time since its
    intent was recorded."""
    clock: Callable[[], float] = time.time
    sent: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _queues: list[asyncio.Queue[Intent]] = field(default_factory=list)
    _busy: int = 0

    def wake(self) -> None:
        self._wake.set()

    @property
    def idle(self) -> bool:
        """Nothing queued or being sent (new intents may still be in the store)."""
        return all(q.empty() for q in self._queues) and self._busy == 0

    async def run(self) -> None:
        """Dispatch until cancelled."""
        self._queues = [asyncio.Queue(maxsize=64) for _ in range(max(1, self.policy.concurrency))]
        workers = [
            asyncio.create_task(self._worker(queue), name=f"outbound-mail-send-{n}")
            for n, queue in enumerate(self._queues)
        ]
        try:
            await self._dispatch()
        finally:
            for task in workers:
                task.cancel()
            for task in workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _dispatch(self) -> None:
        last = 0
        while True:
            self._wake.clear()
            try:
                page = self.store.pending_after(last, self.policy.page)
            except Exception:
                log.exception("reading the sent log failed; retrying")
                page = []
            for intent in page:
                await self._queues[intent.ticket_number % len(self._queues)].put(intent)
                last = max(last, intent.seq)
            if len(page) < self.policy.page:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.policy.idle_poll_seconds):
                        await self._wake.wait()

    async def _worker(self, queue: asyncio.Queue[Intent]) -> None:
        transport = self.transports()
        try:
            while True:
                intent = await queue.get()
                self._busy += 1
                try:
                    await self._deliver(transport, intent)
                finally:
                    self._busy -= 1
                    queue.task_done()
        finally:
            await transport.close()

    async def _deliver(self, transport: Transport, intent: Intent) -> None:
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                reply = await transport.send(self.policy.sender, intent.recipient, intent.raw)
            except PermanentFailure as error:
                await self._mark(self.store.mark_failed, intent, str(error))
                self.count("failed")
                log.warning(
                    "notification refused",
                    extra={"message_id": intent.message_id, "reason": str(error)},
                )
                return
            except TemporaryFailure as error:
                if self.clock() - intent.created_at > self.policy.give_up_after:
                    await self._mark(self.store.mark_failed, intent, f"gave up: {error}")
                    self.count("failed")
                    return
                self.count("retried")
                delay = retry_delay(attempt, cap=self.policy.retry_max_seconds)
                log.info(
                    "relay unavailable; retrying",
                    extra={"message_id": intent.message_id, "error": str(error), "in": delay},
                )
                await asyncio.sleep(delay)
                continue
            await self._mark(self.store.mark_sent, intent, reply)
            self.sent += 1
            self.count("sent")
            self.observe(time.monotonic() - started, self.clock() - intent.created_at)
            return

    async def _mark(self, mark: Callable[[Intent, str], None], intent: Intent, text: str) -> None:
        """Mark, retrying a store that is briefly locked: the mark is what keeps the mail
        from being sent again."""
        for attempt in range(1, 50):
            try:
                mark(intent, text)
                return
            except Exception:
                log.exception("recording a send failed; retrying")
                await asyncio.sleep(min(1.0, 0.05 * attempt))
        mark(intent, text)
