"""Group commit: commands submitted concurrently (HTTP requests) handed to the message bus
together, so they share store transactions.

One writer thread takes what has queued up and runs it as one batch
(:meth:`MessageBus.handle_batch`, which keeps each command's own outcome); while it saves,
new submissions queue up and become the next batch. Under load several requests share a
transaction and no request waits for a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.ticket_service.application.messagebus import MessageBus, Outcome, Submission

MAX_GROUP = 64


@dataclass(eq=False)
class _Waiting:
    submission: Submission
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Outcome]


class GroupCommitter:
    """``on_commit`` is told the number of commands of each transaction."""

    def __init__(
        self,
        bus: MessageBus,
        *,
        max_group: int = MAX_GROUP,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.bus = bus
        self.max_group = max_group
        self.on_commit = on_commit
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._lock = threading.Lock()
        """Guards starting and stopping the writer, so that no submission is queued
        behind the stop marker of a writer that is going away."""

    async def submit(self, submission: Submission) -> Outcome:
        """The command's outcome, once the batch it joined is stored."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(submission, loop, loop.create_future())
        with self._lock:
            closing = self._closing
            if not closing:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._serve, name="group-commit", daemon=True
                    )
                    self._thread.start()
                self._queue.put(waiting)
        if closing:  # shutting down: no group, the command on its own
            return await asyncio.to_thread(self.bus.handle, submission)
        return await waiting.future

    @property
    def queued(self) -> int:
        """Submissions waiting for the writer (approximate while it drains)."""
        return self._queue.qsize()

    def close(self) -> None:
        """Stop the writer thread after the queued commands (a later submission starts a
        new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._closing = True
            self._queue.put(None)
        thread.join()
        with self._lock:
            self._closing = False

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < self.max_group:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                group.append(nxt)
            try:
                outcomes = self.bus.handle_batch(
                    [w.submission for w in group], on_commit=self.on_commit
                )
            except BaseException as error:  # a store outage: every caller hears of it
                _resolve(group, error)
            else:
                _resolve(group, outcomes)
            if stop:
                return


def _resolve(group: Sequence[_Waiting], result: Sequence[Outcome] | BaseException) -> None:
    """Hand the outcomes back, one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Waiting, Outcome | BaseException]]] = {}
    for i, waiting in enumerate(group):
        answer = result if isinstance(result, BaseException) else result[i]
        by_loop.setdefault(waiting.loop, []).append((waiting, answer))
    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: Sequence[tuple[_Waiting, Outcome | BaseException]]) -> None:
    for waiting, answer in answers:
        if waiting.future.done():  # the request was cancelled
            continue
        if isinstance(answer, BaseException):
            waiting.future.set_exception(answer)
        else:
            waiting.future.set_result(answer)
