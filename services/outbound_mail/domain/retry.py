"""When to try a mail again that the relay could not take (connection error, 4xx)."""

from __future__ import annotations

import random
from collections.abc import Callable


def retry_delay(
    attempt: int,
    *,
    base: float = 0.2,
    cap: float = 30.0,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Exponential with jitter: attempt 1 waits 0.1-0.2 s, each next one twice as long, up
    to ``cap`` (half of it at least), so a relay coming back is not hit by every worker at
    once."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return uniform(ceiling / 2, ceiling)
