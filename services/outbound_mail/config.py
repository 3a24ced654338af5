"""Outbound-mail tuning, from ``HELPDESK_OUTBOUND_MAIL_*`` variables (the shared
``Settings`` holds the relay, the switches, the rate limit and the directories)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class MailConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_OUTBOUND_MAIL_", extra="ignore")

    group_id: str = "helpdesk-outbound-mail"
    """Its own consumer group on the ticket events (one replica per store: see docs)."""
    concurrency: int = 4
    """Delivery workers, one relay connection each."""
    consume_max_records: int = 500
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    idle_poll_seconds: float = 1.0
    error_backoff_seconds: float = 1.0
    log_level: str = "INFO"
