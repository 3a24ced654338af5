"""Local server processes: free ports, readiness polling, start/stop/kill handles.

Used by `make run` (the embedded broker and Redis) and by the test fixtures."""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from services.local_stack.parent_death import die_with_parent

LOOPBACK = "127.0.0.1"

_live: set[LocalProcess] = set()


class ServiceUnavailableError(RuntimeError):
    """A test service could not be started or reached. Tests must fail, never skip."""


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a TCP server could bind ``127.0.0.1:port`` right now (with SO_REUSEADDR,
    as servers do: connections in TIME_WAIT do not count, a listener does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def preferred_port(port: int, what: str, say: Callable[[str], object] = print) -> int:
    """``port`` when it is free (0: any free port), else a free one, saying so through
    ``say``: the embedded broker and Redis of ``make run`` keep stable ports when they can,
    so outside consumers' settings survive restarts."""
    if port and port_is_free(port):
        return port
    chosen = free_port()
    if port:
        say(
            f"{what}: port {port} is taken (another stack or program?); using {chosen} "
            f"instead for this run (stack.json and `helpdesk stack env` have it)"
        )
    return chosen


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def tcp_check(address: str) -> None:
    """Raise OSError unless something accepts TCP connections on ``host:port``."""
    socket.create_connection(split_address(address), timeout=1.0).close()


def wait_until(
    check: Callable[[], object],
    *,
    what: str,
    timeout: float = 30.0,
    alive: Callable[[], bool] = lambda: True,
    diagnostics: Callable[[], str] = lambda: "",
) -> None:
    """Call ``check`` until it stops raising; raise ServiceUnavailableError after ``timeout``.

    ``alive`` lets a caller give up early when the process it is waiting for has exited.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise ServiceUnavailableError(f"{what} exited during startup.{diagnostics()}")
        try:
            check()
            return
        except Exception as exc:
            last_error = exc
        time.sleep(0.1)
    raise ServiceUnavailableError(
        f"{what} not ready after {timeout:.0f}s "
        f"(last error: {type(last_error).__name__}: {last_error}).{diagnostics()}"
    )


def unprivileged_user() -> str | None:
    """The user to run servers that refuse root (PostgreSQL) as; None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ServiceUnavailableError("running as root and no 'postgres' or 'nobody' user exists")


class LocalProcess:
    """A server process on a fixed loopback port that can be stopped and started again.

    The port is chosen once, so ``address`` stays valid across ``stop()``/``start()``
    (or ``kill()``/``start()``). Output goes to a log file whose tail is included in errors.
    """

    def __init__(
        self,
        name: str,
        argv: Callable[[int], Sequence[str]],
        *,
        ready: Callable[[str], object] = tcp_check,
        port: int | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        user: str | None = None,
        cwd: Path | None = None,
        start_timeout: float = 30.0,
        die_with_parent: bool = False,
    ) -> None:
        """``die_with_parent``: the process gets SIGTERM when the thread that starts it dies
        (``make run``; test fixtures start servers from passing threads, so not there)."""
        self.name = name
        self.port = port or free_port()
        self._argv = argv
        self._ready = ready
        self._stop_signal = stop_signal
        self._user = user
        self._cwd = cwd
        self._start_timeout = start_timeout
        self._die_with_parent = die_with_parent
        fd, log_path = tempfile.mkstemp(prefix=f"helpdesk-{name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log_path)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    def start(self) -> Self:
        """Start the process (no-op if running) and wait until it serves requests."""
        if self.running:
            return self
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                list(self._argv(self.port)),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._cwd,
                user=self._user,
                group=pwd.getpwnam(self._user).pw_gid if self._user else None,
                extra_groups=[] if self._user else None,
                process_group=0,
                preexec_fn=die_with_parent() if self._die_with_parent else None,
            )
        _live.add(self)
        try:
            wait_until(
                lambda: self._ready(self.address),
                what=f"{self.name} on {self.address}",
                timeout=self._start_timeout,
                alive=lambda: self.running,
                diagnostics=self.log_tail,
            )
        except BaseException:
            self.kill()
            raise
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful shutdown (``stop_signal`` to the server), SIGKILL if it takes too long."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(self._stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the process and anything it started (its process group), like a crash."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        self._proc = None
        _live.discard(self)

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"\n--- last lines of {self.log_path} ---\n" + "\n".join(text)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc is None:  # keep the log when something went wrong
            self.log_path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<LocalProcess {self.name} {self.address} {state}>"


@atexit.register
def _kill_leftovers() -> None:
    """Safety net: never leave servers behind if a fixture finalizer did not run."""
    for process in list(_live):
        process.kill()
