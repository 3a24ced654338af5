"""The FastAPI application factory of the ticket service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from services.settings import Settings, get_settings
from services.ticket_service.adapters.http import (
    problems,
    routes_health,
    routes_helpcenter,
    routes_settings,
    routes_tickets,
    routes_views,
)
from services.ticket_service.adapters.http.deps import ServiceHolder, authorize
from services.ticket_service.adapters.http.middleware import ObservabilityMiddleware
from services.ticket_service.adapters.http.permissions import ROLE_TABLE
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application

TITLE = "Helpdesk ticket service"
VERSION = "1.0.0"
DESCRIPTION = (
    "Agent, integration and help-center APIs of the helpdesk ticket lifecycle. "
    "Closed is final: a closed ticket takes no more edits or replies; create a follow-up."
)


def create_app(
    settings: Settings | None = None,
    application: TicketApplication | Callable[[], TicketApplication] | None = None,
) -> FastAPI:
    """``application``: an existing application, a factory, or None (built from settings
    on first use)."""
    settings = settings or get_settings()
    if isinstance(application, TicketApplication):
        instance = application
        factory: Callable[[], TicketApplication] = lambda: instance  # noqa: E731
    else:
        factory = application or (lambda: build_application(settings))
    holder = ServiceHolder(settings, factory)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(holder.get)
        await run_in_threadpool(services.views.catch_up)
        yield

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.services = holder
    problems.install(app)
    for module in (
        routes_health,
        routes_tickets,
        routes_views,
        routes_settings,
        routes_helpcenter,
    ):
        app.include_router(module.router)
    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(ObservabilityMiddleware)
    check_role_table(app)
    return app


def metrics() -> Response:
    """Prometheus text exposition of this process's metrics (no authentication: keep the
    port off the public network, like ``/readyz``)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def check_role_table(app: FastAPI) -> None:
    """Every route behind :func:`authorize` must have a row in the role table."""
    missing = [
        route.name
        for route in app.routes
        if isinstance(route, APIRoute)
        and any(d.call is authorize for d in route.dependant.dependencies)
        and route.name not in ROLE_TABLE
    ]
    if missing:
        raise RuntimeError(f"Routes missing from the role table: {missing}")


def openapi_json() -> str:
    """The committed form of the OpenAPI document (``docs/openapi.json``)."""
    import json

    return json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True) + "\n"
