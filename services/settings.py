"""Deployment settings, read from ``HELPDESK_*`` environment variables (design §9)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts.common import Role

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> Any:
    """``"7d"``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1w"`` → timedelta; anything else is
    left to pydantic (seconds as a number, ISO 8601 durations)."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


BUILTIN_JWT_SECRET = "change-me-in-production-this-is-only-for-local-use"
BUILTIN_JWT_SECRETS = frozenset({BUILTIN_JWT_SECRET, "change-me-in-production"})
"""The default secret (and the one the compose file used to default to): no service serves
with them (``helpdesk stack run`` makes a random one per data directory)."""


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
    kafka_partitions: int = Field(4, ge=1)
    """Partitions of the events and commands topics, when a service creates them (per-ticket
    order holds: key = ticket id). The one source of every service's topic set-up
    (:mod:`services.kafka_setup`)."""
    kafka_dead_letter_partitions: int = Field(1, ge=1)
    """Partitions of the dead-letter topic, when a service creates it (few records; one
    partition keeps them in arrival order)."""
    command_roles: Annotated[frozenset[Role], NoDecode] | None = None
    """Roles a command on the commands topic may claim (comma-separated); unset: every
    role. The automation acts only in the closer's timer close whatever this says
    (docs/security.md)."""
    relay_name: str = "ticket-events"
    """Names the relay's recorded position. A new, empty broker needs a new name, so the
    whole history is published to it (``make run`` does this for its embedded broker)."""
    relay_poll_interval: float = Field(1.0, gt=0)
    """Seconds between the relay's fallback looks at the store. Saves wake it at once, in
    any process (PostgreSQL ``NOTIFY``, a Unix socket next to a SQLite file); the poll only
    covers a lost signal."""

    stack_kafka_port: int = 19092
    """``make run``: port of the embedded broker (a free one, said so, when it is taken)."""
    stack_redis_port: int = 16379
    """``make run``: port of the embedded Redis (a free one, said so, when it is taken)."""
    relay_max_record_bytes: int = Field(1_000_000, gt=0)
    """Largest event record the relay publishes (key, value and headers); a larger one is
    parked in the store instead. Keep it below the broker's ``max.message.bytes``."""
    intake_max_attempts: int = Field(3, ge=1)
    """Attempts at a Kafka command whose application fails unexpectedly (not a store outage,
    which is retried until the store is back) before it is dead-lettered."""

    redis_url: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("./var")

    snapshot_interval: int = Field(100, ge=0)
    """A ticket's snapshot is taken after every this many events; 0 takes none."""
    max_body_bytes: int = Field(1024 * 1024, gt=0)
    """Largest HTTP request body accepted; a larger one is refused (413) unread."""

    jwt_secret: str = BUILTIN_JWT_SECRET
    """HS256 secret of tokens without a ``kid`` header. The HTTP service refuses to start
    with the built-in one."""
    jwt_secrets: dict[str, str] = {}
    """More secrets by key id (``{"2026-12": "…"}``, JSON): a token whose header names a
    ``kid`` is verified with that one only. For rotation."""
    jwt_max_lifetime: timedelta = timedelta(hours=24)
    """Longest token lifetime accepted: ``exp`` at most this far from now (and from
    ``iat``)."""
    jwt_issuer: str | None = None
    """When set, tokens must carry this ``iss``."""
    jwt_audience: str | None = None
    """When set, tokens must carry this ``aud``."""
    auto_close_after: timedelta = timedelta(days=7)
    idempotency_key_ttl: timedelta = timedelta(hours=24)
    """How long an HTTP ``Idempotency-Key`` stands for its request; after that it is new."""

    support_address: str = "support@helpdesk.localhost"
    email_max_bytes: int = 25 * 1024 * 1024
    email_authserv_id: str | None = None
    """The authserv-id (RFC 8601) of the mail server in front of the ingest: only its
    topmost ``Authentication-Results`` header is trusted (docs/email.md, trust model)."""
    email_dkim_verify: bool = False
    """Without ``email_authserv_id``: verify DKIM signatures in process (dkimpy, DNS)."""
    email_admin_port: int | None = None
    mail_store_dir: Path | None = None
    """The mail store (originals and attachments), read by the ticket service too; default
    ``<data_dir>/mail-store``."""
    email_retention_days: int = 0
    """How long the mail store keeps inbound messages and attachments (0: for ever)."""
    """Port of the ingest's admin HTTP API (the suspended queue); off when unset."""

    smtp_relay: str | None = None
    """Outbound mail: ``host:port`` of the SMTP submission relay. Unset: each message is
    written to the outbox Maildir instead (``mail_outbox_dir``)."""
    smtp_starttls: bool = False
    """Upgrade the relay connection with STARTTLS (certificates verified)."""
    smtp_tls_ca_file: Path | None = None
    """CA bundle (PEM) the relay's certificate is verified against; unset: the system's."""
    smtp_username: str | None = None
    """With ``smtp_password``: AUTH on the relay."""
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    smtp_retry_max_seconds: float = Field(30.0, gt=0)
    """Longest pause between two attempts at a mail the relay could not take (connection
    error, 4xx); the pauses double from 0.2 s up to this."""
    smtp_give_up_after: timedelta = timedelta(days=1)
    """A mail still refused with 4xx (or undeliverable for connection errors) this long
    after its first attempt is recorded as failed."""
    mail_from: str | None = None
    """The ``From`` of notifications; default the support address."""
    mail_acknowledgement: bool = True
    """Notify of a new ticket (acknowledgement with its number)."""
    mail_public_comment: bool = True
    """Notify of an agent's or integration's public comment."""
    mail_solved: bool = True
    """Notify that a ticket was solved."""
    mail_follow_up: bool = True
    """Notify that a reply to a closed ticket became a follow-up."""
    mail_rate_limit: int = Field(20, ge=1)
    """At most this many notifications to one address per ``mail_rate_window`` (loop
    defence); the rest are recorded as ``rate_limited`` and not sent."""
    mail_rate_window: timedelta = timedelta(hours=1)
    mail_max_event_age: timedelta = timedelta(days=1)
    """Events older than this (a history replayed to a new consumer group) update the
    notifier's ticket projection but send nothing."""
    mail_outbox_dir: Path | None = None
    """The Maildir notifications go to without a relay; default ``<data_dir>/outbox``
    (``var/outbox`` for ``make run``)."""
    mail_templates_dir: Path | None = None
    """Templates here (``<kind>.txt.j2``, ``<kind>.html.j2``) replace the shipped ones."""
    mail_suppression_path: Path | None = None
    """The suppression list email ingest writes and outbound mail reads (SQLite); default
    ``<data_dir>/mail-suppression.sqlite3``: both need to see one file."""
    webhook_allow_http: bool = False
    """Webhook targets may be ``http://`` (the local stack sets it); otherwise https only."""
    webhook_allowed_hosts: str | None = None
    """Comma-separated host names or addresses a webhook may target even when they resolve
    to loopback, private, link-local, multicast or metadata addresses."""
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    """Connect and read timeout of one webhook delivery attempt."""
    webhook_retry_horizon: timedelta = timedelta(hours=24)
    """A delivery still not accepted this long after it was recorded ends ``failed``."""
    webhook_disable_after: timedelta = timedelta(days=3)
    """An endpoint failing without a success for this long is disabled."""
    webhook_store_path: Path | None = None
    """A SQLite webhook store shared by the management API and every dispatcher; unset:
    PostgreSQL when ``database_url`` names it, else ``<data_dir>/webhooks.sqlite3``."""

    @field_validator("command_roles", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {part.strip() for part in value.split(",") if part.strip()}
        return value

    @field_validator("jwt_issuer", "jwt_audience")
    @classmethod
    def _unset_when_empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator(
        "auto_close_after",
        "idempotency_key_ttl",
        "jwt_max_lifetime",
        "smtp_give_up_after",
        "mail_rate_window",
        "mail_max_event_age",
        "webhook_retry_horizon",
        "webhook_disable_after",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    @field_validator(
        "auto_close_after",
        "idempotency_key_ttl",
        "jwt_max_lifetime",
        "smtp_give_up_after",
        "mail_rate_window",
        "mail_max_event_age",
        "webhook_retry_horizon",
        "webhook_disable_after",
    )
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be a positive duration")
        return value


STACK_FILE = "stack.json"
STACK_ENV = ("HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_REDIS_URL")
"""What ``helpdesk`` commands take from a running ``make run`` stack's ``stack.json`` when
the environment does not set it (the embedded broker's and Redis's addresses)."""


def stack_file(environ: Mapping[str, str] = os.environ) -> Path:
    """``<HELPDESK_DATA_DIR>/stack.json`` (``./var`` by default): written by ``make run``."""
    return Path(environ.get("HELPDESK_DATA_DIR") or "./var") / STACK_FILE


def read_stack_env(path: Path) -> dict[str, str]:
    """The ``HELPDESK_*`` settings a stack file records (empty when there is none)."""
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    env = recorded.get("env") if isinstance(recorded, dict) else None
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


def apply_stack_file(environ: MutableMapping[str, str] = os.environ) -> dict[str, str]:
    """Fill the stack's addresses (:data:`STACK_ENV`) from ``stack.json`` where the
    environment leaves them unset; returns what it filled. The one place where a
    ``helpdesk`` command finds a local stack with no settings exported."""
    filled = {
        name: value
        for name, value in read_stack_env(stack_file(environ)).items()
        if name in STACK_ENV and not environ.get(name)
    }
    environ.update(filled)
    get_settings.cache_clear()
    return filled


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
