"""Deliveries over HTTP (httpx): one ``AsyncClient`` per endpoint origin with keep-alive
connections, no redirects, connect/read timeouts, at most 64 KiB of a response read.

Every connection goes through :class:`GuardedBackend`, an httpcore network backend that
resolves the host itself, refuses it when any address is loopback, private, link-local,
multicast or metadata (unless the host is allowed) and connects to the address it checked:
a name that changes its answer between registration and delivery (DNS rebinding) is
refused at the connection.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from services.webhooks.application.ports import Answer
from services.webhooks.domain.targets import TargetRefused, check_addresses

RESPONSE_LIMIT = 64 * 1024


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port)
        except (OSError, TimeoutError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        try:
            check_addresses(host, addresses, self.allowed)
        except TargetRefused as refused:
            raise httpcore.ConnectError(f"refused: {refused}") from None
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks connect over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the connection pool on :class:`GuardedBackend`."""

    def __init__(self, allowed: frozenset[str], max_connections: int) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        super().__init__(limits=limits, http1=True, http2=False, retries=0)
        ssl_context = self._pool._ssl_context
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            retries=0,
            network_backend=GuardedBackend(allowed),
        )


class HttpSender:
    def __init__(
        self, *, timeout: float, allowed: frozenset[str], max_connections: int = 8
    ) -> None:
        self.timeout = timeout
        self.allowed = allowed
        self.max_connections = max_connections
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client(self, url: str) -> httpx.AsyncClient:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        client = self._clients.get(origin)
        if client is None:
            client = httpx.AsyncClient(
                transport=GuardedTransport(self.allowed, self.max_connections),
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                trust_env=False,
            )
            self._clients[origin] = client
        return client

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> Answer:
        started = time.perf_counter()
        try:
            client = self._client(url)
            async with client.stream("POST", url, content=body, headers=headers) as response:
                data = bytearray()
                async for chunk in response.aiter_raw():
                    data += chunk
                    if len(data) >= RESPONSE_LIMIT:
                        break
                return Answer(
                    status=response.status_code,
                    duration=time.perf_counter() - started,
                    body=bytes(data[:RESPONSE_LIMIT]),
                    retry_after=response.headers.get("retry-after"),
                )
        except httpx.TimeoutException as error:
            return Answer(None, time.perf_counter() - started, f"timeout ({type(error).__name__})")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as error:
            text = str(error) or type(error).__name__
            return Answer(None, time.perf_counter() - started, f"connection error: {text}"[:500])

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
