"""Liveness and readiness (no token needed)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.ticket_service.adapters.http import schemas
from services.ticket_service.adapters.http.deps import services_of

router = APIRouter(tags=["health"])
TIMEOUT = 2.0


@router.get("/healthz", name="healthz", response_model=schemas.Liveness)
async def healthz() -> schemas.Liveness:
    """Liveness: the process answers (no dependency is checked)."""
    return schemas.Liveness()


async def _tcp(host: str, port: int) -> None:
    async with asyncio.timeout(TIMEOUT):
        _, writer = await asyncio.open_connection(host, port)
    writer.close()
    await writer.wait_closed()


async def _redis(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()


@router.get(
    "/readyz",
    name="readyz",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "A dependency is unreachable."}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the store answers, and the broker and Redis when configured."""
    svc = services_of(request)
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(svc.tickets.recorder.max_notification_id)
        checks["store"] = "ok"
    except Exception as error:
        checks["store"] = f"error: {type(error).__name__}"
    if svc.settings.kafka_bootstrap:
        host, _, port = svc.settings.kafka_bootstrap.split(",")[0].rpartition(":")
        try:
            await _tcp(host or "127.0.0.1", int(port))
            checks["broker"] = "ok"
        except (OSError, TimeoutError, ValueError) as error:
            checks["broker"] = f"error: {type(error).__name__}"
    if svc.settings.redis_url:
        try:
            await _redis(svc.settings.redis_url)
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = (
                f"error: {type(error).__name__} ({urlparse(svc.settings.redis_url).hostname})"
            )
    ok = all(v == "ok" for v in checks.values())
    body = schemas.Health(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
