"""The whole stack as real processes, each part a handle the fault scheduler can kill.

Infrastructure: PostgreSQL (the test fixtures' throwaway cluster; never killed) or a SQLite
file, the Tansu broker (memory only), Redis (in memory, so a kill loses its data like a
FLUSHALL), an aiosmtpd receiver in this process as outbound mail's relay, and a webhook
receiver in this process (HTTP on loopback, subscribed to every event type; it answers 503
to the first attempt of about one delivery in ten, so retries happen too). Services: the
same ``helpdesk`` commands ``make run`` supervises, each a :class:`LocalProcess` on its own
loopback port (the HTTP port, the SMTP port, or the metrics port that serves ``/readyz``).
"""

from __future__ import annotations

import contextlib
import secrets
import smtplib
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.local_stack.kafka_broker import tansu_process
from services.local_stack.processes import LocalProcess, free_port, split_address
from services.local_stack.redis_server import redis_process, redis_url_for
from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from tests.fixtures.postgres import postgres_process
from tests.fixtures.smtp_relay import SmtpRelay
from tests.fixtures.webhook_receiver import Received, Receiver

SERVICES = ("http", "worker", "closer", "email", "mail", "webhooks")
"""The service parts, in start order."""
AUTO_CLOSE_SECONDS = 4
SUPPORT = "support@helpdesk.localhost"


def _readyz(address: str) -> None:
    response = httpx.get(f"http://{address}/readyz", timeout=2.0)
    if response.status_code != 200:
        raise ConnectionError(f"/readyz {response.status_code}: {response.text[:200]}")


def _smtp_noop(address: str) -> None:
    host, port = split_address(address)
    with smtplib.SMTP(host, port, timeout=2.0) as smtp:
        if smtp.noop()[0] != 250:
            raise ConnectionError("NOOP refused")


