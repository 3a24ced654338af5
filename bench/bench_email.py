"""Email ingest throughput: messages per second through SMTP into Kafka (acks=all), the
ingest process pinned to one core, next to bare ``email.message_from_bytes`` parsing of the
same corpus in the same run (design §8: at least 500 messages/s, SMTP included, one core).

Setup: a local Tansu broker; the ingest (aiosmtpd server, parse, route, SQLite index, Kafka
producer) runs in this process pinned to CPU 0; the SMTP clients (smtplib, several
connections in threads) run in a subprocess pinned to CPU 1 so they do not take the
ingest's core. The corpus is typical support mail: new requests, quoted replies,
HTML-alternative messages, some attachments, 1-6 KB each. Replies answer
earlier tickets (seeded into the index) from their requester, so they route as comments.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import multiprocessing
import os
import pickle
import random
import resource
import smtplib
import tempfile
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from bench.report import Row
from contracts.commands import CommandEnvelope
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.ingest import IngestService
from services.email_ingest.bootstrap import run_email_ingest
from services.email_ingest.domain.addresses import SupportAddress
from services.settings import Settings
from services.ticket_service.domain.ids import ticket_id_for
from tests.fixtures.kafka import create_topics, tansu_process

MESSAGES = 4000
CONNECTIONS = 16
SUPPORT = "support@helpdesk.localhost"
WORDS = [
    "printer", "vpn", "password", "reset", "invoice", "laptop", "screen", "broken", "login",
    "error", "urgent", "please", "help", "thanks", "again", "still", "not", "working",
    "since", "yesterday", "morning", "the", "office", "network",
]  # fmt: skip
USERS = 300


def _text(rng: random.Random, words: int) -> str:
    lines, line = [], []
    for _ in range(words):
        line.append(rng.choice(WORDS))
        if len(line) == 12:
            lines.append(" ".join(line))
            line = []
    return "\n".join([*lines, " ".join(line)]).strip()


def corpus(n: int = MESSAGES, seed: int = 8) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        msg = EmailMessage()
        user = i % USERS
        msg["From"] = f"User {user} <user{user}@example.com>"
        msg["To"] = SUPPORT
        if i % 4 == 0:
            msg["Cc"] = f"colleague{i % 50}@example.com"
        msg["Date"] = formatdate()
        msg["Message-ID"] = f"<bench-{seed}-{i}@example.com>"
        kind = i % 20
        body = _text(rng, rng.randrange(40, 300))
        if kind < 5 and i > 0:
            parent = f"<bench-old-{user}@example.com>"
            msg["Subject"] = "Re: " + _text(rng, 5)
            msg["In-Reply-To"] = parent
            msg["References"] = parent
            quoted = "\n".join("> " + line for line in _text(rng, 120).splitlines())
            body = f"{body}\n\nOn Mon, 2 Mar 2026, Support <{SUPPORT}> wrote:\n{quoted}"
        else:
            msg["Subject"] = _text(rng, 6)
        msg.set_content(body)
        if kind in (6, 7, 8):
            paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
            msg.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
        if kind == 9:
            msg.add_attachment(rng.randbytes(2048), maintype="application", subtype="pdf",
                               filename="screenshot.pdf")  # fmt: skip
        out.append(bytes(msg).replace(b"\n", b"\r\n"))
    return out


def seeded_index(path: Path | str = ":memory:") -> SqliteTicketIndex:
    """An index that already knows the tickets the corpus' replies answer."""
    index = SqliteTicketIndex(path)
    index.apply_batch(
        "seed",
        [
            {
                "event_type": "TicketCreated",
                "ticket_id": str(ticket_id_for(n + 1)),
                "ticket_number": n + 1,
                "version": 1,
                "correlation_id": f"email:<bench-old-{n}@example.com>",
                "data": {
                    "number": n + 1,
                    "requester": f"user{n}@example.com",
                    "cc": [],
                    "status": "open",
                },
            }
            for n in range(USERS)
        ],
        {},
    )
    return index


def bare_parse_rate(messages: list[bytes], rounds: int = 3) -> float:
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in messages:
            email.message_from_bytes(raw)
        best = max(best, len(messages) / (time.perf_counter() - start))
    return best


class _NullPublisher:
    async def publish(self, command: CommandEnvelope) -> None:
        return None


