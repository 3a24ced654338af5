"""``helpdesk stack run`` (what ``make run`` starts): embedded broker and Redis unless
addresses are configured, then the services under a :class:`Supervisor`.

The embedded broker keeps nothing across runs, so each run gives the relay a fresh
position name: the whole event history is published again, and the consumers (closer,
email ingest, analytics), all idempotent, catch up from it. Redis keeps its data under
``HELPDESK_DATA_DIR/redis``; the closer also rebuilds its timers from the events on start.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from services.local_jwt_secret import stack_secret
from services.local_stack.kafka_broker import tansu_process
from services.local_stack.processes import LocalProcess
from services.local_stack.redis_server import redis_process, redis_url_for
from services.local_stack.supervisor import Child, Supervisor
from services.settings import Settings
from services.ticket_service.adapters.http.auth import (
    InsecureTokenSettings,
    TokenPolicy,
    mint_token,
)
from services.ticket_service.adapters.kafka.topics import ensure_topics, service_topics

TOKEN_USERS = {
    "agent": "agent@example.com",
    "supervisor": "supervisor@example.com",
    "admin": "admin@example.com",
    "owner": "owner@example.com",
    "requester": "requester@example.com",
    "integration": None,
}


@dataclass(frozen=True)
class StackInfo:
    api_url: str
    smtp: str
    kafka_bootstrap: str
    redis_url: str
    data_dir: str
    tokens: dict[str, str]

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")


def _children(settings: Settings, env: dict[str, str]) -> list[Child]:
    python = sys.executable
    helpdesk = [python, "-m", "services.cli"]
    return [
        Child("tickets-http", [*helpdesk, "tickets-http"], env),
        Child("tickets-worker", [*helpdesk, "tickets-worker"], env),
        Child("closer", [*helpdesk, "closer", "run"], env),
        Child("email", [*helpdesk, "email", "serve"], env),
    ]


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
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(update={"jwt_secret": stack_secret(settings)})
    try:
        TokenPolicy.from_settings(settings).require_secure()
    except InsecureTokenSettings as error:
        raise SystemExit(f"helpdesk stack: {error}") from None
    embedded: list[LocalProcess] = []
    env = {
        "HELPDESK_DATA_DIR": str(settings.data_dir.resolve()),
        "HELPDESK_JWT_SECRET": settings.jwt_secret,
    }
    try:
        bootstrap = settings.kafka_bootstrap
        if not bootstrap:
            broker = tansu_process().start()
            embedded.append(broker)
            bootstrap = broker.address
            env["HELPDESK_KAFKA_BOOTSTRAP"] = bootstrap
            env["HELPDESK_RELAY_NAME"] = f"{settings.relay_name}-{uuid.uuid4().hex[:12]}"
        redis_url = settings.redis_url
        if not redis_url:
            redis = redis_process(data_dir=settings.data_dir / "redis").start()
            embedded.append(redis)
            redis_url = redis_url_for(redis.address)
            env["HELPDESK_REDIS_URL"] = redis_url
        topics_settings = settings.model_copy(update={"kafka_bootstrap": bootstrap})
        asyncio.run(
            ensure_topics(
                bootstrap,
                service_topics(topics_settings),
                partitions=settings.kafka_partitions,
            )
        )
        info = StackInfo(
            api_url=f"http://{settings.http_host}:{settings.http_port}",
            smtp=f"{settings.smtp_host}:{settings.smtp_port}",
            kafka_bootstrap=bootstrap,
            redis_url=redis_url,
            data_dir=str(settings.data_dir.resolve()),
            tokens=_tokens(settings),
        )
        info.write(settings.data_dir / "stack.json")
        _banner(info, settings)
        _supervise(_children(settings, env))
    finally:
        for process in reversed(embedded):
            process.stop()


def _supervise(children: list[Child]) -> None:
    supervisor = Supervisor(children)
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopped.is_set():
            stopped.set()
            print("\nstopping…", flush=True)
            threading.Thread(target=supervisor.stop, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    supervisor.run()
    supervisor.stop()


def _banner(info: StackInfo, settings: Settings) -> None:
    lines = [
        "Helpdesk is starting.",
        f"  HTTP API      {info.api_url}   (OpenAPI UI: {info.api_url}/docs)",
        f"  SMTP          {info.smtp}   (support address {settings.support_address})",
        f"  Kafka         {info.kafka_bootstrap}   topics {settings.topic_events}, "
        f"{settings.topic_commands}, {settings.topic_dead_letter}",
        f"  Redis         {info.redis_url}",
        f"  Data          {info.data_dir}   (stack.json there has all of this)",
        f"  Auto-close    after {settings.auto_close_after}",
        "  Tokens (Authorization: Bearer …):",
        *(f"    {role:<12} {token}" for role, token in info.tokens.items()),
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)
