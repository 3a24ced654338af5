"""Wires the ticket service's dependencies from settings (one place, used by every entry
point: HTTP server, Kafka intake, relay, CLI, tests and benchmarks)."""

from __future__ import annotations

from services.settings import Settings, get_settings
from services.ticket_service.adapters.event_store import store_env
from services.ticket_service.application.tickets import TicketApplication


def build_application(settings: Settings | None = None) -> TicketApplication:
    settings = settings or get_settings()
    return TicketApplication(
        env=store_env(settings),
        default_auto_close_after=settings.auto_close_after,
    )