def parse_and_route_rate(messages: list[bytes], data_dir: Path, rounds: int = 3) -> float:
    async def once(i: int) -> float:
        service = IngestService(
            index=seeded_index(),
            publisher=_NullPublisher(),
            quarantine=FileQuarantine(data_dir / f"q{i}"),
            suspended=FileSuspendedQueue(data_dir / f"s{i}"),
            support=SupportAddress(SUPPORT),
            max_bytes=25 * 1024 * 1024,
            resolve_wait=0,
        )
        start = time.perf_counter()
        for raw in messages:
            await service.ingest(raw)
        return len(messages) / (time.perf_counter() - start)

    return max(asyncio.run(once(i)) for i in range(rounds))


def _client(port: int, corpus_file: str, connections: int, cpu: int | None) -> float:
    """Subprocess body: send every message over ``connections`` SMTP sessions; seconds."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    with open(corpus_file, "rb") as f:
        messages: list[bytes] = pickle.load(f)
    shares = [messages[i::connections] for i in range(connections)]
    errors: list[str] = []

    def send(share: list[bytes]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
            for raw in share:
                refused = client.sendmail("sender@example.com", [SUPPORT], raw)
                if refused:
                    errors.append(str(refused))

    threads = [threading.Thread(target=send, args=(s,)) for s in shares]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[:3])
    return elapsed


@contextlib.contextmanager
def _pinned(cpu: int | None) -> Iterator[None]:
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def smtp_to_kafka_rate(
    bootstrap: str, messages: list[bytes], data_dir: Path
) -> tuple[float, float]:
    """(messages per wall second, messages per CPU second of this ingest process)."""
    settings = Settings(
        kafka_bootstrap=bootstrap,
        data_dir=data_dir,
        topic_events="bench-email-events",
        topic_commands="bench-email-commands",
        smtp_port=0,
        support_address=SUPPORT,
    )
    await create_topics(bootstrap, [settings.topic_events, settings.topic_commands])
    corpus_file = data_dir / "corpus.pickle"
    corpus_file.write_bytes(pickle.dumps(messages))
    cpus = sorted(os.sched_getaffinity(0))
    client_cpu = cpus[1] if len(cpus) > 1 else None
    seeded_index(data_dir / "index.sqlite3").close()
    async with run_email_ingest(settings, index_path=data_dir / "index.sqlite3") as ingest:
        # warm up (connections, producer metadata) with a few messages outside the corpus
        warm = corpus(20, seed=99)
        (data_dir / "warm.pickle").write_bytes(pickle.dumps(warm))
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            await asyncio.to_thread(
                pool.apply,
                _client,
                (ingest.smtp_port, str(data_dir / "warm.pickle"), 2, client_cpu),
            )
            cpu_before = _cpu_seconds()
            elapsed = await asyncio.to_thread(
                pool.apply,
                _client,
                (ingest.smtp_port, str(corpus_file), CONNECTIONS, client_cpu),
            )
            cpu = _cpu_seconds() - cpu_before
    return len(messages) / elapsed, len(messages) / cpu


def run() -> list[Row]:
    messages = corpus()
    size = sum(len(m) for m in messages) / len(messages)
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp, tansu_process() as kafka:
        data_dir = Path(tmp)
        with _pinned(cpus[0] if len(cpus) > 1 else None):
            bare = bare_parse_rate(messages)
            routed = parse_and_route_rate(messages, data_dir)
            smtp, smtp_per_cpu = asyncio.run(smtp_to_kafka_rate(kafka.address, messages, data_dir))
    note = (
        f"{len(messages)} typical mails (avg {size / 1024:.1f} KiB), {CONNECTIONS} SMTP "
        "connections; ingest pinned to 1 core, clients on another; Tansu broker, acks=all"
    )
    return [
        Row(
            "email",
            "emails/s SMTP → parse → route → Kafka",
            smtp,
            "msg/s",
            "bare email.message_from_bytes",
            bare,
            "≥ 500 msg/s",
            note,
        ),
        Row(
            "email",
            "emails per CPU-second of the ingest process",
            smtp_per_cpu,
            "msg/cpu-s",
            "bare email.message_from_bytes",
            bare,
            "≥ 500 msg/s",
            "same run as above: ingest CPU time (SMTP, parse, route, index, Kafka client); "
            "wall rate is also bounded by the clients and broker sharing the other core",
        ),
        Row(
            "email",
            "emails/s parse + route (no SMTP, no Kafka)",
            routed,
            "msg/s",
            "bare email.message_from_bytes",
            bare,
            "",
            "same corpus, in process, publisher stubbed",
        ),
    ]
