"""Deployment settings, read from ``HELPDESK_*`` environment variables (design §9)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> Any:
    """``"7d"``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1w"`` → timedelta; anything else is
    left to pydantic (seconds as a number, ISO 8601 durations)."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    metrics_port: int | None = None

    kafka_bootstrap: str | None = None
    kafka_idempotence: bool = False
    """Idempotent producer: turn on for Apache Kafka; Tansu does not support it."""
    topic_events: str = "helpdesk.ticket-events"
    topic_commands: str = "helpdesk.ticket-commands"
    topic_dead_letter: str = "helpdesk.dead-letter"
    kafka_partitions: int = 4
    """Partitions of topics the services create (per-ticket order holds: key = ticket id)."""
    relay_name: str = "ticket-events"
    """Names the relay's recorded position. A new, empty broker needs a new name, so the
    whole history is published to it (``make run`` does this for its embedded broker)."""

    relay_max_record_bytes: int = Field(1_000_000, gt=0)
    """Largest event record the relay publishes (key, value and headers); a larger one is
    parked in the store instead. Keep it below the broker's ``max.message.bytes``."""

    redis_url: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("./var")

    max_body_bytes: int = Field(1024 * 1024, gt=0)
    """Largest HTTP request body accepted; a larger one is refused (413) unread."""

    jwt_secret: str = "change-me-in-production-this-is-only-for-local-use"
    auto_close_after: timedelta = timedelta(days=7)

    support_address: str = "support@helpdesk.localhost"
    email_max_bytes: int = 25 * 1024 * 1024

    @field_validator("auto_close_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    @field_validator("auto_close_after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be a positive duration")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