@dataclass
class Stack:
    """Every part of one soak run; ``parts`` maps a part's name to its process."""

    data_dir: Path
    database_url: str | None
    """None: the SQLite file under ``data_dir``."""
    broker: LocalProcess = field(init=False)
    redis: LocalProcess = field(init=False)
    relay: SmtpRelay = field(init=False)
    integrator: _Integrator = field(init=False)
    """Answers the webhook receiver's requests; holds the subscription's signing secret."""
    hooks: Receiver = field(init=False)
    parts: dict[str, LocalProcess] = field(init=False, default_factory=dict)
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    relay_name: str = field(default_factory=lambda: f"soak-{uuid.uuid4().hex[:8]}")
    env: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.broker = tansu_process()
        self.redis = redis_process()
        self.relay = SmtpRelay()
        self.integrator = _Integrator()
        self.hooks = Receiver(self.integrator)
        http_port, smtp_port = free_port(), free_port()
        self.env = {
            "HELPDESK_DATA_DIR": str(self.data_dir),
            "HELPDESK_JWT_SECRET": self.jwt_secret,
            "HELPDESK_KAFKA_BOOTSTRAP": self.broker.address,
            "HELPDESK_REDIS_URL": redis_url_for(self.redis.address),
            "HELPDESK_HTTP_PORT": str(http_port),
            "HELPDESK_SMTP_PORT": str(smtp_port),
            "HELPDESK_SMTP_RELAY": self.relay.address,
            "HELPDESK_SUPPORT_ADDRESS": SUPPORT,
            "HELPDESK_AUTO_CLOSE_AFTER": f"{AUTO_CLOSE_SECONDS}s",
            "HELPDESK_MAIL_RATE_LIMIT": "1000",
            "HELPDESK_SMTP_RETRY_MAX_SECONDS": "2",
            "HELPDESK_CLOSER_REBUILD_CHECK_SECONDS": "2",
            "HELPDESK_CLOSER_SESSION_TIMEOUT_MS": "6000",
            "HELPDESK_CLOSER_HEARTBEAT_INTERVAL_MS": "1000",
            "HELPDESK_OUTBOUND_MAIL_SESSION_TIMEOUT_MS": "6000",
            "HELPDESK_OUTBOUND_MAIL_HEARTBEAT_INTERVAL_MS": "1000",
            "HELPDESK_WEBHOOK_ALLOW_HTTP": "true",
            "HELPDESK_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "HELPDESK_WEBHOOK_TIMEOUT_SECONDS": "2",
            "HELPDESK_WEBHOOKS_LEASE_SECONDS": "4",
            "HELPDESK_WEBHOOKS_RETRY_FIRST_SECONDS": "0.5",
            "HELPDESK_WEBHOOKS_RETRY_CAP_SECONDS": "2",
            "HELPDESK_WEBHOOKS_SESSION_TIMEOUT_MS": "6000",
            "HELPDESK_WEBHOOKS_HEARTBEAT_INTERVAL_MS": "1000",
        }
        if self.database_url:
            self.env["HELPDESK_DATABASE_URL"] = self.database_url
        commands = {
            "http": (["tickets-http"], _readyz, http_port),
            "worker": (["tickets-worker"], _readyz, None),
            "closer": (["closer", "run"], _readyz, None),
            "email": (["email", "serve"], _smtp_noop, smtp_port),
            "mail": (["mail", "run"], _readyz, None),
            "webhooks": (["webhooks", "run"], _readyz, None),
        }
        for name, (argv, ready, port) in commands.items():
            self.parts[name] = LocalProcess(
                name,
                self._argv(argv, metrics=port is None),
                ready=ready,
                port=port,
                start_timeout=120,
            )

    def _argv(self, command: list[str], *, metrics: bool) -> _Argv:
        return _Argv(self, command, metrics)

    # ---- addresses -----------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['HELPDESK_HTTP_PORT']}"

    @property
    def smtp_address(self) -> tuple[str, int]:
        return "127.0.0.1", int(self.env["HELPDESK_SMTP_PORT"])

    @property
    def bootstrap(self) -> str:
        return self.broker.address

    def settings(self) -> Settings:
        """The settings every service process reads (for the checks' own readers)."""
        values = {k.removeprefix("HELPDESK_").lower(): v for k, v in self.env.items()}
        return Settings(**values, relay_name=self.relay_name)  # type: ignore[arg-type]

    def token(self, role: str, email: str | None = None) -> str:
        return mint_token(self.jwt_secret, role=role, email=email, sub=email or f"soak-{role}")

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self.relay.start()
        self.hooks.start()
        self.broker.start()
        self.redis.start()
        for name in SERVICES:
            self.parts[name].start()
            if name == "http":
                self._subscribe()

    def _subscribe(self) -> None:
        """The soak's webhook: every event type, to the receiver (as an integrator would)."""
        response = httpx.post(
            f"{self.api_url}/api/v1/webhooks",
            json={"url": self.hooks.url, "description": "soak"},
            headers={"Authorization": f"Bearer {self.token('admin', 'admin@soak.example')}"},
            timeout=10.0,
        )
        response.raise_for_status()
        self.integrator.secret = str(response.json()["secret"])

    def stop(self) -> None:
        for name in reversed(SERVICES):
            self.parts[name].stop()
        self.redis.stop()
        self.broker.stop()
        self.relay.stop()
        self.hooks.stop()

    def all_parts(self) -> dict[str, LocalProcess]:
        return {**self.parts, "broker": self.broker, "redis": self.redis}

    def ensure_running(self) -> None:
        """Start whatever is down (after the faults stop)."""
        for process in (self.broker, self.redis, *(self.parts[n] for n in SERVICES)):
            process.start()

    def new_relay_name(self) -> None:
        """A fresh relay position: the next worker start publishes the whole history again
        (what ``make run`` does for each fresh embedded broker)."""
        self.relay_name = f"soak-{uuid.uuid4().hex[:8]}"


class _Integrator:
    """The receiver's answers, as an integrator's endpoint gives them: 401 to a request
    whose signature does not verify (checked on arrival: ``standardwebhooks`` refuses a
    timestamp more than five minutes old, so a check at the end of a long run would fail),
    503 to the first attempt of about one delivery in ten, else 200."""

    def __init__(self) -> None:
        self.secret = ""
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, receiver: Receiver, request: Received) -> tuple[int, dict[str, str]]:
        if not self.secret or not request.verifies(self.secret):
            return 401, {}
        with self.lock:
            first = request.id not in self.seen
            self.seen.add(request.id)
        return (503, {}) if first and int(request.id[-2:], 16) % 10 == 0 else (200, {})


@dataclass
class _Argv:
    """A part's command line, read at each (re)start: the relay name may have changed."""

    stack: Stack
    command: list[str]
    metrics: bool

    def __call__(self, port: int) -> list[str]:
        env = {**self.stack.env, "HELPDESK_RELAY_NAME": self.stack.relay_name}
        if self.metrics:
            env["HELPDESK_METRICS_PORT"] = str(port)
        assignments = [f"{key}={value}" for key, value in env.items()]
        return ["env", *assignments, sys.executable, "-m", "services.cli", *self.command]


@contextmanager
def running_stack(data_dir: Path, store: str) -> Iterator[Stack]:
    """``store``: ``postgres`` or ``sqlite``. Everything is stopped on the way out."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as exits:
        database_url = None
        if store == "postgres":
            _, database_url = exits.enter_context(postgres_process())
        elif store != "sqlite":
            raise ValueError(f"unknown store {store!r} (postgres or sqlite)")
        stack = Stack(data_dir, database_url)
        exits.callback(stack.stop)
        stack.start()
        yield stack
