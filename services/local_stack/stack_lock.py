"""One ``make run`` per data directory: an exclusive lock on ``<data dir>/stack.lock``
(``fcntl.flock``) holding the supervisor's pid. The kernel drops the lock when the
supervisor dies, however it dies, so a stale file never blocks the next run."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from services.operator_errors import OperatorError

LOCK_FILE = "stack.lock"


class StackAlreadyRunning(OperatorError):
    def __init__(self, data_dir: Path, pid: str) -> None:
        self.pid = pid
        super().__init__(
            f"a helpdesk stack is already running on {data_dir} "
            f"(pid {pid or 'unknown'}, lock {data_dir / LOCK_FILE}); stop it first "
            "(Ctrl-C in its terminal, or kill that pid), or set HELPDESK_DATA_DIR to "
            "another directory"
        )


@contextlib.contextmanager
def stack_lock(data_dir: Path) -> Iterator[Path]:
    """Hold the data directory's lock for the block; raise :class:`StackAlreadyRunning`
    when another process holds it."""
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StackAlreadyRunning(data_dir, path.read_text().strip()) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
