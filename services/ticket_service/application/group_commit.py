"""Group commit: operations submitted concurrently (HTTP requests) saved in one transaction.

One writer thread runs the operations. While it saves a group, new submissions queue up and
become the next group, so under load several commands share a transaction and no request
waits for a timer. Each operation keeps the outcome it would have had alone:

* an operation that raises is taken out of the group, the rest of the group is run again
  from scratch without it, and it is then run alone (its error, or its success, is exactly
  what a serial run gives);
* an operation that touches an aggregate an earlier operation of the same group already
  changed (two changes of one ticket, a repeated idempotency key) is also run alone, after
  the group, so every ticket returned by a group reflects only its own operation;
* when the group's save fails (a replayed idempotency key, a concurrent writer), every
  operation of the group is run alone.

"Run alone" means the caller's own single-command path (for instance
:meth:`TicketApplication.create_ticket`), in the same writer thread, after the group and in
submission order; a submission that finds no other waiting simply runs alone. Re-running an
operation is safe: operations build their changes from aggregates loaded afresh by the unit
of work, and nothing is saved until the group's save.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from services.ticket_service.application.tickets import Operation, TicketApplication
from services.ticket_service.application.unit_of_work import UnitOfWork

T = TypeVar("T")

MAX_GROUP = 64
MAX_ISOLATED_PER_GROUP = 4
"""After this many operations taken out of one group, the rest run alone too (bounds the
re-runs a group of failing operations costs)."""


class _TakenOut(Exception):
    """Operation ``index`` of the group must run alone."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


@dataclass(eq=False)
class _Submission(Generic[T]):
    op: Operation[T]
    alone: Callable[[], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]
    result: Any = None
    error: BaseException | None = None
    done: bool = field(default=False)


class GroupCommitter:
    """``on_commit`` is told the number of operations of each transaction (an operation
    run alone is a transaction of one, whatever its outcome)."""

    def __init__(
        self,
        app: TicketApplication,
        *,
        max_group: int = MAX_GROUP,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.app = app
        self.max_group = max_group
        self.on_commit = on_commit
        self._queue: queue.SimpleQueue[_Submission[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._lock = threading.Lock()
        """Guards starting and stopping the writer, so that no submission is queued
        behind the stop marker of a writer that is going away."""

    async def submit(self, op: Operation[T], alone: Callable[[], T]) -> T:
        """Run ``op`` in the next group; ``alone`` is the equivalent single-command call,
        used when ``op`` cannot share the group. Raises what ``alone`` would raise."""
        loop = asyncio.get_running_loop()
        submission = _Submission(op, alone, loop, loop.create_future())
        with self._lock:
            closing = self._closing
            if not closing:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._serve, name="group-commit", daemon=True
                    )
                    self._thread.start()
                self._queue.put(submission)
        if closing:  # shutting down: no group, the command on its own
            return await asyncio.to_thread(alone)
        return await submission.future

    @property
    def queued(self) -> int:
        """Submissions waiting for the writer (approximate while it drains)."""
        return self._queue.qsize()

    def close(self) -> None:
        """Stop the writer thread after the queued operations (a later submission starts
        a new one)."""
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
            group: list[_Submission[Any]] = [first]
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
                self.run_group(group)
            except BaseException as error:  # a bug here must not leave requests waiting
                for submission in group:
                    if not submission.done:
                        submission.error, submission.done = error, True
            _resolve(group)
            if stop:
                return

    def run_group(self, group: Sequence[_Submission[Any]]) -> None:
        """Run a group to completion: every submission ends with a result or an error."""
        pending = list(group)
        alone: list[_Submission[Any]] = []
        if len(pending) == 1:  # nothing to share a transaction with
            alone, pending = pending, []
        while pending:
            if len(alone) >= MAX_ISOLATED_PER_GROUP:
                alone.extend(pending)
                break
            try:
                results = self.app.run_batch([_guarded(i, s.op) for i, s in enumerate(pending)])
            except _TakenOut as taken:
                alone.append(pending.pop(taken.index))
                continue
            except Exception:
                alone.extend(pending)
                break
            for submission, result in zip(pending, results, strict=True):
                submission.result, submission.done = result, True
            self._committed(len(pending))
            break
        position = {submission: i for i, submission in enumerate(group)}
        for submission in sorted(alone, key=position.__getitem__):
            try:
                submission.result = submission.alone()
            except BaseException as error:  # handed to the caller, as a direct call would
                submission.error = error
            submission.done = True
            self._committed(1)

    def _committed(self, operations: int) -> None:
        if self.on_commit is not None:
            self.on_commit(operations)


def _guarded(index: int, op: Operation[T]) -> Operation[T]:
    """``op``, taken out of the group (:class:`_TakenOut`) if it raises or changes an
    aggregate an earlier operation of the group staged."""

    def run(uow: UnitOfWork) -> T:
        before = [(key, aggregate, aggregate.version) for key, aggregate in uow.staged.items()]
        try:
            result = op(uow)
        except Exception:
            raise _TakenOut(index) from None
        staged = uow.staged
        for key, aggregate, version in before:
            if staged[key] is not aggregate or aggregate.version != version:
                raise _TakenOut(index)
        return result

    return run


def _resolve(group: Sequence[_Submission[Any]]) -> None:
    """Hand the outcomes back, one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Submission[Any]]] = {}
    for submission in group:
        by_loop.setdefault(submission.loop, []).append(submission)
    for loop, submissions in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, submissions)


def _settle(submissions: Sequence[_Submission[Any]]) -> None:
    for submission in submissions:
        if submission.future.done():  # the request was cancelled
            continue
        if submission.error is not None:
            submission.future.set_exception(submission.error)
        else:
            submission.future.set_result(submission.result)
