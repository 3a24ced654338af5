"""Children that die with their parent: Linux's ``PR_SET_PDEATHSIG``.

``make run``'s supervisor starts every service (and the embedded broker and Redis) with
:func:`die_with_parent` as ``preexec_fn``: when the supervisor dies, however it dies
(``kill -9`` included), the kernel sends each child ``SIGTERM`` and they shut down and free
their ports. The signal follows the *thread* that started the child, so start children from
a thread that lives as long as the supervisor (its main thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that arranges ``sig`` for the child when its parent dies (None where
    the kernel has no such call: not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            os._exit(125)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os.kill(os.getpid(), sig)

    return preexec
