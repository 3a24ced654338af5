"""A rich progress bar with events/s for long replays, only when a person is watching."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} events/s")


@contextmanager
def replay_progress(
    description: str, total: int | None, *, enabled: bool | None = None
) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``. Shown on stderr, and only when stdout is a terminal (so
    redirected reports and pipes get no progress noise)."""
    if enabled is None:
        enabled = sys.stdout.isatty() and sys.stderr.isatty()
    if not enabled:
        yield lambda n: None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
