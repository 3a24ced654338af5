"""The audit read from the Kafka events topic equals the audit read from the store, byte
for byte, on a real broker: random histories, a keyed topic with several partitions, and
repeated deliveries (the relay publishes at least once)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from services.cli import app as cli
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.sla.facts import Fact
from services.ticket_service.sla.sources.kafka import KafkaReadStats, kafka_facts
from services.ticket_service.sla.sources.store import read_notifications, store_facts
from tests.fixtures.kafka import create_topics
from tests.unit.sla.history import OPS, History, apply_ops, new_app, report_text


def random_history(seed: int, tmp: Path, size: int = 150) -> TicketApplication:
    rng = random.Random(seed)
    ops = [(rng.choice(OPS), rng.randint(0, 1000), rng.randint(1, 3000)) for _ in range(size)]
    h = History(new_app(tmp))
    apply_ops(h, ops)
    return h.app


async def publish(app: TicketApplication, bootstrap: str, topic: str, seed: int) -> int:
    """Publish the log's envelopes keyed by ticket id; now and then send the last few
    again, as a relay that resumes from an older position would."""
    rng = random.Random(seed)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent: list[tuple[bytes, bytes]] = []
    try:
        for n in read_notifications(app):
            envelope = to_envelope(app.mapper.to_domain_event(n))
            if envelope is None:
                continue
            sent.append((str(envelope.ticket_id).encode(), envelope.model_dump_json().encode()))
            batch = [sent[-1]]
            if rng.random() < 0.15:
                batch += sent[-rng.randint(1, 4) :]
            for key, value in batch:
                await producer.send_and_wait(topic, value, key=key)
        await producer.send_and_wait(topic, b"not an envelope", key=b"junk")
    finally:
        await producer.stop()
    return len(sent)


async def read_topic(bootstrap: str, topic: str) -> tuple[list[Fact | None], KafkaReadStats]:
    stats = KafkaReadStats()
    facts = [fact async for fact in kafka_facts(bootstrap, topic, stats=stats)]
    return facts, stats


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_kafka_audit_equals_store_audit(
    kafka_bootstrap: str, kafka_topic_prefix: str, seed: int, tmp_path: Path
) -> None:
    app = random_history(seed, tmp_path)
    topic = f"{kafka_topic_prefix}ticket-events"
    await create_topics(kafka_bootstrap, [topic], partitions=3)
    published = await publish(app, kafka_bootstrap, topic, seed)

    facts, stats = await read_topic(kafka_bootstrap, topic)

    assert stats.unreadable == 1
    assert stats.messages >= published + 1
    for fmt in ("csv", "jsonl", "table"):
        assert report_text(facts, fmt=fmt) == report_text(store_facts(app), fmt=fmt, repeats=False)
    # Reading again gives the same report (nothing was consumed or committed).
    again, _ = await read_topic(kafka_bootstrap, topic)
    assert report_text(again) == report_text(facts)


async def test_cli_prints_the_same_bytes_from_both_sources(
    kafka_bootstrap: str, kafka_topic_prefix: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    app = random_history(7, data_dir, size=80)
    topic = f"{kafka_topic_prefix}ticket-events"
    await create_topics(kafka_bootstrap, [topic], partitions=4)
    await publish(app, kafka_bootstrap, topic, 7)

    env = {
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_DATABASE_URL": "",
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_TOPIC_EVENTS": topic,
    }
    outputs = {}
    for source in ("store", "kafka"):
        out = tmp_path / f"{source}.csv"
        result = await _invoke(
            ["sla", "audit", "--source", source, "--format", "csv", "-o", str(out)], env
        )
        assert result.exit_code == 0, result.output
        outputs[source] = out.read_bytes()
    assert outputs["store"] == outputs["kafka"]
    assert outputs["store"].count(b"\n") > 10


async def _invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run the CLI in a worker thread: it runs its own event loop for the Kafka read."""
    import asyncio

    return await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)
