"""``python -m bench.http_inprocess``: the HTTP create+update path in one process, driven
through ASGI with no network, reporting CPU per request of the event-loop thread and of
all threads (``PROFILE=1`` writes a cProfile of the loop thread to ``http.prof``). Not
part of ``make bench``: a tool for finding where the HTTP path spends its time."""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import tempfile
import time
from typing import Any

PAIRS = int(os.environ.get("PAIRS", "800"))
CONCURRENCY = 16
SECRET = "bench-secret-bench-secret-bench-secret!"


async def _call(app: Any, token: str, method: str, path: str, body: object) -> bytes:
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    delivered = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {b''.join(chunks)[:300]!r}")
    return b"".join(chunks)


async def _main() -> None:
    from services.ticket_service.adapters.http.auth import mint_token
    from services.ticket_service.bootstrap import create_app

    app = create_app()
    token = mint_token(SECRET, role="agent", email="bench@example.com")
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await to_app.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, to_app.get, from_app.put)
    )
    await from_app.get()
    remaining = 0

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            body = {"subject": "Bench", "requester": "r@example.com"}
            number = json.loads(await _call(app, token, "POST", "/api/v1/tickets", body))["number"]
            await _call(app, token, "PATCH", f"/api/v1/tickets/{number}", {"status": "open"})

    remaining = PAIRS  # warm-up
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    profile = cProfile.Profile() if os.environ.get("PROFILE") else None
    remaining = PAIRS
    wall, cpu, loop = time.perf_counter(), time.process_time(), time.thread_time()
    if profile:
        profile.enable()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    if profile:
        profile.disable()
        profile.dump_stats("http.prof")
    requests = PAIRS * 2
    print(
        f"{requests / (time.perf_counter() - wall):,.0f} requests/s; CPU per request: "
        f"loop thread {(time.thread_time() - loop) * 1e6 / requests:.0f} µs, all threads "
        f"{(time.process_time() - cpu) * 1e6 / requests:.0f} µs"
    )
    await to_app.put({"type": "lifespan.shutdown"})
    await from_app.get()
    await lifespan


if __name__ == "__main__":
    os.environ.update(
        HELPDESK_DATA_DIR=tempfile.mkdtemp(),
        HELPDESK_JWT_SECRET=SECRET,
        HELPDESK_KAFKA_BOOTSTRAP="",
        HELPDESK_REDIS_URL="",
        HELPDESK_DATABASE_URL="",
    )
    asyncio.run(_main())
