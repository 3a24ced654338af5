"""The fault scheduler: every few seconds, kill -9 a random part and start it again.

Parts: the five services, the broker and Redis; ``redis-flush`` is a FLUSHALL without a
kill. The broker is memory-only, so a kill loses every topic's records, the unconsumed
commands and the consumer groups' offsets. The relay does not notice that it should publish
the history again (it only republishes a page it was sending when it sees offsets go back),
so after a broker restart the scheduler does what ``make run`` does for a fresh embedded
broker: the worker is restarted with a new relay name, which publishes the whole history
from the store (``recovery="republish"``; ``"none"`` leaves it to the system).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import redis

from soak.stack import Stack

PARTS = ("http", "worker", "closer", "email", "mail", "broker", "redis", "redis-flush")
Recovery = Literal["republish", "none"]


@dataclass
class Fault:
    part: str
    at: float
    """Wall-clock time of the kill (or the FLUSHALL)."""
    back_at: float | None = None
    error: str | None = None


@dataclass
class FaultScheduler:
    stack: Stack
    stop: threading.Event
    interval: tuple[float, float] = (3.0, 6.0)
    downtime: tuple[float, float] = (0.0, 2.0)
    recovery: Recovery = "republish"
    seed: int = 0
    faults: list[Fault] = field(default_factory=list)
    store_head: Callable[[], int] | None = None
    broker_kills: list[float] = field(default_factory=list)
    republished_after: int = 0
    """The topic holds every event stored after this notification id: 0 when each broker
    restart republishes the history; else the store's head right after the last kill."""

    def run(self) -> None:
        rng = random.Random(self.seed)
        while not self.stop.wait(rng.uniform(*self.interval)):
            part = rng.choice(PARTS)
            fault = Fault(part, time.time())
            self.faults.append(fault)
            try:
                self._inject(part, rng.uniform(*self.downtime))
            except Exception as error:  # a part that will not come back is a finding
                fault.error = f"{type(error).__name__}: {error}"
            fault.back_at = time.time()

    def _inject(self, part: str, downtime: float) -> None:
        if part == "redis-flush":
            client = redis.Redis.from_url(self.stack.env["HELPDESK_REDIS_URL"])
            try:
                client.flushall()
            finally:
                client.close()
            return
        process = self.stack.all_parts()[part]
        process.kill()
        if part == "broker":
            self.broker_kills.append(time.time())
            if self.recovery == "none" and self.store_head is not None:
                self.republished_after = self.store_head()
        time.sleep(downtime)
        process.start()
        if part == "broker" and self.recovery == "republish":
            worker = self.stack.parts["worker"]
            worker.kill()
            self.stack.new_relay_name()
            worker.start()

    def by_part(self) -> Counter[str]:
        return Counter(f.part for f in self.faults)
