"""``helpdesk stack run`` (what ``make run`` starts): embedded broker and Redis unless
addresses are configured, then the services under a :class:`Supervisor`.

One stack per data directory (``stack.lock`` there holds the supervisor's pid). The embedded
broker and Redis listen on stable ports (``HELPDESK_STACK_KAFKA_PORT``, 19092, and
``HELPDESK_STACK_REDIS_PORT``, 16379; a free port, said so, when one is taken), and
``stack.json`` in the data directory records every address: ``helpdesk`` commands read it
when no setting is exported (``helpdesk stack env`` prints the export lines). Its
``status`` is ``starting`` until every service serves — HTTP ready, the ticket workers,
the closer, outbound mail and the webhook dispatcher joined their consumer groups, the
closer's timers rebuilt, SMTP answering — then ``ready`` (and one ``Helpdesk is ready``
line is printed), ``stopped`` after a clean stop. Outbound mail goes to
``HELPDESK_SMTP_RELAY`` when it is set, else to the outbox Maildir ``<data dir>/outbox``.
Webhook targets may be http here (``HELPDESK_WEBHOOK_ALLOW_HTTP``).

The embedded broker keeps nothing across runs (memory storage), so each run gives the relay
a fresh position name: the whole event history is published again, and the consumers
(closer, email ingest, analytics), all idempotent, catch up from it. Dead letters are also
kept in the ticket store, so they survive. Redis keeps its data under
``HELPDESK_DATA_DIR/redis``; the closer also rebuilds its timers from the events on start.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import smtplib
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx

from services.kafka_setup import ensure_topics, service_topics
from services.local_jwt_secret import stack_secret
from services.local_stack.kafka_broker import tansu_process
from services.local_stack.processes import LocalProcess, free_port, port_is_free, preferred_port
from services.local_stack.redis_server import redis_process, redis_url_for
from services.local_stack.stack_lock import stack_lock
from services.local_stack.supervisor import Child, Supervisor
from services.operator_errors import OperatorError
from services.outbound_mail.bootstrap import outbox_dir
from services.settings import STACK_FILE, Settings
from services.ticket_service.adapters.http.auth import (
    InsecureTokenSettings,
    TokenPolicy,
    mint_token,
)

TOKEN_USERS = {
    "agent": "agent@example.com",
    "supervisor": "supervisor@example.com",
    "admin": "admin@example.com",
    "owner": "owner@example.com",
    "requester": "requester@example.com",
    "integration": None,
}
READY_LINE = "Helpdesk is ready"


@dataclass
class StackInfo:
    api_url: str
    smtp: str
    kafka_bootstrap: str
    redis_url: str
    data_dir: str
    tokens: dict[str, str]
    env: dict[str, str]
    """The ``HELPDESK_*`` settings that reach this stack from outside (``helpdesk stack
    env``; every ``helpdesk`` command reads the addresses from here when unset)."""
    health: dict[str, str] = field(default_factory=dict)
    """Each service's readiness endpoint (or address)."""
    pid: int = field(default_factory=os.getpid)
    status: str = "starting"
    ready_at: str | None = None

    def write(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        temporary.replace(path)


def _children(settings: Settings, env: dict[str, str]) -> tuple[list[Child], dict[str, str]]:
    python = sys.executable
    helpdesk = [python, "-m", "services.cli"]
    api = f"http://{settings.http_host}:{settings.http_port}"
    worker_port, closer_port, mail_port = free_port(), free_port(), free_port()
    webhooks_port = free_port()
    webhooks_health = f"http://{settings.http_host}:{webhooks_port}/readyz"
    worker_health = f"http://{settings.http_host}:{worker_port}/readyz"
    closer_health = f"http://{settings.http_host}:{closer_port}/readyz"
    mail_health = f"http://{settings.http_host}:{mail_port}/readyz"
    health = {
        "tickets-http": f"{api}/readyz",
        "tickets-worker": worker_health,
        "closer": closer_health,
        "email": f"smtp://{settings.smtp_host}:{settings.smtp_port}",
        "mail": mail_health,
        "webhooks": webhooks_health,
    }
    children = [
        Child("tickets-http", [*helpdesk, "tickets-http"], env, ready=lambda: _http_ok(api)),
        Child(
            "tickets-worker",
            [*helpdesk, "tickets-worker"],
            {**env, "HELPDESK_METRICS_PORT": str(worker_port)},
            ready=lambda: _get_ok(worker_health),
        ),
        Child(
            "closer",
            [*helpdesk, "closer", "run"],
            {**env, "HELPDESK_METRICS_PORT": str(closer_port)},
            ready=lambda: _get_ok(closer_health),
        ),
        Child(
            "email",
            [*helpdesk, "email", "serve"],
            env,
            ready=lambda: _smtp_ok(settings.smtp_host, settings.smtp_port),
        ),
        Child(
            "mail",
            [*helpdesk, "mail", "run"],
            {**env, "HELPDESK_METRICS_PORT": str(mail_port)},
            ready=lambda: _get_ok(mail_health),
        ),
        Child(
            "webhooks",
            [*helpdesk, "webhooks", "run"],
            {**env, "HELPDESK_METRICS_PORT": str(webhooks_port)},
            ready=lambda: _get_ok(webhooks_health),
        ),
    ]
    return children, health


def _get_ok(url: str) -> bool:
    return httpx.get(url, timeout=2.0).status_code == 200


def _http_ok(api: str) -> bool:
    return _get_ok(f"{api}/readyz")


def _smtp_ok(host: str, port: int) -> bool:
    with smtplib.SMTP(host, port, timeout=2.0) as smtp:
        return smtp.noop()[0] == 250


def _tokens(settings: Settings) -> dict[str, str]:
    return {
        role: mint_token(
            settings.jwt_secret,
            role=role,
            email=email,
            sub=email or "local-integration",
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        for role, email in TOKEN_USERS.items()
    }


def run_stack(settings: Settings) -> None:
    """Run the stack until SIGINT/SIGTERM; raises ``StackAlreadyRunning`` when another
    stack holds the data directory."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(update={"jwt_secret": stack_secret(settings)})
    try:
        TokenPolicy.from_settings(settings).require_secure()
    except InsecureTokenSettings as error:
        raise SystemExit(f"helpdesk stack: {error}") from None
    with stack_lock(settings.data_dir):
        _run_locked(settings)


def _check_service_ports(settings: Settings) -> None:
    """The services' own ports are fixed settings: a taken one is said now, naming the
    setting, rather than as a service restarting on "address already in use"."""
    for setting, host, port in (
        ("HELPDESK_HTTP_PORT", settings.http_host, settings.http_port),
        ("HELPDESK_SMTP_PORT", settings.smtp_host, settings.smtp_port),
    ):
        if host in ("127.0.0.1", "localhost") and not port_is_free(port):
            raise OperatorError(
                f"port {port} ({setting}) is taken by another program; stop it or set "
                f"{setting} to a free port"
            )


def _mark_previous_run_stopped(path: Path) -> None:
    """We hold the lock, so the run a leftover ``stack.json`` describes is over (killed
    before it could say so): nobody waiting for ``ready`` may take it for this run."""
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if isinstance(recorded, dict) and recorded.get("status") != "stopped":
        recorded["status"] = "stopped"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(recorded, indent=2) + "\n")
        temporary.replace(path)


def _run_locked(settings: Settings) -> None:
    path = settings.data_dir / STACK_FILE
    _mark_previous_run_stopped(path)
    _check_service_ports(settings)
    embedded: list[LocalProcess] = []
    data_dir = str(settings.data_dir.resolve())
    env = {
        "HELPDESK_DATA_DIR": data_dir,
        "HELPDESK_JWT_SECRET": settings.jwt_secret,
        # Local receivers are http: allowed here (the setting still wins when exported).
        "HELPDESK_WEBHOOK_ALLOW_HTTP": os.environ.get("HELPDESK_WEBHOOK_ALLOW_HTTP", "true"),
    }
    info: StackInfo | None = None
    try:
        bootstrap = settings.kafka_bootstrap
        if not bootstrap:
            port = preferred_port(settings.stack_kafka_port, "embedded Kafka broker", _say)
            broker = tansu_process(port, die_with_parent=True).start()
            embedded.append(broker)
            bootstrap = broker.address
            env["HELPDESK_RELAY_NAME"] = f"{settings.relay_name}-{uuid.uuid4().hex[:12]}"
        env["HELPDESK_KAFKA_BOOTSTRAP"] = bootstrap
        redis_url = settings.redis_url
        if not redis_url:
            port = preferred_port(settings.stack_redis_port, "embedded Redis", _say)
            redis = redis_process(
                port, data_dir=settings.data_dir / "redis", die_with_parent=True
            ).start()
            embedded.append(redis)
            redis_url = redis_url_for(redis.address)
        env["HELPDESK_REDIS_URL"] = redis_url
        topics_settings = settings.model_copy(update={"kafka_bootstrap": bootstrap})
        asyncio.run(ensure_topics(bootstrap, service_topics(topics_settings)))
        children, health = _children(settings, env)
        info = StackInfo(
            api_url=f"http://{settings.http_host}:{settings.http_port}",
            smtp=f"{settings.smtp_host}:{settings.smtp_port}",
            kafka_bootstrap=bootstrap,
            redis_url=redis_url,
            data_dir=data_dir,
            tokens=_tokens(settings),
            env={
                "HELPDESK_DATA_DIR": data_dir,
                "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
                "HELPDESK_REDIS_URL": redis_url,
                "HELPDESK_HTTP_PORT": str(settings.http_port),
                "HELPDESK_SMTP_PORT": str(settings.smtp_port),
            },
            health=health,
        )
        info.write(path)
        _banner(info, settings)
        ready_info = info

        def ready() -> None:
            ready_info.status = "ready"
            ready_info.ready_at = datetime.now(UTC).isoformat()
            ready_info.write(path)
            _say(f"{READY_LINE}: {ready_info.api_url} — every service serves (Ctrl-C stops).")

        _supervise(children, ready)
    finally:
        for process in reversed(embedded):
            process.stop()
        if info is not None:
            info.status = "stopped"
            info.write(path)


def _say(line: str) -> None:
    print(line, flush=True)


def _supervise(children: list[Child], on_ready: Callable[[], None]) -> None:
    supervisor = Supervisor(children)
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopped.is_set():
            stopped.set()
            print("\nstopping…", flush=True)
            threading.Thread(target=supervisor.stop, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    supervisor.run(on_ready)
    supervisor.stop()


def sign_in_links(info: StackInfo) -> dict[str, str]:
    """A sign-in link per role with a page (the console, or the help center for
    requesters); integrations have none."""
    return {
        role: f"{info.api_url}/{'help' if role == 'requester' else 'agent'}/sign-in#token={token}"
        for role, token in info.tokens.items()
        if role != "integration"
    }


def _banner(info: StackInfo, settings: Settings) -> None:
    lines = [
        "Helpdesk is starting (a 'Helpdesk is ready' line follows once every service serves).",
        f"  HTTP API      {info.api_url}   (OpenAPI UI: {info.api_url}/docs)",
        f"  SMTP          {info.smtp}   (support address {settings.support_address})",
        f"  Kafka         {info.kafka_bootstrap}   topics {settings.topic_events}, "
        f"{settings.topic_commands}, {settings.topic_dead_letter}",
        f"  Redis         {info.redis_url}",
        f"  Outbound mail {settings.smtp_relay or outbox_dir(settings)}"
        + ("" if settings.smtp_relay else "   (`helpdesk mail outbox list|show`)"),
        f"  Data          {info.data_dir}   (stack.json there has all of this; "
        "`helpdesk stack env` prints the settings)",
        f"  Auto-close    after {settings.auto_close_after}",
        "  Tokens (Authorization: Bearer …):",
        *(f"    {role:<12} {token}" for role, token in info.tokens.items()),
        "  Sign in in a browser (the token stays in the fragment, out of server logs):",
        *(f"    {role:<12} {link}" for role, link in sign_in_links(info).items()),
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)
