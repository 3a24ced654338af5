"""The ticket service's HTTP APIs under uvicorn:
``python -m services.ticket_service.entrypoints.http [--workers N]``.

Logs are JSON lines (:mod:`services.logging_setup`); ``GET /metrics`` serves Prometheus
metrics (per process: with ``--workers`` > 1 each worker counts its own requests).
"""

from __future__ import annotations

import argparse
import gc
from typing import Any

import uvicorn
from fastapi import FastAPI

from services.logging_setup import configure_logging
from services.settings import Settings, get_settings
from services.ticket_service.adapters.http.auth import InsecureTokenSettings, TokenPolicy
from services.ticket_service.bootstrap import create_app

SERVICE = "ticket-http"
APP_FACTORY = "services.ticket_service.entrypoints.http:create_logged_app"


def create_logged_app() -> FastAPI:
    """The factory each uvicorn worker process calls: JSON logs, then the app."""
    configure_logging(SERVICE)
    refuse_insecure_tokens(get_settings())
    app = create_app()
    freeze_startup_heap()
    return app


def refuse_insecure_tokens(settings: Settings) -> None:
    """Stop here, with the reason, rather than serve with the built-in JWT secret (the
    app's start-up refuses too; this says it before uvicorn does)."""
    try:
        TokenPolicy.from_settings(settings).require_secure()
    except InsecureTokenSettings as error:
        raise SystemExit(f"{SERVICE}: {error}") from None


def freeze_startup_heap() -> None:
    """Move what start-up built (modules, models and their schemas, the app) out of the
    cyclic garbage collector's reach. Its full passes then walk only what requests
    allocate instead of the whole heap: those passes were the p99 latency tail."""
    gc.collect()
    gc.freeze()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the service: no ``server`` banner (it names the server and
    its version to anyone who asks), no access log (requests are counted in the metrics),
    the JSON logging configured by :func:`main` kept."""
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_level": "info",
        "access_log": False,
        "log_config": None,
        "server_header": False,
    }


def main(settings: Settings | None = None, workers: int = 1) -> None:
    """One process by default; with ``workers`` > 1 uvicorn forks that many, each with its
    own application on the same store (ticket numbers and view tracking are safe across
    processes)."""
    settings = settings or get_settings()
    configure_logging(SERVICE)
    refuse_insecure_tokens(settings)
    options = server_options(settings)
    if workers > 1:
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)
    else:
        app = create_app(settings)
        freeze_startup_heap()
        uvicorn.run(app, **options)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1)
    main(workers=parser.parse_args().workers)
