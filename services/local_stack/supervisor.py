"""Runs the services as child processes: their output prefixed with their name, a crashed
child restarted with backoff, and everything stopped cleanly (SIGTERM, then SIGKILL).

Children die with the supervisor (``PR_SET_PDEATHSIG``: SIGTERM when it dies, even by
``kill -9``). Each child may have a readiness probe; once every probe passes, ``on_ready``
is called (once)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from services.local_stack.parent_death import die_with_parent

MAX_BACKOFF = 10.0
READY_POLL = 0.2


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    ready: Callable[[], object] | None = None
    """Raises (or returns False) until the child serves; None: serving once started."""

    def probe(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        if self.ready is None:
            return True
        try:
            return self.ready() is not False
        except Exception:
            return False


class Supervisor:
    def __init__(self, children: Sequence[Child], out: IO[str] | None = None) -> None:
        self.children = list(children)
        self.out = out or sys.stdout
        self._stopping = threading.Event()
        self._print_lock = threading.Lock()

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{name:>14} | {line}\n")
            self.out.flush()

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            list(child.argv),
            env={**os.environ, **child.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=die_with_parent(),
        )
        threading.Thread(target=self._pump, args=(child,), daemon=True).start()

    def _pump(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in child.process.stdout:
            self.say(child.name, raw.decode(errors="replace").rstrip())

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Start every child and watch them until :meth:`stop` is called; ``on_ready`` once
        every child's readiness probe passes. Children are started from this thread: their
        parent-death signal follows it, so call this from the main thread."""
        for child in self.children:
            self.start(child)
        if on_ready is not None:
            threading.Thread(target=self._await_ready, args=(on_ready,), daemon=True).start()
        while not self._stopping.wait(0.5):
            for child in self.children:
                self._watch(child)

    def _await_ready(self, on_ready: Callable[[], None]) -> None:
        while not self._stopping.is_set():
            if all(child.probe() for child in self.children):
                if not self._stopping.is_set():
                    on_ready()
                return
            self._stopping.wait(READY_POLL)

    def _watch(self, child: Child) -> None:
        process = child.process
        if process is not None and process.poll() is None:
            return
        now = time.monotonic()
        if process is not None:
            child.restarts += 1
            delay = min(MAX_BACKOFF, 0.5 * 2 ** min(child.restarts, 5))
            child.next_start = now + delay
            self.say(child.name, f"exited with {process.returncode}; restarting in {delay:.1f}s")
            child.process = None
        if now >= child.next_start and not self._stopping.is_set():
            self.start(child)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
