"""Webhook dispatcher tuning, from ``HELPDESK_WEBHOOKS_*`` variables (the shared
``Settings`` holds the safety rules, the timeouts, the horizon and the store)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_WEBHOOKS_", extra="ignore")

    group_id: str = "helpdesk-webhooks"
    """Its own consumer group on the ticket events."""
    per_endpoint: int = Field(8, ge=1)
    """Requests in flight per endpoint (one keep-alive connection each)."""
    ready_limit: int = Field(512, ge=1)
    """Deliveries one process holds claimed at most."""
    lease_seconds: float = Field(60.0, gt=0)
    """A claim expires after this long (its process died): another dispatcher sends it."""
    poll_seconds: float = Field(0.25, gt=0)
    retry_first_seconds: float = Field(5.0, gt=0)
    """Pause before the first retry; it doubles with each failure, up to the cap."""
    retry_cap_seconds: float = Field(3600.0, gt=0)
    consume_max_records: int = 500
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    error_backoff_seconds: float = 1.0
    log_level: str = "INFO"
