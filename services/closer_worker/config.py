"""Closer-only tuning, from ``HELPDESK_CLOSER_*`` variables (the shared ``Settings`` holds
the addresses, topics and the auto-close period)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class CloserConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_CLOSER_", extra="ignore")

    group_id: str = "helpdesk-closer"
    """One consumer group shared by every closer worker."""
    redis_prefix: str = "helpdesk:closer"
    lease_seconds: float = 30.0
    batch_size: int = 500
    fire_concurrency: int = 4
    """Firing loops per worker: while one waits for the broker's acks, the others claim,
    build and queue their batches, and complete the ones acked (4 closed 100k due timers
    about twice as fast as 2 in ``python -m bench closer``; see docs/benchmarks.md)."""
    idle_poll_seconds: float = 0.2
    consume_max_records: int = 1000
    error_backoff_seconds: float = 1.0
    """Pause after a Redis or Kafka error before the round or batch is tried again."""
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    rebuild_check_seconds: float = 5.0
    """How often a worker checks that Redis still holds its timers (rebuilds if not)."""
    rebuild_lock_seconds: float = 15.0
    """The rebuild lock's lease, renewed every third of it while the rebuild runs: a worker
    killed mid-rebuild blocks the next one this long at most (it held 600 s unrenewed, and a
    closer restarted after a kill stayed unready, its timers missing, for ten minutes)."""
    log_level: str = "INFO"
    """Of the process's structlog output; DEBUG adds one line per close with its lateness."""
