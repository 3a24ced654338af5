from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from services.settings import Settings
from services.ticket_service.bootstrap import create_app
from services.ticket_service.entrypoints.http import server_options


@dataclass
class Served:
    base_url: str
    settings: Settings


def serve(settings: Settings) -> Iterator[Served]:
    """The HTTP app under a real uvicorn server on a free loopback port, with the
    service's own server options."""
    options = {
        **server_options(settings),
        "host": "127.0.0.1",
        "port": 0,
        "log_level": "warning",
        "lifespan": "on",
    }
    config = uvicorn.Config(create_app(settings), **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.02):
        if server.started:
            started.set()
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from tests.unit.http.api_client import SECRET

    data_dir: Path = tmp_path_factory.mktemp("served")
    yield from serve(Settings(data_dir=data_dir, jwt_secret=SECRET))
