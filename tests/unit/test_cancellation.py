"""Every long-running loop stops when cancelled, wherever the cancel lands.

On Python 3.11, ``asyncio.wait_for`` returns the awaited call's result instead of raising
when a cancel arrives just as that call finishes (gh-86296). A loop waiting for its wake-up
with it ran on after ``task.cancel()``, and the shutdown that awaited it hung for good:
CI lost a run to a webhook dispatcher that never stopped. Ruff bans ``asyncio.wait_for``
(TID251); these tests land a cancel at each step after a wake-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from services.closer_worker.application.firing import sleep_unless
from services.outbound_mail.application.delivery import Delivery, DeliveryPolicy
from services.webhooks.application.dispatcher import Dispatcher, DispatchPolicy

STEPS = range(8)
"""Loop iterations between the wake-up and the cancel: the race is in the first few."""


class _NoWebhooks:
    def settle_and_claim(self, *args: object) -> list[object]:
        return []

    def backlog(self) -> dict[str, int]:
        return {}


class _NoSender:
    async def close(self) -> None:
        return None


class _NoMail:
    def pending_after(self, last: int, limit: int) -> list[object]:
        return []


async def stops_when_cancelled(
    loop: Coroutine[Any, Any, None], wake: Callable[[], None], steps: int
) -> bool:
    task = asyncio.create_task(loop)
    await asyncio.sleep(0.05)  # waiting for its wake-up by now
    wake()
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    return bool(done)


@pytest.mark.parametrize("steps", STEPS)
def test_the_webhook_dispatcher_stops(steps: int) -> None:
    async def main() -> bool:
        policy = DispatchPolicy(owner="t", poll_seconds=30)
        dispatcher = Dispatcher(_NoWebhooks(), _NoSender(), policy)  # type: ignore[arg-type]
        return await stops_when_cancelled(dispatcher.run(), dispatcher.wake, steps)

    assert asyncio.run(main())


@pytest.mark.parametrize("steps", STEPS)
def test_the_outbound_mail_delivery_loop_stops(steps: int) -> None:
    async def main() -> bool:
        policy = DeliveryPolicy(sender="s@example.com", concurrency=1, idle_poll_seconds=30)
        delivery = Delivery(_NoMail(), lambda: None, policy)  # type: ignore[arg-type, return-value]
        return await stops_when_cancelled(delivery.run(), delivery.wake, steps)

    assert asyncio.run(main())


@pytest.mark.parametrize("steps", STEPS)
def test_the_closers_pause_stops(steps: int) -> None:
    async def main() -> bool:
        stop = asyncio.Event()

        async def pauses() -> None:
            while True:
                await sleep_unless(stop, 30)
                stop.clear()

        return await stops_when_cancelled(pauses(), stop.set, steps)

    assert asyncio.run(main())


def test_a_cancelled_relay_store_call_ends_in_its_thread_before_the_cancel_goes_on() -> None:
    """Whoever stops the relay closes the store next: a call still running in its thread
    then used a closed SQLite connection (a segmentation fault in CI)."""
    import threading
    import time

    from services.ticket_service.adapters.kafka.relay import _in_thread

    ended = threading.Event()

    def slow_write() -> None:
        time.sleep(0.3)
        ended.set()

    async def main() -> bool:
        task = asyncio.create_task(_in_thread(slow_write))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ended.is_set()

    assert asyncio.run(main())
