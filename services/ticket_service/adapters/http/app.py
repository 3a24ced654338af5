"""The FastAPI application of the ticket service, around an application factory it is given
(:func:`services.ticket_service.bootstrap.create_app` wires it from settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from services.settings import Settings
from services.ticket_service.adapters.http import (
    problems,
    routes_dead_letters,
    routes_health,
    routes_helpcenter,
    routes_mail,
    routes_organizations,
    routes_settings,
    routes_tickets,
    routes_views,
    routes_webhooks,
)
from services.ticket_service.adapters.http.body_limit import BodyLimit
from services.ticket_service.adapters.http.deps import ServiceHolder, authorize
from services.ticket_service.adapters.http.docs_ui import install_docs
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.middleware import ObservabilityMiddleware
from services.ticket_service.adapters.http.openapi_headers import declare_response_headers
from services.ticket_service.adapters.http.openapi_links import add_links
from services.ticket_service.adapters.http.permissions import ROLE_TABLE
from services.ticket_service.application.tickets import TicketApplication
from services.webhooks.application.management import Management

TITLE = "Helpdesk ticket service"
VERSION = "1.0.0"
DESCRIPTION = (
    "Agent, integration and help-center APIs of the helpdesk ticket lifecycle. "
    "Closed is final: a closed ticket takes no more edits or replies; create a follow-up."
)


NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's native OpenTelemetry hooks, off: the service exports Prometheus metrics and JSON
logs, configures no OpenTelemetry provider, and asking the global providers whether one is
configured costs every request several environment look-ups."""


def build_http_app(
    settings: Settings,
    application: Callable[[], TicketApplication],
    webhooks: Callable[[], Management] | None = None,
) -> FastAPI:
    """``application`` makes the application on first use (at start-up); ``webhooks`` the
    webhook service's management side (its store) for ``/api/v1/webhooks``."""
    holder = ServiceHolder(settings, application, webhooks)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        holder.tokens.require_secure()  # never serve with the built-in or a short secret
        services = await run_in_threadpool(holder.get)
        await run_in_threadpool(services.views.catch_up)
        try:
            yield
        finally:
            await run_in_threadpool(holder.close)

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
        telemetry=NO_TELEMETRY,
        docs_url=None,  # served by install_docs, without a CDN
        redoc_url=None,
    )
    install_docs(app, TITLE)
    app.state.services = holder
    document = app.openapi
    app.openapi = lambda: app.openapi_schema or add_links(document())  # type: ignore[method-assign]
    problems.install(app)
    for router in (routes_health.router, *API_ROUTERS):
        app.include_router(router)
    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # before any reading
    app.add_middleware(ObservabilityMiddleware)
    check_role_table()
    _document_response_headers(app)
    return app


def _document_response_headers(app: FastAPI) -> None:
    """FastAPI's generated document, plus the response headers the routes set."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_response_headers(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def metrics() -> Response:
    """Prometheus text exposition of this process's metrics (no authentication: keep the
    port off the public network, like ``/readyz``)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


API_ROUTERS = (
    routes_tickets.router,
    routes_views.router,
    routes_settings.router,
    routes_organizations.router,
    routes_helpcenter.router,
    routes_dead_letters.router,
    routes_mail.router,
    routes_mail.help_center_router,
    routes_webhooks.router,
)
"""The routers of the agent, integration and help-center APIs: every route behind
:func:`authorize`."""


def check_role_table(routers: Iterable[APIRouter] = API_ROUTERS) -> None:
    """Every API route depends on :func:`authorize` (as its ``claims`` parameter: a
    router-wide dependency as well would cost every request a second pass through it) and
    has a row in the role table; every route reads its JSON body through
    :class:`JSONRoute` (the nesting limit and 400 ``invalid_json``)."""
    unguarded, missing, unlimited = [], [], []
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            if not isinstance(route, JSONRoute):
                unlimited.append(route.name)
            if not any(d.call is authorize for d in route.dependant.dependencies):
                unguarded.append(route.name)
            elif route.name not in ROLE_TABLE:
                missing.append(route.name)
    if unguarded:
        raise RuntimeError(f"API routes without the authorize dependency: {unguarded}")
    if missing:
        raise RuntimeError(f"Routes missing from the role table: {missing}")
    if unlimited:
        raise RuntimeError(f"API routes not reading bodies through JSONRoute: {unlimited}")


def openapi_json() -> str:
    """The committed form of the OpenAPI document (``docs/openapi.json``): the document
    needs no application, so none is made."""
    import json

    document = build_http_app(Settings(), _no_application).openapi()
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _no_application() -> TicketApplication:
    raise RuntimeError("the OpenAPI document is made without an application")
