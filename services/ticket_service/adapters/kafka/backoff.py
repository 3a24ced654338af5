"""Retry delays for transient failures (broker or store unavailable)."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential with full jitter: attempt 1 → up to 0.2 s, doubling, capped."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return random.uniform(ceiling / 2, ceiling)
