"""The fault-injection soak, short: the whole stack under mixed load while every part is
killed in turn (the broker and Redis too), then nothing acknowledged is lost or doubled.
PostgreSQL for 90 s, SQLite for 30 s (``make soak`` runs the long one; docs/reliability.md).

Part of ``make test`` (so of CI); ``make soak-short`` runs it alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from soak.run import run_soak

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.mark.parametrize(
    ("store", "seconds", "seed"),
    # The seeds order the faults: PostgreSQL meets the worker, outbound mail, the webhook
    # dispatcher, the broker, the closer, email ingest and HTTP; SQLite HTTP, the webhook
    # dispatcher, Redis and a FLUSHALL (each as far as its seconds reach).
    [("postgres", 90, 78), ("sqlite", 30, 86)],
)
def test_soak(store: str, seconds: float, seed: int, tmp_path: Path) -> None:
    result = run_soak(seconds, store=store, data_dir=tmp_path / "soak", seed=seed)
    print("\n".join(result.lines()))
    assert result.faults, "the scheduler injected no fault"
    assert not [f for f in result.faults if f.error], [f.error for f in result.faults]
    assert result.lost == 0, result.findings.lost
    assert result.duplicated == 0, result.findings.duplicated
    assert not result.findings.other, result.findings.other
