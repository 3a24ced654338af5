"""Pausing the cyclic garbage collector while a batch of commands runs.

A batch keeps every command's decoded command, events, aggregates and stored records alive
until its save, so the collector's passes walk them, and the whole heap, again and again:
about a quarter of the cost of a 500-command batch (decode and store). Nothing is lost while
it is paused: refcounting still frees at once what is dropped, and reference cycles wait
for the collector's next pass after the batch.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Nested or concurrent uses are fine: only the use that paused it resumes it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
