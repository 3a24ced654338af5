"""HTTP create+update throughput at fixed concurrency against a real uvicorn server on
loopback, next to the bare eventsourcing baseline (one save per command, SQLite file)
measured in the same run; with p50/p99 request latency, the server's CPU time per
request (what bounds the rate on a small machine) and the mean number of commands the
server's group commit saved per store transaction (read from its ``/metrics``)."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from bench.baseline import bare_commands_per_second
from bench.report import Row
from services.ticket_service.adapters.http.auth import mint_token
from tests.fixtures.processes import LocalProcess
from tests.fixtures.ticket_processes import SECRET, http_process

CONCURRENCY = 16
PAIRS = 1500
"""Each pair is one POST /api/v1/tickets and one PATCH /api/v1/tickets/{n}."""
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "1"))
SCALE_OUT = 2
"""Processes of the scale-out figure (``--workers``), measured in the same run."""


def _server(data_dir: Path, workers: int = WORKERS) -> LocalProcess:
    return http_process(data_dir, workers=workers)


def _floor_server() -> LocalProcess:
    """uvicorn serving :mod:`bench.fastapi_floor` with the service's options (uvloop,
    httptools, no access log): what FastAPI itself costs for the same two routes."""

    def argv(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.fastapi_floor:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def ready(address: str) -> None:
        httpx.get(f"http://{address}/healthz", timeout=1.0).raise_for_status()

    return LocalProcess("fastapi-floor", argv, ready=ready, cwd=Path(__file__).resolve().parents[1])


class Connection:
    """A minimal keep-alive HTTP/1.1 client over asyncio streams: the load generator
    shares the machine with the server, so it must cost far less than the server does
    per request (httpx costs about as much as the server here)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def request(
        self, method: str, path: str, body: dict[str, object] | None, token: str
    ) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        content = await self.reader.readexactly(length)
        return int(status_line.split()[1]), content

    def close(self) -> None:
        self.writer.close()


async def _load(address: str) -> tuple[float, list[float]]:
    token = mint_token(SECRET, role="agent", email="bench@example.com")
    host, _, port = address.rpartition(":")
    latencies: list[float] = []
    remaining = PAIRS

    async def timed(
        conn: Connection, method: str, path: str, body: dict[str, object] | None
    ) -> bytes:
        start = time.perf_counter()
        status, content = await conn.request(method, path, body, token)
        latencies.append(time.perf_counter() - start)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {content[:200]!r}")
        return content

    async def worker(conn: Connection) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            created = await timed(
                conn, "POST", "/api/v1/tickets", {"subject": "Bench", "requester": "r@example.com"}
            )
            number = json.loads(created)["number"]
            await timed(conn, "PATCH", f"/api/v1/tickets/{number}", {"status": "open"})

    conns = [await Connection.open(host, int(port)) for _ in range(CONCURRENCY)]
    try:
        await asyncio.gather(*(timed(c, "GET", "/healthz", None) for c in conns))
        latencies.clear()
        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        elapsed = time.perf_counter() - start
    finally:
        for c in conns:
            c.close()
    return len(latencies) / elapsed, latencies


def _cpu_seconds(process: psutil.Process) -> float:
    """CPU time of the server and its workers (user + system)."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


GROUP_METRICS = ("helpdesk_http_group_commits_total", "helpdesk_http_group_commit_commands_total")


def _group_counters(address: str) -> tuple[float, float]:
    """(transactions, commands) of the server's group commit, from ``GET /metrics``."""
    text = httpx.get(f"http://{address}/metrics", timeout=5.0).text
    values = {
        name: float(value)
        for name, _, value in (line.partition(" ") for line in text.splitlines())
        if name in GROUP_METRICS
    }
    return values[GROUP_METRICS[0]], values[GROUP_METRICS[1]]


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        before = bare_commands_per_second(str(root / "baseline-1.sqlite3"), PAIRS * 2)
        with _server(root / "http") as server:
            process = psutil.Process(server.pid)
            groups_before = _group_counters(server.address)
            cpu_before = _cpu_seconds(process)
            rate, latencies = asyncio.run(_load(server.address))
            server_cpu_ms = (_cpu_seconds(process) - cpu_before) * 1000 / len(latencies)
            groups_after = _group_counters(server.address)
        with _server(root / "http-scaled", SCALE_OUT) as server:
            scaled_rate, _ = asyncio.run(_load(server.address))
        with _floor_server() as server:
            process = psutil.Process(server.pid)
            cpu_before = _cpu_seconds(process)
            floor_rate, floor_latencies = asyncio.run(_load(server.address))
            floor_cpu_ms = (_cpu_seconds(process) - cpu_before) * 1000 / len(floor_latencies)
        after = bare_commands_per_second(str(root / "baseline-2.sqlite3"), PAIRS * 2)
        baseline = (before + after) / 2
    transactions = groups_after[0] - groups_before[0]
    commands_per_transaction = (groups_after[1] - groups_before[1]) / max(transactions, 1)
    q = statistics.quantiles(latencies, n=100)
    note = (
        f"{PAIRS} creates + {PAIRS} updates, {CONCURRENCY} keep-alive connections, uvicorn "
        f"({WORKERS} process, uvloop + httptools) on loopback, SQLite file; load generator "
        "on the same cores; baseline = mean of runs before and after"
    )
    rows = [
        Row(
            "http",
            "HTTP create+update commands/s",
            rate,
            "commands/s",
            "bare eventsourcing, 1 save/command",
            baseline,
            ">= 0.5x baseline",
            note,
        ),
        Row(
            "http",
            f"HTTP create+update commands/s, --workers {SCALE_OUT}",
            scaled_rate,
            "commands/s",
            "bare eventsourcing, 1 save/command",
            baseline,
            note=f"the same load against {SCALE_OUT} uvicorn worker processes on one SQLite "
            "file (each with its own group commit); load generator on the same 2 cores",
        ),
        Row("http", "HTTP request latency p50", q[49] * 1000, "ms", note=note),
        Row("http", "HTTP request latency p99", q[98] * 1000, "ms", note=note),
        Row("http", "server CPU per request", server_cpu_ms, "ms", note=note),
        Row(
            "http",
            "FastAPI floor: empty routes, requests/s",
            floor_rate,
            "requests/s",
            "HTTP create+update commands/s",
            rate,
            note="bench/fastapi_floor.py: the same two operations declared like the API's "
            "(pydantic body, bearer dependency, header/path parameter) doing nothing, same "
            "uvicorn options and load; ratio = floor / ticket routes",
        ),
        Row(
            "http",
            "FastAPI floor: server CPU per request",
            floor_cpu_ms,
            "ms",
            "server CPU per request",
            server_cpu_ms,
            note="what FastAPI and uvicorn cost with no work; ratio = floor / ticket routes",
        ),
    ]
    if WORKERS == 1:  # with several workers /metrics answers for one of them only
        rows.append(
            Row(
                "http",
                "commands per store transaction (group commit)",
                commands_per_transaction,
                "commands/transaction",
                note=f"mean over the same run: {PAIRS * 2} commands in {transactions:.0f} "
                "transactions; concurrent POST/PATCH requests share one save",
            )
        )
    return rows
