"""The ticket service's HTTP APIs under uvicorn:
``python -m services.ticket_service.entrypoints.http [--workers N]``."""

from __future__ import annotations

import argparse

import uvicorn

from services.settings import Settings, get_settings
from services.ticket_service.adapters.http.app import create_app

APP_FACTORY = "services.ticket_service.adapters.http.app:create_app"


def main(settings: Settings | None = None, workers: int = 1) -> None:
    """One process by default; with ``workers`` > 1 uvicorn forks that many, each with its
    own application on the same store (ticket numbers and view tracking are safe across
    processes)."""
    settings = settings or get_settings()
    options = {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_level": "info",
        "access_log": False,
    }
    if workers > 1:
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)  # type: ignore[arg-type]
    else:
        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1)
    main(workers=parser.parse_args().workers)
