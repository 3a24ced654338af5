"""The worker processes' own endpoint: /healthz always, /readyz only while every check
passes (and again 503 when one stops passing), /metrics for Prometheus."""

from __future__ import annotations

import asyncio

import httpx

from services.health_endpoint import Readiness, serve_health
from services.local_stack.processes import free_port


async def test_readyz_follows_the_checks() -> None:
    joined = asyncio.Event()
    readiness = Readiness()

    async def consumer_joined() -> bool:
        return joined.is_set()

    async def always() -> bool:
        return True

    readiness.add("relay", always)
    readiness.add("intake", consumer_joined)
    port = free_port()
    server = serve_health(port, "127.0.0.1", readiness)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            await readiness.evaluate()
            waiting = await client.get("/readyz")
            assert waiting.status_code == 503
            assert waiting.json() == {
                "status": "unavailable",
                "checks": {"relay": "ok", "intake": "waiting"},
            }
            joined.set()
            await readiness.evaluate()
            ready = await client.get("/readyz")
            assert (ready.status_code, ready.json()["status"]) == (200, "ok")
            joined.clear()  # lost its partitions in a rebalance
            await readiness.evaluate()
            assert (await client.get("/readyz")).status_code == 503
            metrics = await client.get("/metrics")
            assert metrics.status_code == 200 and "python_info" in metrics.text
    finally:
        server.shutdown()
        server.server_close()


async def test_a_check_that_raises_is_not_ready() -> None:
    readiness = Readiness()

    async def broken() -> bool:
        raise ConnectionError("redis down")

    readiness.add("timers_rebuilt", broken)
    assert await readiness.evaluate() == {"timers_rebuilt": False}
    assert not readiness.ready
    assert not Readiness().ready  # no checks registered yet: not ready
