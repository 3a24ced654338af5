"""Wires the ticket service's dependencies from settings (one place, used by every entry
point: HTTP server, Kafka intake, relay, CLI, tests and benchmarks)."""

from __future__ import annotations

import time

from eventsourcing.persistence import IntegrityError

from services.settings import Settings, get_settings
from services.ticket_service.adapters.event_store import store_env
from services.ticket_service.application.tickets import TicketApplication

SCHEMA_RACE_RETRIES = 5


def build_application(settings: Settings | None = None) -> TicketApplication:
    """The application on the configured store. Tables are created on first use; when two
    processes start together on a fresh PostgreSQL database, one of them loses the
    ``CREATE TABLE IF NOT EXISTS`` race with a unique violation and simply tries again."""
    settings = settings or get_settings()
    for attempt in range(SCHEMA_RACE_RETRIES):
        try:
            return TicketApplication(
                env=store_env(settings),
                default_auto_close_after=settings.auto_close_after,
            )
        except IntegrityError:
            if attempt == SCHEMA_RACE_RETRIES - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")
