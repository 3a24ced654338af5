"""``helpdesk serve http``: the ticket service's HTTP APIs under uvicorn."""

from __future__ import annotations

import uvicorn

from services.settings import Settings, get_settings
from services.ticket_service.adapters.http.app import create_app


def main(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        access_log=False,
    )


if __name__ == "__main__":
    main()
