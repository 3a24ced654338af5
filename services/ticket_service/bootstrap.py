"""Wires the ticket service's dependencies from settings (one place, used by every entry
point: HTTP server, Kafka intake, relay, CLI, tests and benchmarks): the application on its
store, and the HTTP app around it. Adapters never import this module."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError, InternalError, OperationalError

from services.settings import Settings, get_settings
from services.ticket_service.adapters.event_store import store_env
from services.ticket_service.application.tickets import TicketApplication

if TYPE_CHECKING:
    from fastapi import FastAPI

SCHEMA_RACE_RETRIES = 5


def build_application(
    settings: Settings | None = None, *, create_tables: bool = True
) -> TicketApplication:
    """The application on the configured store. Tables are created on first use (unless
    ``create_tables`` is false: readers of a store another process made); when processes
    start together on a fresh PostgreSQL database, the losers of the ``CREATE TABLE IF NOT
    EXISTS`` race (a unique violation, or "tuple concurrently updated") simply try again, and
    so do processes that open a fresh SQLite file together (switching it to WAL can meet
    "database is locked")."""
    settings = settings or get_settings()
    env = store_env(settings)
    if not create_tables:
        env["CREATE_TABLE"] = "n"
    for attempt in range(SCHEMA_RACE_RETRIES):
        try:
            return TicketApplication(
                env=env,
                default_auto_close_after=settings.auto_close_after,
                idempotency_key_ttl=settings.idempotency_key_ttl,
                command_roles=settings.command_roles,
                snapshot_interval=settings.snapshot_interval,
            )
        except (IntegrityError, InternalError, OperationalError, sqlite3.OperationalError) as error:
            if isinstance(error, InternalError) and "concurrently" not in str(error):
                raise
            if isinstance(error, OperationalError | sqlite3.OperationalError) and (
                "locked" not in str(error)
            ):
                raise
            if attempt == SCHEMA_RACE_RETRIES - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def create_app(
    settings: Settings | None = None,
    application: TicketApplication | Callable[[], TicketApplication] | None = None,
) -> FastAPI:
    """The HTTP APIs. ``application``: an existing application, a factory, or None (built
    from ``settings`` on first use). (FastAPI is imported here, not at the top: the worker
    and CLI processes that only build the application do not load it.)"""
    from services.ticket_service.adapters.http.app import build_http_app

    settings = settings or get_settings()
    if isinstance(application, TicketApplication):
        instance = application
        factory: Callable[[], TicketApplication] = lambda: instance  # noqa: E731
    else:
        wired = settings
        factory = application or (lambda: build_application(wired))
    return build_http_app(settings, factory)
