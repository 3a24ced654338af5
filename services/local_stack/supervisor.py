"""Runs the services as child processes: their output prefixed with their name, a crashed
child restarted with backoff, and everything stopped cleanly (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

MAX_BACKOFF = 10.0


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0


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
        )
        threading.Thread(target=self._pump, args=(child,), daemon=True).start()

    def _pump(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in child.process.stdout:
            self.say(child.name, raw.decode(errors="replace").rstrip())

    def run(self) -> None:
        """Start every child and watch them until :meth:`stop` is called."""
        for child in self.children:
            self.start(child)
        while not self._stopping.wait(0.5):
            for child in self.children:
                self._watch(child)

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
