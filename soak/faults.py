"""The fault scheduler: every few seconds, kill -9 a random part and start it again (each
part once per cycle, in a random order).

Parts: the six services, the broker and Redis; ``redis-flush`` is a FLUSHALL without a
kill. The broker is memory-only, so a kill loses every topic's records, the unconsumed
commands and the consumer groups' offsets. The relay does not notice that it should publish
the history again (it only republishes a page it was sending when it sees offsets go back),
so after a broker restart the scheduler does what ``make run`` does for a fresh embedded
broker: the worker is restarted with a new relay name, which publishes the whole history
from the store, and restarts the consumers, whose positions point into the lost topic
(``recovery="republish"``; ``"none"`` leaves it to the system). See docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import redis

from services.kafka_setup import ensure_topics, service_topics
from soak.stack import Stack

PARTS = ("http", "worker", "closer", "email", "mail", "webhooks", "broker", "redis", "redis-flush")
Recovery = Literal["republish", "none"]
CONSUMERS = ("worker", "closer", "email", "mail", "webhooks")
"""The parts that follow a topic (the worker also publishes: the relay)."""


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
    parts: tuple[str, ...] = PARTS
    say: Callable[[str], object] = print
    faults: list[Fault] = field(default_factory=list)
    store_head: Callable[[], int] | None = None
    broker_kills: list[float] = field(default_factory=list)
    broker_starts: list[float] = field(default_factory=list)
    on_broker_restart: Callable[[], None] = lambda: None
    """Called once the empty broker is up and its topics exist."""
    intake_down: list[tuple[float, float]] = field(default_factory=list)
    """(from, to) while the worker, whose intake applies the commands topic, was down."""
    republished_after: int = 0
    """The topic holds every event stored after this notification id: 0 when each broker
    restart republishes the history; else the store's head right after the last kill."""

    def run(self) -> None:
        rng = random.Random(self.seed)
        cycle: list[str] = []
        while not self.stop.wait(rng.uniform(*self.interval)):
            if not cycle:  # every part once per cycle, in a random order
                cycle = list(self.parts)
                rng.shuffle(cycle)
            part = cycle.pop()
            fault = Fault(part, time.time())
            self.faults.append(fault)
            try:
                self._inject(part, rng.uniform(*self.downtime))
            except Exception as error:  # a part that will not come back is a finding
                fault.error = f"{type(error).__name__}: {error}"
            fault.back_at = time.time()
            self.say(
                f"soak: fault {len(self.faults)}: {part}, back after "
                f"{fault.back_at - fault.at:.1f} s"
                + (f" ({fault.error[:200]})" if fault.error else "")
            )

    def _inject(self, part: str, downtime: float) -> None:
        if part == "redis-flush":
            client = redis.Redis.from_url(self.stack.env["HELPDESK_REDIS_URL"])
            try:
                client.flushall()
            finally:
                client.close()
        elif part == "broker":
            self._broker_fault(downtime)
        else:
            process = self.stack.all_parts()[part]
            down_from = time.time()
            process.kill()
            time.sleep(downtime)
            process.start()
            if part == "worker":
                self.intake_down.append((down_from, time.time()))

    def _broker_fault(self, downtime: float) -> None:
        """Kill the broker and bring an empty one back. With ``recovery="republish"``, what
        ``make run`` does with a fresh embedded broker: the worker and every consumer go
        down with it (a consumer left running keeps its position in the lost topic and skips
        that many records of the new one; a relay left running publishes its next events to
        the new topic ahead of the history), the topics are created before anyone produces,
        the worker starts with a new relay name (the whole history is published again) and
        the consumers start afresh (no committed offsets: from the beginning)."""
        followers = CONSUMERS if self.recovery == "republish" else ()
        self.stack.broker.kill()
        self.broker_kills.append(time.time())
        down_from = time.time()  # after the kill: what was queued before it is not excused
        for name in followers:
            self.stack.parts[name].kill()
        if self.recovery == "none" and self.store_head is not None:
            self.republished_after = self.store_head()
        time.sleep(downtime)
        self.stack.broker.start()
        asyncio.run(ensure_topics(self.stack.bootstrap, service_topics(self.stack.settings())))
        self.broker_starts.append(time.time())
        self.on_broker_restart()
        if followers:
            self.stack.new_relay_name()
        for name in followers:
            self.stack.parts[name].start()
            if name == "worker":
                self.intake_down.append((down_from, time.time()))

    def by_part(self) -> Counter[str]:
        return Counter(f.part for f in self.faults)
