"""The worker processes' own HTTP endpoint (``HELPDESK_METRICS_PORT``): ``/metrics``
(Prometheus), ``/healthz`` (liveness: the process answers) and ``/readyz`` (200 once every
readiness check of the process passes — e.g. its consumers joined their groups — else 503
naming the checks that do not pass yet). Same JSON shape as the HTTP API's health routes:
``{"status": "ok"|"unavailable", "checks": {name: "ok"|"waiting"}}``.

A process registers its checks as async callables; :meth:`Readiness.watch` evaluates them
on the process's own event loop and the endpoint (a thread) reads the last results.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from wsgiref.simple_server import WSGIServer, make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]


class Readiness:
    """Named readiness checks of one process and their last results."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._results: dict[str, bool] = {}
        self._lock = threading.Lock()

    def add(self, name: str, check: Check) -> None:
        with self._lock:
            self._checks[name] = check
            self._results[name] = False

    def results(self) -> dict[str, bool]:
        with self._lock:
            return dict(self._results)

    @property
    def ready(self) -> bool:
        results = self.results()
        return bool(results) and all(results.values())

    async def evaluate(self) -> dict[str, bool]:
        with self._lock:
            checks = dict(self._checks)
        for name, check in checks.items():
            try:
                passed = bool(await check())
            except Exception:
                passed = False
            with self._lock:
                self._results[name] = passed
        return self.results()

    async def watch(self, interval: float = 0.25) -> None:
        """Keep the results current until cancelled (a check may fail again later: a
        consumer that lost its partitions in a rebalance is not ready)."""
        was_ready = False
        while True:
            await self.evaluate()
            if self.ready != was_ready:
                was_ready = self.ready
                log.info("readiness changed", extra={"ready": was_ready, **self.results()})
            await asyncio.sleep(interval)


def health_body(results: Mapping[str, bool]) -> tuple[int, dict[str, Any]]:
    ok = bool(results) and all(results.values())
    checks = {name: "ok" if passed else "waiting" for name, passed in results.items()}
    return (200 if ok else 503), {"status": "ok" if ok else "unavailable", "checks": checks}


def health_app(readiness: Readiness) -> Callable[..., Iterable[bytes]]:
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            status, body = 200, {"status": "ok"}
        elif path == "/readyz":
            status, body = health_body(readiness.results())
        else:
            return metrics(environ, start_response)
        start_response(
            f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
            [("Content-Type", "application/json")],
        )
        return [json.dumps(body).encode()]

    return app


def serve_health(port: int, host: str, readiness: Readiness) -> WSGIServer:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` from a daemon
    thread (replaces prometheus_client's ``start_http_server``)."""
    server = make_server(
        host, port, health_app(readiness), ThreadingWSGIServer, handler_class=_SilentHandler
    )
    threading.Thread(target=server.serve_forever, name="health-endpoint", daemon=True).start()
    return server


def consumers_assigned(broker: Any) -> Check:
    """A check: every subscriber of a FastStream Kafka ``broker`` has joined its group."""

    async def check() -> bool:
        subscribers = list(broker.subscribers)
        return bool(subscribers) and all(_joined(s.consumer) for s in subscribers)

    return check


def _joined(consumer: Any) -> bool:
    """Holds partitions, or joined the group with none to spare (more members than
    partitions: aiokafka's coordinator then has a generation but no assignment)."""
    if consumer is None:
        return False
    if consumer.assignment():
        return True
    coordinator = getattr(consumer, "_coordinator", None)
    return getattr(coordinator, "generation", -1) > 0
